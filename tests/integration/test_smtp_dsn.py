"""DSN (RFC 3461) kept for the outbound work, made in the same commit as the
delivery: a local return path gets an RFC 3464 multipart/report in its
INBOX, a remote one an item in the outbound queue (petrelctl queue)."""
import email
import json
import os
import smtplib
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petrel_testlib as T  # noqa: E402
from smtp_util import reply, stored  # noqa: E402

BIG = b"Subject: big\r\n\r\n" + b"0123456789abcdef\r\n" * 256  # 4.5 KB > tiny's 2K


def msg(subject):
    return (f"From: someone\r\nSubject: {subject}\r\nMessage-ID: <{subject}@t>\r\n\r\n"
            f"body of {subject}\r\n").encode()


def report_parts(raw):
    """(the parsed report, delivery-status text, returned part) of a DSN."""
    m = email.message_from_bytes(raw)
    assert m.get_content_type() == "multipart/report", m.get_content_type()
    assert m.get_param("report-type") == "delivery-status"
    parts = m.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    start = raw.index(b"Content-Type: message/delivery-status")
    status = raw[start:raw.index(b"\r\n--", start)].decode()
    return m, status, parts[2]


class SmtpDsn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = T.Petreld([("mx", "smtp", "none", {"mode": "mx"}),
                           ("lmtp", "smtp", "none", {"mode": "lmtp"})])
        d = cls.d.start()
        for u in ("alice@example.org", "bob@example.org", "carol@example.org",
                  "tiny@example.org"):
            d.add_user(u, "pw")
        d.ctl("user", "set", "tiny@example.org", "--quota", "2K")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def queue(self):
        return {i["id"]: i for i in json.loads(self.d.ctl("--json", "queue", "list").stdout)}

    def new_items(self, before):
        return [i for k, i in sorted(self.queue().items()) if k not in before]

    def send(self, sender, rcpts, body, mail_options=(), rcpt_options=()):
        with smtplib.SMTP("127.0.0.1", self.d.ports["mx"]) as s:
            return s.sendmail(sender, rcpts, body, mail_options=list(mail_options),
                              rcpt_options=list(rcpt_options))

    def test_success_local_sender_gets_report_in_inbox(self):
        b0 = len(stored(self.d, "bob@example.org"))
        a0 = len(stored(self.d, "alice@example.org"))
        q0 = self.queue()
        refused = self.send("bob@example.org", ["alice@example.org"], msg("local-success"),
                            mail_options=["RET=HDRS", "ENVID=env-local-1"],
                            rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;alice@example.org"])
        self.assertEqual(refused, {})
        self.assertEqual(len(stored(self.d, "alice@example.org")), a0 + 1)
        bob = stored(self.d, "bob@example.org")
        self.assertEqual(len(bob), b0 + 1)
        m, status, returned = report_parts(bob[-1])
        self.assertEqual(m["To"], "<bob@example.org>")
        self.assertIn("MAILER-DAEMON@mail.test", m["From"])
        self.assertIn("Reporting-MTA: dns; mail.test", status)
        self.assertIn("Original-Envelope-Id: env-local-1", status)
        self.assertIn("Final-Recipient: rfc822; alice@example.org", status)
        self.assertIn("Original-Recipient: rfc822;alice@example.org", status)
        self.assertIn("Action: delivered", status)
        self.assertIn("Status: 2.0.0", status)
        # a success returns the headers only (RFC 3461 4.3)
        self.assertEqual(returned.get_content_type(), "text/rfc822-headers")
        self.assertIn(b"Subject: local-success", bob[-1])
        self.assertNotIn(b"body of local-success", bob[-1])
        self.assertEqual(self.queue(), q0)  # local: delivered, not queued

    def test_success_remote_sender_is_queued(self):
        q0 = self.queue()
        self.send("sender@remote.test", ["alice@example.org"], msg("remote-success"),
                  mail_options=["ENVID=abc+2Bdef"],
                  rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;alice+2Btag@example.org"])
        new = self.new_items(q0)
        self.assertEqual(len(new), 1, new)
        it = new[0]
        self.assertEqual(it["action"], "delivered")
        self.assertEqual(it["status"], "2.0.0")
        self.assertEqual(it["envid"], "abc+def")  # xtext decoded
        self.assertEqual(it["orcpt"], "rfc822;alice+tag@example.org")
        self.assertEqual(it["return_path"], "sender@remote.test")
        self.assertEqual(it["final_recipient"], "alice@example.org")
        self.assertEqual(it["reporting_mta"], "mail.test")
        # a success keeps the header block only (RFC 3461 4.3), not the body
        alice = stored(self.d, "alice@example.org")[-1]
        self.assertLessEqual(it["size"], alice.index(b"\r\n\r\nbody of remote-success") + 2)
        self.assertGreater(it["size"], len(b"Subject: remote-success\r\n"))
        show = self.d.ctl("queue", "show", str(it["id"])).stdout
        self.assertIn("envid:           abc+def", show)
        self.assertIn("action:          delivered", show)
        # the item holds a blob reference: the store stays consistent
        self.d.ctl("check")
        self.d.ctl("queue", "delete", str(it["id"]))
        self.assertNotIn(it["id"], self.queue())
        self.d.ctl("check")
        r = self.d.ctl("queue", "show", str(it["id"]), check=False)
        self.assertEqual(r.returncode, 1)

    def test_flood_of_subaddresses_gives_one_report(self):
        # mx: the sender is not authenticated, a local MAIL FROM may be forged
        a0 = len(stored(self.d, "alice@example.org"))
        b0 = len(stored(self.d, "bob@example.org"))
        q0 = self.queue()
        rcpts = [f"alice+{i}@example.org" for i in range(1, 1001)]
        refused = self.send("bob@example.org", rcpts, msg("flood"),
                            rcpt_options=["NOTIFY=SUCCESS"])
        self.assertEqual(refused, {})
        self.assertEqual(len(stored(self.d, "alice@example.org")), a0 + 1)
        bob = stored(self.d, "bob@example.org")
        self.assertEqual(len(bob), b0 + 1)  # one report, not 1000
        m, status, returned = report_parts(bob[-1])
        # the 1000 recipients are one user: one field block
        self.assertEqual(status.count("Final-Recipient:"), 1)
        self.assertIn("Final-Recipient: rfc822; alice+1@example.org", status)
        self.assertEqual(self.queue(), q0)

    def test_flood_remote_sender_gives_one_item(self):
        q0 = self.queue()
        rcpts = [f"alice+{i}@example.org" for i in range(1, 301)]
        self.send("sender@remote.test", rcpts, msg("flood-remote"),
                  rcpt_options=["NOTIFY=SUCCESS"])
        new = self.new_items(q0)
        self.assertEqual([i["final_recipient"] for i in new], ["alice+1@example.org"])
        self.d.ctl("queue", "delete", str(new[0]["id"]))
        self.d.ctl("check")

    def test_local_report_has_a_block_per_recipient(self):
        b0 = len(stored(self.d, "bob@example.org"))
        self.send("bob@example.org", ["alice@example.org", "carol@example.org"],
                  msg("two-rcpts"), rcpt_options=["NOTIFY=SUCCESS"])
        bob = stored(self.d, "bob@example.org")
        self.assertEqual(len(bob), b0 + 1)
        m, status, returned = report_parts(bob[-1])
        self.assertIn("Final-Recipient: rfc822; alice@example.org\r\nAction: delivered", status)
        self.assertIn("Final-Recipient: rfc822; carol@example.org\r\nAction: delivered", status)
        self.assertEqual(status.count("Reporting-MTA:"), 1)

    def test_8bit_in_report_is_encoded(self):
        # ORCPT and ENVID are xtext: "+C3+B6" decodes to raw UTF-8 bytes; the
        # returned headers of an SMTPUTF8 message have 8-bit too
        b0 = len(stored(self.d, "bob@example.org"))
        body = "Subject: grüße\r\n\r\nhällo\r\n".encode()
        with smtplib.SMTP("127.0.0.1", self.d.ports["mx"]) as s:
            s.sendmail("bob@example.org", ["alice@example.org"], body,
                       mail_options=["SMTPUTF8", "BODY=8BITMIME", "ENVID=id+C3+A9"],
                       rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;j+C3+B6rg+2Bx@example.org"])
        bob = stored(self.d, "bob@example.org")
        self.assertEqual(len(bob), b0 + 1)
        raw = bob[-1]
        start = raw.index(b"Content-Type: message/delivery-status")
        part = raw[start:raw.index(b"\r\n--", start)]
        part.decode("ascii")  # no raw 8-bit in message/delivery-status
        # RFC 6533: the utf-8 address type, utf-8-addr-xtext
        self.assertIn(b"Original-Recipient: utf-8; j\\x{F6}rg\\x{2B}x@example.org\r\n", part)
        self.assertIn(b"Original-Envelope-Id: id+C3+A9\r\n", part)
        self.assertIn(b"Final-Recipient: rfc822; alice@example.org\r\n", part)
        # the returned 8-bit headers: message/global-headers (RFC 6533 6.3)
        m, status, returned = report_parts(raw)
        self.assertEqual(returned.get_content_type(), "message/global-headers")
        self.assertIn("Subject: grüße".encode(), raw)
        self.assertNotIn("hällo".encode(), raw)

    def test_notify_never_gives_nothing(self):
        b0 = len(stored(self.d, "bob@example.org"))
        q0 = self.queue()
        self.send("bob@example.org", ["alice@example.org", "tiny@example.org"], BIG,
                  rcpt_options=["NOTIFY=NEVER"])
        self.send("sender@remote.test", ["alice@example.org"], msg("never"),
                  rcpt_options=["NOTIFY=NEVER"])
        self.assertEqual(len(stored(self.d, "bob@example.org")), b0)
        self.assertEqual(self.queue(), q0)

    def test_default_notify_success_gives_nothing(self):
        q0 = self.queue()
        self.send("sender@remote.test", ["alice@example.org"], msg("no-notify"))
        self.assertEqual(self.queue(), q0)

    def test_null_return_path_never_gets_a_dsn(self):
        q0 = self.queue()
        self.send("<>", ["alice@example.org", "tiny@example.org"], BIG,
                  rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        self.assertEqual(self.queue(), q0)

    def test_partial_over_quota_gives_failed_item(self):
        q0 = self.queue()
        refused = self.send("sender@remote.test", ["alice@example.org", "tiny@example.org"], BIG)
        self.assertEqual(refused, {})  # 250: alice got it
        new = self.new_items(q0)
        self.assertEqual(len(new), 1, new)
        self.assertEqual(new[0]["action"], "failed")
        self.assertEqual(new[0]["status"], "5.2.2")
        self.assertEqual(new[0]["final_recipient"], "tiny@example.org")
        self.assertIn("552 5.2.2", new[0]["diagnostic"])
        self.d.ctl("check")

    def test_partial_over_quota_local_sender_gets_failed_report(self):
        c0 = len(stored(self.d, "carol@example.org"))
        self.send("carol@example.org", ["alice@example.org", "tiny@example.org"], BIG,
                  mail_options=["RET=FULL"], rcpt_options=["NOTIFY=FAILURE"])
        carol = stored(self.d, "carol@example.org")
        self.assertEqual(len(carol), c0 + 1)
        m, status, returned = report_parts(carol[-1])
        self.assertIn("Action: failed", status)
        self.assertIn("Status: 5.2.2", status)
        self.assertIn("Final-Recipient: rfc822; tiny@example.org", status)
        self.assertEqual(returned.get_content_type(), "message/rfc822")
        self.assertIn(b"0123456789abcdef\r\n" * 256, carol[-1])

    def test_refused_message_queues_nothing(self):
        q0 = self.queue()
        with self.assertRaises(smtplib.SMTPDataError) as e:
            self.send("sender@remote.test", ["tiny@example.org"], BIG,
                      rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        self.assertEqual(e.exception.smtp_code, 552)
        self.assertEqual(self.queue(), q0)

    def test_invalid_dsn_parameters_still_refused(self):
        q0 = self.queue()
        c = T.LineClient(self.d.ports["mx"])
        self.assertEqual(reply(c)[0], 220)
        c.send("EHLO client.test\r\n")
        code, lines = reply(c)
        self.assertIn("250-DSN", lines)
        c.send("MAIL FROM:<sender@remote.test> RET=MAYBE\r\n")
        self.assertEqual(reply(c)[0], 555)
        c.send("MAIL FROM:<sender@remote.test> ENVID=" + "x" * 101 + "\r\n")
        self.assertEqual(reply(c)[0], 555)
        c.send("MAIL FROM:<sender@remote.test> RET=HDRS\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.send("RCPT TO:<alice@example.org> NOTIFY=NEVER,SUCCESS\r\n")
        self.assertEqual(reply(c)[0], 555)
        c.send("RCPT TO:<alice@example.org> NOTIFY=SOMETIMES\r\n")
        self.assertEqual(reply(c)[0], 555)
        c.send("RCPT TO:<alice@example.org>\r\nDATA\r\n")
        self.assertEqual([reply(c)[0] for _ in range(2)], [250, 354])
        c.send(msg("after-invalid") + b".\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.send("QUIT\r\n")
        c.close()
        self.assertEqual(self.queue(), q0)  # no valid NOTIFY=SUCCESS was given

    def test_lmtp_success_queued_failure_answered(self):
        q0 = self.queue()
        c = T.LineClient(self.d.ports["lmtp"])
        self.assertEqual(reply(c)[0], 220)
        c.send("LHLO mta.test\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.send("MAIL FROM:<sender@remote.test> ENVID=lmtp-1\r\n"
               "RCPT TO:<alice@example.org> NOTIFY=SUCCESS\r\n"
               "RCPT TO:<tiny@example.org> NOTIFY=SUCCESS,FAILURE\r\nDATA\r\n")
        self.assertEqual([reply(c)[0] for _ in range(4)], [250, 250, 250, 354])
        c.send(BIG + b".\r\n")
        self.assertEqual([reply(c)[0] for _ in range(2)], [250, 552])
        c.close()
        new = self.new_items(q0)
        # tiny's failure was answered with 552: the client bounces it, not us
        self.assertEqual([(i["action"], i["final_recipient"], i["envid"]) for i in new],
                         [("delivered", "alice@example.org", "lmtp-1")])


if __name__ == "__main__":
    unittest.main()
