"""The SMTP plugin in submission mode (587 STARTTLS, 465 implicit TLS):
AUTH PLAIN/LOGIN through the host, the tenant's smtp switch, envelope
sender ownership, local delivery, remote recipients refused for now."""
import base64
import os
import smtplib
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petrel_testlib as T  # noqa: E402
from smtp_util import body_of, client_tls_context, reply, split_trace, stored  # noqa: E402

ALICE, ALICE_PW = "alice@example.org", "alice-secret"


def cmd(c, line):
    c.send(line + "\r\n")
    return reply(c)


def b64(s):
    return base64.b64encode(s.encode()).decode()


class SmtpSubmission(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = T.Petreld([
            ("sub", "smtp", "starttls", {"mode": "submission"}),
            ("smtps", "smtp", "implicit", {"mode": "submission", "max_auth_failures": "2"}),
        ])
        d = cls.d.start()
        d.add_user(ALICE, ALICE_PW)
        d.add_user("bob@example.org", "bob-secret")
        d.add_user("ivy@imaponly.test", "ivy-secret", protocols="imap")
        d.ctl("alias", "add", "sales@example.org", ALICE)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def login(self):
        s = smtplib.SMTP("127.0.0.1", self.d.ports["sub"], timeout=10)
        s.starttls(context=client_tls_context())
        s.login(ALICE, ALICE_PW)
        return s

    def test_starttls_auth_and_deliver(self):
        b0 = len(stored(self.d, "bob@example.org"))
        s = smtplib.SMTP("127.0.0.1", self.d.ports["sub"], timeout=10)
        s.ehlo("laptop.example")
        self.assertTrue(s.has_extn("starttls"))
        s.starttls(context=client_tls_context())
        s.ehlo("laptop.example")
        self.assertFalse(s.has_extn("starttls"))
        self.assertIn("PLAIN", s.esmtp_features["auth"])
        self.assertIn("LOGIN", s.esmtp_features["auth"])
        code, text = s.login(ALICE, ALICE_PW)
        self.assertEqual(code, 235)
        msg = b"From: alice@example.org\r\nSubject: sub\r\n\r\nsubmitted\r\n"
        s.sendmail(ALICE, ["bob@example.org"], msg)
        s.quit()
        b = stored(self.d, "bob@example.org")
        self.assertEqual(len(b), b0 + 1)
        trace, body = split_trace(b[-1])
        self.assertEqual(body, msg)
        self.assertIn(b"with ESMTPSA id", trace)
        self.assertIn(b"using TLSv1.3 with cipher", trace)

    def test_auth_required(self):
        c = T.LineClient(self.d.ports["sub"])
        reply(c)
        cmd(c, "EHLO laptop.example")
        code, lines = cmd(c, "MAIL FROM:<%s>" % ALICE)
        self.assertTrue(lines[0].startswith("530 5.7.0"), lines)
        c.close()

    def test_auth_login_and_bad_password(self):
        c = T.LineClient(self.d.ports["sub"])
        reply(c)
        cmd(c, "EHLO laptop.example")  # loopback: plaintext allowed without TLS
        code, lines = cmd(c, "AUTH PLAIN " + b64("\0%s\0wrong" % ALICE))
        self.assertTrue(lines[0].startswith("535 5.7.8"), lines)
        self.assertEqual(cmd(c, "AUTH LOGIN")[1], ["334 " + b64("Username:")])
        self.assertEqual(cmd(c, b64(ALICE))[1], ["334 " + b64("Password:")])
        code, lines = cmd(c, b64(ALICE_PW))
        self.assertEqual(code, 235, lines)
        self.assertEqual(cmd(c, "AUTH PLAIN")[0], 503)  # already authenticated
        self.assertEqual(cmd(c, "MAIL FROM:<%s>" % ALICE)[0], 250)
        c.close()

    def test_auth_cancel_and_unknown_mechanism(self):
        c = T.LineClient(self.d.ports["sub"])
        reply(c)
        cmd(c, "EHLO laptop.example")
        self.assertEqual(cmd(c, "AUTH CRAM-MD5")[0], 504)
        self.assertEqual(cmd(c, "AUTH PLAIN")[0], 334)
        self.assertEqual(cmd(c, "*")[0], 501)
        self.assertEqual(cmd(c, "NOOP")[0], 250)
        c.close()

    def test_tenant_without_smtp(self):
        c = T.LineClient(self.d.ports["sub"])
        reply(c)
        cmd(c, "EHLO laptop.example")
        code, lines = cmd(c, "AUTH PLAIN " + b64("\0ivy@imaponly.test\0ivy-secret"))
        self.assertEqual(code, 535, lines)
        self.assertEqual(cmd(c, "MAIL FROM:<ivy@imaponly.test>")[0], 530)
        c.close()

    def test_sender_must_be_owned(self):
        a0 = len(stored(self.d, ALICE))
        s = self.login()
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            s.sendmail("bob@example.org", [ALICE], b"Subject: spoof\r\n\r\nx\r\n")
        self.assertEqual(cm.exception.smtp_code, 553)
        s.rset()
        # an alias that delivers to the user, any case: allowed
        s.sendmail("Sales@Example.org", [ALICE], b"Subject: alias\r\n\r\nx\r\n")
        s.quit()
        a = stored(self.d, ALICE)
        self.assertEqual(len(a), a0 + 1)
        self.assertIn(b"Return-Path: <Sales@Example.org>", a[-1])

    def test_remote_recipient_not_yet(self):
        s = self.login()
        s.mail(ALICE)
        code, text = s.rcpt("friend@remote.test")
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.3.2", text)
        self.assertEqual(s.rcpt(ALICE)[0], 250)
        s.quit()

    def test_implicit_tls_and_auth_failures(self):
        s = smtplib.SMTP_SSL("127.0.0.1", self.d.ports["smtps"], timeout=10,
                             context=client_tls_context())
        s.ehlo("laptop.example")
        s.login(ALICE, ALICE_PW)
        msg = b"Subject: 465\r\n\r\nimplicit\r\n"
        a0 = len(stored(self.d, ALICE))
        s.sendmail(ALICE, [ALICE], msg)
        s.quit()
        self.assertEqual(body_of(stored(self.d, ALICE)[a0]), msg)
        s = smtplib.SMTP_SSL("127.0.0.1", self.d.ports["smtps"], timeout=10,
                             context=client_tls_context())
        s.ehlo("laptop.example")
        for _ in range(2):
            code, _ = s.docmd("AUTH", "PLAIN " + b64("\0%s\0bad" % ALICE))
            self.assertEqual(code, 535)
        code, text = s.getreply()  # max_auth_failures = 2: 421, then closed
        self.assertEqual(code, 421, text)
        s.close()

    def test_swaks_tls_auth(self):
        b0 = len(stored(self.d, "bob@example.org"))
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.d.ports["sub"]),
                            "--tls", "--auth", "LOGIN", "--auth-user", ALICE,
                            "--auth-password", ALICE_PW, "--from", ALICE,
                            "--to", "bob@example.org", "--header", "Subject: swaks-tls",
                            "--body", "via swaks"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr)
        b = stored(self.d, "bob@example.org")
        self.assertEqual(len(b), b0 + 1)
        self.assertIn(b"Subject: swaks-tls", b[-1])
        self.assertIn(b"with ESMTPSA", b[-1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
