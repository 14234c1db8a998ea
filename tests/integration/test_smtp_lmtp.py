"""The SMTP plugin in lmtp mode (RFC 2033): LHLO, one reply per recipient after
DATA and BDAT, a recipient over quota fails alone."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petrel_testlib as T  # noqa: E402
from smtp_util import body_of, reply, split_trace, stored  # noqa: E402


def cmd(c, line):
    c.send(line + "\r\n")
    return reply(c)


class SmtpLmtp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = T.Petreld([("lmtp", "smtp", "none", {"mode": "lmtp"})])
        d = cls.d.start()
        for u in ("alice@example.org", "bob@example.org", "tiny@example.org"):
            d.add_user(u, "pw")
        d.ctl("user", "set", "tiny@example.org", "--quota", "2K")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def open(self):
        c = T.LineClient(self.d.ports["lmtp"])
        code, lines = reply(c)
        self.assertEqual(code, 220)
        self.assertIn("LMTP", lines[0])
        return c

    def test_lhlo_only(self):
        c = self.open()
        self.assertEqual(cmd(c, "EHLO mta.example")[0], 500)
        self.assertEqual(cmd(c, "HELO mta.example")[0], 500)
        code, lines = cmd(c, "LHLO mta.example")
        self.assertEqual(code, 250)
        self.assertIn("250-PIPELINING", lines)
        self.assertIn("250 ENHANCEDSTATUSCODES", lines)
        c.close()

    def test_reply_per_recipient(self):
        a0 = len(stored(self.d, "alice@example.org"))
        t0 = len(stored(self.d, "tiny@example.org"))
        c = self.open()
        cmd(c, "LHLO mta.example")
        c.send("MAIL FROM:<sender@remote.test>\r\nRCPT TO:<alice@example.org>\r\n"
               "RCPT TO:<tiny@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
               "RCPT TO:<bob@example.org>\r\nDATA\r\n")
        self.assertEqual([reply(c)[0] for _ in range(6)], [250, 250, 250, 550, 250, 354])
        body = b"Subject: lmtp\r\n\r\n" + b"0123456789abcdef\r\n" * 256  # 4.5 KB > tiny's 2K
        c.send(body + b".\r\n")
        replies = [reply(c)[1][0] for _ in range(3)]  # accepted recipients, in order
        self.assertEqual(replies[0], "250 2.1.5 <alice@example.org> Delivered")
        self.assertTrue(replies[1].startswith("552 5.2.2 <tiny@example.org>"), replies)
        self.assertEqual(replies[2], "250 2.1.5 <bob@example.org> Delivered")
        self.assertEqual(cmd(c, "NOOP")[0], 250)
        c.close()
        a = stored(self.d, "alice@example.org")
        self.assertEqual(len(a), a0 + 1)
        trace, got = split_trace(a[-1])
        self.assertEqual(got, body)
        self.assertIn(b"with LMTP id", trace)
        self.assertIn(b"Return-Path: <sender@remote.test>", trace)
        self.assertEqual(len(stored(self.d, "tiny@example.org")), t0)

    def test_bdat_per_recipient(self):
        b0 = len(stored(self.d, "bob@example.org"))
        c = self.open()
        cmd(c, "LHLO mta.example")
        body = b"Subject: chunk\r\n\r\nbinary\x00ok\r\n"
        c.send(b"MAIL FROM:<s@remote.test> BODY=BINARYMIME\r\nRCPT TO:<bob@example.org>\r\n"
               b"RCPT TO:<alice@example.org>\r\nBDAT %d LAST\r\n" % len(body) + body)
        self.assertEqual([reply(c)[0] for _ in range(3)], [250, 250, 250])
        self.assertEqual(reply(c)[1], ["250 2.1.5 <bob@example.org> Delivered"])
        self.assertEqual(reply(c)[1], ["250 2.1.5 <alice@example.org> Delivered"])
        c.close()
        b = stored(self.d, "bob@example.org")
        self.assertEqual(len(b), b0 + 1)
        self.assertEqual(body_of(b[-1]), body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
