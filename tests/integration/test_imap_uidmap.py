"""The IMAP session's UID map (plugins/imap/uidmap.c, runs of consecutive UIDs)
seen through python3 imaplib: expunges by another session that split a run,
sequence numbers / UID ranges / SEARCH / SEARCHRES across the gaps, new mail
after held-back expunges (RFC 3501 7.4.1), and QRESYNC's VANISHED."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import Petreld, imap_client  # noqa: E402

USER, PASS = "dora@example.test", "pw for dora"
MSG = (b"From: Bob <bob@example.test>\r\nTo: dora@example.test\r\nSubject: n\r\n"
       b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n\r\nbody\r\n")


class ImapUidmapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {})])
        cls.d.start()
        cls.d.add_user(USER, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def imap(self):
        return imap_client(self, self.d.ports["imap"], USER, PASS)

    def fill(self, m, name, n):
        self.assertEqual(m.create(name)[0], "OK")
        for _ in range(n):
            self.assertEqual(m.append(name, None, None, MSG)[0], "OK")

    @staticmethod
    def seq_uids(m, seqset="1:*"):
        typ, data = m.fetch(seqset, "(UID)")
        assert typ == "OK", data
        out = []
        for x in data:
            if not x:
                continue
            seq, rest = x.split(b" ", 1)
            out.append((int(seq), int(rest.strip(b"()").split()[1])))
        return out

    def test_expunges_split_runs(self):
        a, b = self.imap(), self.imap()
        self.fill(a, "Runs", 10)  # UIDs 1..10: one run
        a.select("Runs")
        self.assertEqual(b.select("Runs")[1], [b"10"])
        b.untagged_responses.clear()
        a.store("3,4,7", "+FLAGS", r"(\Deleted)")
        self.assertEqual(a.expunge()[1], [b"3", b"3", b"5"])
        # b hears of them at NOOP, each number valid after the previous removal
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"3", b"3", b"5"])
        want = [(1, 1), (2, 2), (3, 5), (4, 6), (5, 8), (6, 9), (7, 10)]
        self.assertEqual(self.seq_uids(b), want)
        self.assertEqual(self.seq_uids(b, "3:5"), want[2:5])
        # UID ranges across the gaps; a UID range of only gaps is empty
        typ, data = b.uid("FETCH", "3:7", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertEqual([x.split(b" ")[0] for x in data if x], [b"3", b"4"])
        typ, data = b.uid("FETCH", "7", "(FLAGS)")
        self.assertEqual((typ, [x for x in data if x]), ("OK", []))
        self.assertEqual(b.uid("SEARCH", "UID", "2:8")[1], [b"2 5 6 8"])
        self.assertEqual(b.search(None, "3:5")[1], [b"3 4 5"])
        self.assertEqual(b.search(None, "UID", "4:*")[1], [b"3 4 5 6 7"])
        # STORE by sequence number lands on the right UIDs
        b.untagged_responses.clear()
        typ, data = b.store("4", "+FLAGS", r"(\Flagged)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"4 (FLAGS (\\Flagged))"])
        self.assertEqual(b.uid("SEARCH", "FLAGGED")[1], [b"6"])
        # new mail goes after the last run; * is the new message
        self.assertEqual(a.append("Runs", None, None, MSG)[0], "OK")
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXISTS"), [b"8"])
        self.assertEqual(self.seq_uids(b, "*"), [(8, 11)])
        # the last message of a run, then the first of the next
        a.store("2,3", "+FLAGS", r"(\Deleted)")  # a's map matches b's: UIDs 2 and 5
        a.expunge()
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"2", b"2"])
        self.assertEqual(self.seq_uids(b), [(1, 1), (2, 6), (3, 8), (4, 9), (5, 10), (6, 11)])
        # COPY by sequence numbers copies the UIDs they stand for
        typ, data = b.copy("2:3", "INBOX")
        self.assertEqual(typ, "OK")
        self.assertIn(b"COPYUID", data[0])
        self.assertIn(b" 6,8 ", data[0])

    def test_held_expunges_and_new_mail(self):
        a, b = self.imap(), self.imap()
        self.fill(a, "Held", 6)
        a.select("Held")
        b.select("Held")
        b.untagged_responses.clear()
        a.store("2,5", "+FLAGS", r"(\Deleted)")
        a.expunge()
        self.assertEqual(a.append("Held", None, None, MSG)[0], "OK")  # UID 7
        # FETCH: the new message is announced, the expunges wait (RFC 3501 7.4.1)
        typ, data = b.fetch("1:*", "(UID)")
        self.assertEqual(typ, "OK")
        self.assertNotIn("EXPUNGE", b.untagged_responses)
        self.assertEqual(b.untagged_responses.pop("EXISTS"), [b"7"])
        # the expunged ones are still numbered (their data is gone)
        self.assertEqual(self.seq_uids(b, "7"), [(7, 7)])
        self.assertEqual(b.search(None, "ALL")[1], [b"1 3 4 6 7"])
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"2", b"4"])
        self.assertEqual(self.seq_uids(b), [(1, 1), (2, 3), (3, 4), (4, 6), (5, 7)])

    def test_searchres_after_expunge(self):
        a, b = self.imap(), self.imap()
        self.fill(a, "Saved", 8)
        a.select("Saved")
        b.select("Saved")
        typ, _ = b._simple_command("UID", "SEARCH", "RETURN", "(SAVE)", "UID", "2:7")
        self.assertEqual(typ, "OK")
        a.store("3,6", "+FLAGS", r"(\Deleted)")
        a.expunge()
        b.noop()
        # "$" holds UIDs 2..7; 3 and 6 are gone: sequence numbers 2 3 4 5 = UIDs 2 4 5 7
        typ, data = b.fetch("$", "(UID)")
        self.assertEqual(typ, "OK")
        self.assertEqual([x for x in data if x],
                         [b"2 (UID 2)", b"3 (UID 4)", b"4 (UID 5)", b"5 (UID 7)"])

    def test_sync_sees_changes_that_keep_the_count(self):
        # a sync skips listing the UIDs while the mailbox's uidnext and count are
        # unchanged (cmd_select.c): changes that leave the count equal must still show
        a, b = self.imap(), self.imap()
        self.fill(a, "Same", 4)
        a.select("Same")
        b.select("Same")
        for _ in range(3):  # syncs with nothing changed
            self.assertEqual(b.uid("STORE", "1", "+FLAGS", r"(\Seen)")[0], "OK")
            b.noop()
        b.untagged_responses.clear()
        # one expunged, one appended: 4 messages before and after
        a.store("2", "+FLAGS", r"(\Deleted)")
        a.expunge()
        self.assertEqual(a.append("Same", None, None, MSG)[0], "OK")  # UID 5
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"2"])
        self.assertEqual(b.untagged_responses.pop("EXISTS"), [b"4"])
        self.assertEqual(self.seq_uids(b), [(1, 1), (2, 3), (3, 4), (4, 5)])
        # appended and expunged before b looked: nothing to tell, the map stays
        self.assertEqual(a.append("Same", None, None, MSG)[0], "OK")  # UID 6
        a.uid("STORE", "6", "+FLAGS", r"(\Deleted)")
        a.expunge()
        b.untagged_responses.clear()
        b.noop()
        self.assertNotIn("EXISTS", b.untagged_responses)
        self.assertNotIn("EXPUNGE", b.untagged_responses)
        self.assertEqual(self.seq_uids(b), [(1, 1), (2, 3), (3, 4), (4, 5)])
        # an expunge held back over two STOREs (no EXPUNGE during STORE), told at NOOP
        a.store("1", "+FLAGS", r"(\Deleted)")
        a.expunge()
        b.untagged_responses.clear()
        for flag in (r"(\Flagged)", r"(\Answered)"):
            typ, data = b.store("2", "+FLAGS", flag)
            self.assertEqual(typ, "OK")
            self.assertTrue(data[0].startswith(b"2 (FLAGS"), data)
            self.assertNotIn("EXPUNGE", b.untagged_responses)
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"1"])
        self.assertEqual(self.seq_uids(b), [(1, 3), (2, 4), (3, 5)])
        # the selected mailbox renamed by another session: b still hears of new mail
        self.assertEqual(a.rename("Same", "Same2")[0], "OK")
        self.assertEqual(a.append("Same2", None, None, MSG)[0], "OK")  # UID 7
        b.untagged_responses.clear()
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXISTS"), [b"4"])
        self.assertEqual(self.seq_uids(b), [(1, 3), (2, 4), (3, 5), (4, 7)])

    def test_qresync_vanished_across_runs(self):
        a, b = self.imap(), self.imap()
        self.fill(a, "Vanish", 9)
        a.select("Vanish")
        self.assertEqual(b._simple_command("ENABLE", "QRESYNC")[0], "OK")
        b.select("Vanish")
        b.untagged_responses.clear()
        a.store("2,5:6,9", "+FLAGS", r"(\Deleted)")
        a.expunge()
        b.noop()
        self.assertNotIn("EXPUNGE", b.untagged_responses)
        self.assertEqual(b.untagged_responses.pop("VANISHED"), [b"2,5:6,9"])
        self.assertEqual(self.seq_uids(b), [(1, 1), (2, 3), (3, 4), (4, 7), (5, 8)])


if __name__ == "__main__":
    unittest.main()
