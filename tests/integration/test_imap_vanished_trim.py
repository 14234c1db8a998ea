"""QRESYNC after the store dropped old expunge records (petreld `vanished_keep`): a client
whose last known MODSEQ is older than the mailbox's oldest kept record must still learn
every UID that went (RFC 7162 3.2.5.1: the server reports, from the UIDs the client says
it knows, each one that is not there any more), both in SELECT (QRESYNC ..) and in
UID FETCH (CHANGEDSINCE m VANISHED); one whose MODSEQ is past the dropped records gets
the exact list from the records."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld, imap_client  # noqa: E402

USER, PASS = "trim@example.test", "pw for trim"
KEEP = 100
N = 150
MSG = ("From: a@example.test\r\nTo: trim@example.test\r\nSubject: t{n}\r\n"
       "Message-ID: <t{n}@example.test>\r\n\r\nBody {n}\r\n")


class VanishedTrimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {})], extra_global=f"vanished_keep = {KEEP}")
        cls.d.start()
        cls.d.add_user(USER, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def raw(self):
        c = LineClient(self.d.ports["imap"], timeout=20)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK "))
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        self.assertEqual(c.tagged("e ENABLE QRESYNC")[-1], "e OK ENABLE completed")
        return c

    @staticmethod
    def uids(lines, prefix="* VANISHED (EARLIER) "):
        got = set()
        for line in lines:
            if line.startswith(prefix):
                for part in line[len(prefix):].split(","):
                    lo, _, hi = part.partition(":")
                    got.update(range(int(lo), int(hi or lo) + 1))
        return got

    def state(self, c, box):
        out = c.tagged(f"s SELECT {box}")
        self.assertTrue(out[-1].startswith("s OK"), out)
        text = "\n".join(out)
        return (int(re.search(r"UIDVALIDITY (\d+)", text).group(1)),
                int(re.search(r"HIGHESTMODSEQ (\d+)", text).group(1)))

    def expunge(self, box, uid_set):
        m = imap_client(self, self.d.ports["imap"], USER, PASS)
        self.assertEqual(m.select(box)[0], "OK")
        self.assertEqual(m.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")[0], "OK")
        self.assertEqual(m.expunge()[0], "OK")

    def fill(self, box):
        """N messages in two MULTIAPPENDs (one commit each) with LITERAL+."""
        c = LineClient(self.d.ports["imap"], timeout=20)
        self.addCleanup(c.close)
        c.line()
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        self.assertTrue(c.cmd(f"c CREATE {box}").startswith("c OK"))
        for first in (1, N // 2 + 1):
            parts = []
            for n in range(first, first + N // 2):
                body = MSG.format(n=n).encode()
                parts.append(b" {%d+}\r\n" % len(body) + body)
            c.send(b"a APPEND " + box.encode() + b"".join(parts) + b"\r\n")
            line = c.until_tagged("a")[-1]
            self.assertTrue(line.startswith("a OK [APPENDUID "), line)

    def test_client_older_than_the_kept_records_learns_every_expunge(self):
        self.fill("Old")
        c = self.raw()
        uidvalidity, modseq = self.state(c, "Old")
        c.tagged("u UNSELECT")
        # 120 expunges: past KEEP records, so the oldest were dropped
        self.expunge("Old", "1:120")
        log = self.d.read_log()
        self.assertIn("event=store_vanished_trim", log)
        out = c.tagged(f"q SELECT Old (QRESYNC ({uidvalidity} {modseq} 1:{N}))")
        self.assertTrue(out[-1].startswith("q OK"), out)
        self.assertEqual(self.uids(out), set(range(1, 121)))
        self.assertIn(f"* {N - 120} EXISTS", out)
        out = c.tagged(f"f UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)")
        self.assertTrue(out[-1].startswith("f OK"), out)
        self.assertEqual(self.uids(out), set(range(1, 121)))

    def test_client_past_the_dropped_records_gets_the_exact_list(self):
        self.fill("Recent")
        self.expunge("Recent", "1:110")  # drops records down to 90
        c = self.raw()
        uidvalidity, modseq = self.state(c, "Recent")
        c.tagged("u UNSELECT")
        self.expunge("Recent", "131:135")
        out = c.tagged(f"q SELECT Recent (QRESYNC ({uidvalidity} {modseq} 111:{N}))")
        self.assertTrue(out[-1].startswith("q OK"), out)
        self.assertEqual(self.uids(out), set(range(131, 136)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
