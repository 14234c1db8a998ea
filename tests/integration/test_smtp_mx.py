"""The SMTP plugin in mx mode, driven by smtplib, swaks, curl and raw sockets;
every accepted message is checked in the store (petrelctl export)."""
import os
import smtplib
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petrel_testlib as T  # noqa: E402
from smtp_util import body_of, reply, split_trace, stored  # noqa: E402


class SmtpMx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = T.Petreld([("mx", "smtp", "none", {"mode": "mx", "max_message_size": "1M"}),
                           ("ex", "example", "none", {})])
        cls.d.start()
        d = cls.d
        for u in ("alice@example.org", "bob@example.org", "carol@example.org",
                  "full@example.org", "dave@other.test"):
            d.add_user(u, "pw-" + u)
        d.ctl("alias", "add", "team@example.org", "alice@example.org,bob@example.org")
        d.ctl("mailbox", "create", "carol@example.org", "lists")
        d.ctl("user", "set", "full@example.org", "--max-messages", "1")
        d.ctl("deliver", "full@example.org", input="Subject: fill\n\nx\n")
        d.add_user("eve@suspended.test", "pw")
        d.ctl("tenant", "set", "suspended.test", "--suspend")
        cls.port = d.ports["mx"]

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=10)
        s.ehlo("client.example")
        return s

    def raw(self, helo=True):
        c = T.LineClient(self.port)
        self.assertTrue(c.line().startswith("220 "))
        if helo:
            self.assertEqual(reply_cmd(c, "EHLO client.example")[0], 250)
        return c

    def test_ehlo_extensions(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=10)
        code, _ = s.ehlo("client.example")
        self.assertEqual(code, 250)
        for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8",
                    "chunking", "binarymime", "dsn"):
            self.assertTrue(s.has_extn(ext), ext)
        self.assertEqual(s.esmtp_features["size"], str(1 << 20))
        self.assertFalse(s.has_extn("auth"))      # no AUTH on port 25
        self.assertFalse(s.has_extn("starttls"))  # this listener has no TLS
        s.quit()

    def test_deliver_with_trace_headers(self):
        before = len(stored(self.d, "alice@example.org"))
        s = self.smtp()
        msg = b"From: x@remote.test\r\nSubject: hello\r\n\r\nline one\r\nline two\r\n"
        s.sendmail("x@remote.test", ["alice@example.org"], msg)
        s.quit()
        msgs = stored(self.d, "alice@example.org")
        self.assertEqual(len(msgs), before + 1)
        trace, body = split_trace(msgs[-1])
        self.assertEqual(body, msg)
        self.assertIn(b"Return-Path: <x@remote.test>\r\n", trace)
        # 127.0.0.1 is "localhost" in /etc/hosts, and localhost resolves back to it
        self.assertIn(b"Received: from client.example (localhost [127.0.0.1])", trace)
        self.assertIn(b"by mail.test (Petrel) with ESMTP id ", trace)
        self.assertIn(b"for <alice@example.org>", trace)

    def test_several_recipients_one_copy_each(self):
        a0 = len(stored(self.d, "alice@example.org"))
        b0 = len(stored(self.d, "bob@example.org"))
        s = self.smtp()
        msg = b"Subject: team\r\n\r\nto everybody\r\n"
        refused = s.sendmail("x@remote.test", ["alice@example.org", "team@example.org",
                                               "BOB@Example.org", "dave@other.test"], msg)
        s.quit()
        self.assertEqual(refused, {})
        a = stored(self.d, "alice@example.org")
        b = stored(self.d, "bob@example.org")
        self.assertEqual(len(a), a0 + 1)  # reached twice (direct and alias): one copy
        self.assertEqual(len(b), b0 + 1)
        self.assertEqual(body_of(a[-1]), msg)
        self.assertNotIn(b"\tfor <", a[-1])  # never list several recipients
        self.assertEqual(body_of(stored(self.d, "dave@other.test")[-1]), msg)

    def test_delivery_wakes_watchers(self):
        w = T.LineClient(self.d.ports["ex"])
        w.line()
        self.assertTrue(w.cmd("LOGIN bob@example.org pw-bob@example.org").startswith("+OK"))
        self.assertEqual(w.cmd("WATCH"), "+OK watching INBOX")
        t0 = time.time()
        s = self.smtp()
        s.sendmail("x@remote.test", ["bob@example.org"], b"Subject: wake\r\n\r\nup\r\n")
        self.assertEqual(w.line(), "* INBOX changed")  # IMAP IDLE's wake-up, at once
        self.assertLess(time.time() - t0, 1.0)
        s.quit()
        w.close()

    def test_unknown_user(self):
        c = self.raw()
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test>")[0], 250)
        code, lines = reply_cmd(c, "RCPT TO:<nobody@example.org>")
        self.assertEqual(code, 550)
        self.assertTrue(lines[0].startswith("550 5.1.1 "), lines)
        code, lines = reply_cmd(c, "DATA")
        self.assertEqual(code, 503)
        c.close()

    def test_never_relays(self):
        c = self.raw()
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test>")[0], 250)
        code, lines = reply_cmd(c, "RCPT TO:<someone@remote.test>")
        self.assertTrue(lines[0].startswith("554 5.7.1 "), lines)
        # a local domain's unknown user is still "no such user"
        self.assertTrue(reply_cmd(c, "RCPT TO:<nobody@example.org>")[1][0].startswith("550 5.1.1"))
        self.assertEqual(reply_cmd(c, "DATA")[0], 503)
        c.close()

    def test_suspended_tenant(self):
        c = self.raw()
        reply_cmd(c, "MAIL FROM:<x@remote.test>")
        code, lines = reply_cmd(c, "RCPT TO:<eve@suspended.test>")
        self.assertTrue(lines[0].startswith("550 5.2.1 "), lines)
        c.close()

    def test_over_quota_at_rcpt(self):
        n0 = len(stored(self.d, "full@example.org"))
        c = self.raw()
        reply_cmd(c, "MAIL FROM:<x@remote.test>")
        code, lines = reply_cmd(c, "RCPT TO:<full@example.org>")
        self.assertTrue(lines[0].startswith("452 4.2.2 "), lines)
        self.assertEqual(reply_cmd(c, "RCPT TO:<alice@example.org>")[0], 250)
        self.assertEqual(reply_cmd(c, "DATA")[0], 354)
        c.send("Subject: q\r\n\r\nx\r\n.\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.close()
        self.assertEqual(len(stored(self.d, "full@example.org")), n0)

    def test_plus_tag_folder(self):
        l0 = len(stored(self.d, "carol@example.org", "lists"))
        i0 = len(stored(self.d, "carol@example.org"))
        s = self.smtp()
        s.sendmail("x@remote.test", ["carol+lists@example.org"], b"Subject: l\r\n\r\nlist\r\n")
        s.sendmail("x@remote.test", ["carol+nosuch@example.org"], b"Subject: n\r\n\r\ninbox\r\n")
        s.quit()
        lists = stored(self.d, "carol@example.org", "lists")
        inbox = stored(self.d, "carol@example.org")
        self.assertEqual(len(lists), l0 + 1)
        self.assertEqual(body_of(lists[-1]), b"Subject: l\r\n\r\nlist\r\n")
        self.assertEqual(len(inbox), i0 + 1)
        self.assertEqual(body_of(inbox[-1]), b"Subject: n\r\n\r\ninbox\r\n")

    def test_pipelined_batch(self):
        b0 = len(stored(self.d, "bob@example.org"))
        c = self.raw()
        c.send("MAIL FROM:<p@remote.test>\r\nRCPT TO:<nobody@example.org>\r\n"
               "RCPT TO:<bob@example.org>\r\nDATA\r\n")
        self.assertEqual([reply(c)[0] for _ in range(4)], [250, 550, 250, 354])
        c.send("Subject: piped\r\n\r\nbody\r\n.\r\nMAIL FROM:<p2@remote.test>\r\n"
               "RCPT TO:<bob@example.org>\r\nDATA\r\n")
        self.assertEqual([reply(c)[0] for _ in range(4)], [250, 250, 250, 354])
        c.send("Subject: piped2\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        self.assertEqual([reply(c)[0] for _ in range(2)], [250, 221])
        self.assertTrue(c.closed())
        c.close()
        b = stored(self.d, "bob@example.org")
        self.assertEqual(len(b), b0 + 2)
        self.assertEqual(body_of(b[-2]), b"Subject: piped\r\n\r\nbody\r\n")
        self.assertIn(b"Return-Path: <p2@remote.test>", b[-1])

    def test_no_pipelining_after_data(self):
        b0 = len(stored(self.d, "bob@example.org"))
        c = self.raw()
        # the message rides behind DATA before the 354: refused, nothing stored
        c.send("MAIL FROM:<p@remote.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n"
               "Subject: smuggled\r\n\r\nbody\r\n.\r\n")
        codes = [reply(c) for _ in range(3)]
        self.assertEqual([x[0] for x in codes], [250, 250, 554])
        self.assertTrue(codes[2][1][0].startswith("554 5.5.0"), codes)
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(len(stored(self.d, "bob@example.org")), b0)

    def test_smtputf8(self):
        a0 = len(stored(self.d, "alice@example.org"))
        s = self.smtp()
        self.assertTrue(s.has_extn("smtputf8"))
        msg = "Subject: grüße\r\n\r\nhällo\r\n".encode()
        s.sendmail("jörg@remote.test", ["alice@example.org"], msg,
                   mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        s.quit()
        a = stored(self.d, "alice@example.org")
        self.assertEqual(len(a), a0 + 1)
        self.assertEqual(body_of(a[-1]), msg)
        self.assertIn("Return-Path: <jörg@remote.test>".encode(), a[-1])
        c = self.raw()
        code, lines = reply_cmd(c, "MAIL FROM:<jörg@remote.test>")
        self.assertTrue(lines[0].startswith("553 5.6.7"), lines)
        c.close()

    def test_size_and_dsn_parameters(self):
        c = self.raw()
        code, lines = reply_cmd(c, "MAIL FROM:<x@remote.test> SIZE=%d" % (2 << 20))
        self.assertTrue(lines[0].startswith("552 5.3.4"), lines)
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test> SIZE=100 RET=HDRS "
                                      "ENVID=abc123")[0], 250)
        self.assertEqual(reply_cmd(c, "RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE "
                                      "ORCPT=rfc822;alice@example.org")[0], 250)
        code, lines = reply_cmd(c, "RCPT TO:<alice@example.org> NOTIFY=NEVER,SUCCESS")
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        code, lines = reply_cmd(c, "RCPT TO:<alice@example.org> FOO=bar")
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        c.close()

    def test_bdat_chunks(self):
        a0 = len(stored(self.d, "alice@example.org"))
        c = self.raw()
        part1 = b"Subject: chunked\r\n\r\n.starts with a dot\r\n"
        part2 = b"bare\nLF is fine in BDAT\r\n"
        c.send(b"MAIL FROM:<x@remote.test> BODY=BINARYMIME\r\nRCPT TO:<alice@example.org>\r\n"
               + b"BDAT %d\r\n" % len(part1) + part1 + b"BDAT %d LAST\r\n" % len(part2) + part2)
        self.assertEqual(reply(c)[0], 250)
        self.assertEqual(reply(c)[0], 250)
        code, lines = reply(c)
        self.assertEqual(lines[0], "250 2.0.0 %d octets received" % len(part1))
        self.assertEqual(reply(c)[0], 250)
        a = stored(self.d, "alice@example.org")
        self.assertEqual(len(a), a0 + 1)
        self.assertEqual(body_of(a[-1]), part1 + part2)
        # BINARYMIME cannot use DATA; BDAT without recipients is read and refused
        c.send("MAIL FROM:<x@remote.test> BODY=BINARYMIME\r\nRCPT TO:<alice@example.org>\r\n"
               "DATA\r\nRSET\r\nBDAT 5 LAST\r\nhelloNOOP\r\n")
        self.assertEqual([reply(c)[0] for _ in range(6)], [250, 250, 503, 250, 503, 250])
        c.close()
        self.assertEqual(len(stored(self.d, "alice@example.org")), a0 + 1)

    def test_misc_commands(self):
        c = self.raw(helo=False)
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test>")[0], 503)  # before EHLO
        code, lines = reply_cmd(c, "HELO client.example")
        self.assertEqual(lines, ["250 mail.test"])
        self.assertEqual(reply_cmd(c, "NOOP")[1], ["250 2.0.0 Ok"])
        self.assertEqual(reply_cmd(c, "VRFY alice@example.org")[0], 252)
        self.assertEqual(reply_cmd(c, "EXPN team@example.org")[0], 502)
        self.assertEqual(reply_cmd(c, "HELP")[0], 214)
        self.assertEqual(reply_cmd(c, "LHLO client.example")[0], 500)
        self.assertEqual(reply_cmd(c, "AUTH PLAIN AGFsaWNlAHB3")[0], 503)
        self.assertEqual(reply_cmd(c, "STARTTLS")[0], 454)
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test> SIZE=10")[0], 555)  # HELO
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test>")[0], 250)
        self.assertEqual(reply_cmd(c, "MAIL FROM:<x@remote.test>")[0], 503)  # nested
        self.assertEqual(reply_cmd(c, "RSET")[0], 250)
        self.assertEqual(reply_cmd(c, "RCPT TO:<alice@example.org>")[0], 503)
        self.assertEqual(reply_cmd(c, "QUIT")[0], 221)
        self.assertTrue(c.closed())
        c.close()

    def test_swaks_pipelining(self):
        b0 = len(stored(self.d, "bob@example.org"))
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.port),
                            "--from", "sw@remote.test", "--to", "bob@example.org",
                            "--helo", "swaks.example", "--pipeline",
                            "--header", "Subject: swaks", "--body", "from swaks"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        b = stored(self.d, "bob@example.org")
        self.assertEqual(len(b), b0 + 1)
        self.assertIn(b"Subject: swaks", b[-1])
        self.assertIn(b"from swaks", b[-1])

    def test_curl(self):
        a0 = len(stored(self.d, "alice@example.org"))
        msg = b"From: c@remote.test\r\nSubject: curl\r\n\r\n.dotted\r\nfrom curl\r\n"
        r = subprocess.run(["curl", "-sS", "smtp://127.0.0.1:%d" % self.port,
                            "--mail-from", "c@remote.test", "--mail-rcpt", "alice@example.org",
                            "--upload-file", "-"], input=msg, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        a = stored(self.d, "alice@example.org")
        self.assertEqual(len(a), a0 + 1)
        self.assertEqual(body_of(a[-1]), msg)


def reply_cmd(c, line):
    c.send(line + "\r\n")
    return reply(c)


if __name__ == "__main__":
    unittest.main(verbosity=2)
