"""IDLE woken by an LMTP delivery (the smtp plugin in lmtp mode beside the imap one):
one LMTP transaction for two idling users wakes both; a recipient whose delivery
fails (over quota) gets no EXISTS, before or after the IDLE ends."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld  # noqa: E402
from smtp_util import reply  # noqa: E402

PASS = "idle pw"
ANN, BEN, TINY = "ann@example.test", "ben@example.test", "tiny@example.test"


class ImapLmtpIdleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {}), ("lmtp", "smtp", "none", {"mode": "lmtp"})])
        cls.d.start()
        for u in (ANN, BEN, TINY):
            cls.d.add_user(u, PASS)
        cls.d.ctl("user", "set", TINY, "--quota", "2K")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def idle(self, user):
        """An IMAP session of `user` idling in INBOX; returns (client, EXISTS at SELECT)."""
        c = LineClient(self.d.ports["imap"], timeout=20)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK "))
        self.assertTrue(c.cmd(f'l LOGIN {user} "{PASS}"').startswith("l OK "))
        out = c.tagged("s SELECT INBOX")
        self.assertTrue(out[-1].startswith("s OK [READ-WRITE]"), out)
        exists = int([x for x in out if x.endswith(" EXISTS")][0].split()[1])
        self.assertEqual(c.cmd("i IDLE"), "+ idling")
        return c, exists

    def done(self, c):
        """Ends an IDLE; the untagged lines read before its tagged OK (the wake-up's
        EXISTS already read) may only be RECENT (\\Recent of new mail is not tracked
        per session yet, docs/imap.md)."""
        c.send("DONE\r\n")
        while True:
            line = c.line()
            if line.startswith("i "):
                self.assertEqual(line, "i OK IDLE terminated")
                return
            self.assertRegex(line, r"^\* \d+ RECENT$")

    def lmtp(self, rcpts, body):
        """One LMTP transaction; the per-recipient replies after DATA."""
        c = LineClient(self.d.ports["lmtp"])
        self.addCleanup(c.close)
        self.assertEqual(reply(c)[0], 220)
        c.send("LHLO mta.example\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.send("MAIL FROM:<sender@remote.example>\r\n")
        self.assertEqual(reply(c)[0], 250)
        for r in rcpts:
            c.send(f"RCPT TO:<{r}>\r\n")
            self.assertEqual(reply(c)[0], 250, r)
        c.send("DATA\r\n")
        self.assertEqual(reply(c)[0], 354)
        c.send(body + b".\r\n")
        return [reply(c)[1][0] for _ in rcpts]

    def test_two_idlers_woken_by_one_transaction(self):
        a, na = self.idle(ANN)
        b, nb = self.idle(BEN)
        got = self.lmtp([ANN, BEN], b"From: sender@remote.example\r\nSubject: via lmtp\r\n\r\n"
                                    b"delivered while idling\r\n")
        self.assertEqual(got, [f"250 2.1.5 <{ANN}> Delivered", f"250 2.1.5 <{BEN}> Delivered"])
        for c, n in ((a, na), (b, nb)):
            self.assertEqual(c.line(), f"* {n + 1} EXISTS")
            self.done(c)
            out = c.tagged(f"f FETCH {n + 1} (BODY.PEEK[HEADER.FIELDS (SUBJECT)] FLAGS)")
            self.assertEqual(out[1], "Subject: via lmtp", out)
            self.assertTrue(out[-1].startswith("f OK"), out)

    def test_failed_recipient_not_woken(self):
        t, nt = self.idle(TINY)
        a, na = self.idle(ANN)
        body = b"Subject: big\r\n\r\n" + b"0123456789abcdef\r\n" * 256  # 4.5 KB > 2K quota
        got = self.lmtp([TINY, ANN], body)
        self.assertTrue(got[0].startswith(f"552 5.2.2 <{TINY}>"), got)
        self.assertEqual(got[1], f"250 2.1.5 <{ANN}> Delivered")
        # ann's wake-up shows the notifications went out; tiny's session got nothing
        self.assertEqual(a.line(), f"* {na + 1} EXISTS")
        self.done(a)
        self.assertEqual(t.cmd("DONE"), "i OK IDLE terminated")
        out = t.tagged("n NOOP")
        self.assertEqual(out, ["n OK NOOP completed"])
        out = t.tagged("s STATUS INBOX (MESSAGES)")
        self.assertEqual(out[0], f'* STATUS "INBOX" (MESSAGES {nt})')


if __name__ == "__main__":
    unittest.main()
