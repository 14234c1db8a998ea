"""QRESYNC (RFC 7162 3.2), CONDSTORE leftovers and IMAP4rev2 leftovers, with python3
imaplib for the "other client" and raw sockets where imaplib has no words (ENABLE
QRESYNC, SELECT (QRESYNC ..), VANISHED): a second session expunges and changes flags,
the QRESYNC session SELECTs with its last known state and gets exactly the VANISHED
(EARLIER) set and the changed FLAGS; live sessions get VANISHED instead of EXPUNGE (NOOP,
IDLE, EXPUNGE, UID EXPUNGE, MOVE) and HIGHESTMODSEQ in EXPUNGE's OK (never in CLOSE's);
UID FETCH (CHANGEDSINCE m VANISHED); the BAD cases; IMAP4rev2 sessions reject STATUS
RECENT and SEARCH RECENT/NEW/OLD; IMAP4rev1 sessions get RECENT with new messages."""
import imaplib
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld, imap_client, imap_logout  # noqa: E402

USER, PASS = "qr@example.test", "pw for qresync"
MSG = ("From: Bob <bob@example.test>\r\nTo: qr@example.test\r\nSubject: m{n}\r\n"
       "Message-ID: <q{n}@example.test>\r\n\r\nBody {n}\r\n")


class ImapQresyncTest(unittest.TestCase):
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

    def raw(self, enable="QRESYNC"):
        c = LineClient(self.d.ports["imap"], timeout=20)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK [CAPABILITY IMAP4rev1 "))
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        if enable:
            self.assertEqual(c.tagged("e ENABLE " + enable)[-1], "e OK ENABLE completed")
        return c

    def make_box(self, name, n):
        m = self.imap()
        self.assertEqual(m.create(name)[0], "OK")
        for k in range(1, n + 1):
            self.assertEqual(m.append(name, None, None, MSG.format(n=k).encode())[0], "OK")
        self.assertEqual(m.select(name)[0], "OK")
        return m

    def status(self, m, name):
        typ, data = m.status(name, "(UIDVALIDITY HIGHESTMODSEQ MESSAGES)")
        self.assertEqual(typ, "OK")
        got = re.search(rb"UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+) MESSAGES (\d+)", data[0])
        return int(got.group(1)), int(got.group(2)), int(got.group(3))

    def expunge_uids(self, m, uids):
        self.assertEqual(m.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")[0], "OK")
        self.assertEqual(m.expunge()[0], "OK")

    # ------------------------------------------------------------ a large resync, streamed
    def test_large_resync_is_streamed(self):
        """A client back after 6,000 scattered expunges and 6,000 flag changes (4,000 with
        four long keywords) gets ~1.8 MB, past the host's 1 MiB output limit: all of it, in
        order, then its next commands. (Small counts, long lines: the ASan build is slow.)"""
        n = 12000
        kws = " ".join("Kw%d" % j + "x" * 90 for j in range(4))
        path = os.path.join(self.d.tmp, "resync.mbox")
        with open(path, "wb") as f:  # the even UIDs arrive \Deleted (X-Status: D)
            for k in range(1, n + 1):
                f.write(b"From MAILER-DAEMON Thu Nov 26 12:00:00 2026\n%s"
                        b"Subject: r%d\n\nx\n\n" % (b"X-Status: D\n" if k % 2 == 0 else b"", k))
        self.d.ctl("import", USER, "mbox", path, "--mailbox", "Resync")
        a = self.raw(enable=None)  # the other client
        out = a.tagged("s SELECT Resync")
        self.assertEqual(out[-1], "s OK [READ-WRITE] SELECT completed")
        self.assertIn(f"* {n} EXISTS", out)
        uv = int(next(re.search(r"UIDVALIDITY (\d+)", x).group(1) for x in out
                      if "UIDVALIDITY" in x))
        ms = int(next(re.search(r"HIGHESTMODSEQ (\d+)", x).group(1) for x in out
                      if "HIGHESTMODSEQ" in x))
        even = list(range(2, n + 1, 2))  # scattered: no two adjacent
        self.assertEqual(a.tagged("x CLOSE")[-1], "x OK CLOSE completed")  # silent
        self.assertEqual(a.tagged("s SELECT Resync")[-1], "s OK [READ-WRITE] SELECT completed")
        self.assertEqual(a.tagged(f"f UID STORE 1:8000 +FLAGS.SILENT (\\Flagged {kws})")[-1],
                         "f OK UID STORE completed")
        self.assertEqual(a.tagged("g UID STORE 4001:* +FLAGS.SILENT (\\Seen)")[-1],
                         "g OK UID STORE completed")
        odd = range(1, n + 1, 2)
        want = {u: "\\Flagged " + kws if u <= 4000 else "\\Flagged \\Seen " + kws if u <= 8000
                else "\\Seen" for u in odd}

        def check(out, tag, what):
            self.assertTrue(out[-1].startswith(tag + " OK "), out[-1])
            self.assertGreater(sum(len(x) + 2 for x in out), 1 << 20)  # past the host's cap
            van = [x for x in out if x.startswith("* VANISHED (EARLIER) ")]
            self.assertGreater(len(van), 1)  # several responses, each of a bounded size
            got = set()
            for x in van:
                for e in x[len("* VANISHED (EARLIER) "):].split(","):
                    lo, _, hi = e.partition(":")
                    got.update(range(int(lo), int(hi or lo) + 1))
            self.assertEqual(got, set(even), what)
            fetch = re.compile(r"^\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)]*)\) "
                               r"MODSEQ \((\d+)\)\)$")
            seen = {}
            for x in out:
                if x.startswith("* ") and " FETCH " in x:
                    m = fetch.match(x)
                    self.assertIsNotNone(m, x)
                    seq, uid, flags, modseq = map(m.group, (1, 2, 3, 4))
                    self.assertEqual(int(seq), (int(uid) + 1) // 2, x)
                    self.assertGreater(int(modseq), ms, x)
                    seen[int(uid)] = flags
            self.assertEqual(seen, want, what)
            # VANISHED (EARLIER) before every FETCH (RFC 7162 3.2.5.1)
            self.assertLess(out.index(van[-1]), min(i for i, x in enumerate(out)
                                                    if x.startswith("* ") and " FETCH " in x))

        c = self.raw()
        c.send(f"s SELECT Resync (QRESYNC ({uv} {ms}))\r\nn NOOP\r\n")  # NOOP waits
        out = []
        while not out or not out[-1].startswith("s "):
            out.append(c.line())
        check(out, "s", "SELECT (QRESYNC)")
        self.assertEqual(out[-1], "s OK [READ-WRITE] SELECT completed")
        self.assertIn("* OK [HIGHESTMODSEQ %d] Highest" % max(int(x) for x in re.findall(
            r"MODSEQ \((\d+)\)", "\n".join(out))), out)
        self.assertEqual(c.line(), "n OK NOOP completed")
        out = c.tagged(f"u UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
        check(out, "u", "UID FETCH (CHANGEDSINCE VANISHED)")
        self.assertEqual(out[-1], "u OK UID FETCH completed")
        self.assertEqual(c.tagged("z UID SEARCH UID 11999")[-2:],
                         ["* SEARCH 11999", "z OK UID SEARCH completed"])

    def test_large_store_answer_is_streamed(self):
        """STORE (not .SILENT) on 3,000 messages with four long keywords answers ~1.3 MB of
        FETCH responses, past the host's 1 MiB output limit: all of them, then the OK."""
        n = 3000
        path = os.path.join(self.d.tmp, "store.mbox")
        with open(path, "wb") as f:
            for k in range(1, n + 1):
                f.write(b"From MAILER-DAEMON Thu Nov 26 12:00:00 2026\nSubject: s%d\n\nx\n\n" % k)
        self.d.ctl("import", USER, "mbox", path, "--mailbox", "Stored")
        kws = " ".join("Kw%d" % j + "z" * 90 for j in range(4))
        c = self.raw(enable=None)
        self.assertEqual(c.tagged("s SELECT Stored")[-1], "s OK [READ-WRITE] SELECT completed")
        c.send(f"t STORE 1:* +FLAGS (\\Flagged {kws})\r\nn NOOP\r\n")  # NOOP waits
        out = []
        while not out or not out[-1].startswith("t "):
            out.append(c.line())
        self.assertEqual(out[-1], "t OK STORE completed")
        self.assertGreater(sum(len(x) + 2 for x in out), 1 << 20)
        want = ["* %d FETCH (FLAGS (\\Flagged %s))" % (k, kws) for k in range(1, n + 1)]
        self.assertEqual(len(out) - 1, n)
        self.assertEqual([i for i, x in enumerate(out[:-1]) if x != want[i]][:3], [], out[:2])
        self.assertEqual(c.line(), "n OK NOOP completed")

    # ------------------------------------------------------------ ENABLE
    def test_capability_and_enable(self):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        self.addCleanup(imap_logout, m)
        self.assertIn("QRESYNC", m.capabilities)
        self.assertIn("CONDSTORE", m.capabilities)
        c = self.raw(enable=None)
        self.assertEqual(c.tagged("a ENABLE QRESYNC"),
                         ["* ENABLED QRESYNC", "a OK ENABLE completed"])
        # QRESYNC implied CONDSTORE: nothing new to enable
        self.assertEqual(c.tagged("b ENABLE CONDSTORE QRESYNC"),
                         ["* ENABLED", "b OK ENABLE completed"])
        c2 = self.raw(enable=None)
        self.assertEqual(c2.tagged("a ENABLE CONDSTORE QRESYNC"),
                         ["* ENABLED CONDSTORE QRESYNC", "a OK ENABLE completed"])

    # ------------------------------------------------------------ SELECT (QRESYNC ..)
    def test_select_qresync_reports_exactly_what_changed(self):
        m = self.make_box("Qs", 10)
        self.expunge_uids(m, "10")  # before the client's state: never reported
        uv, ms, _ = self.status(m, "Qs")
        # while the client is away: 2, 3, 7 expunged, 5 flagged, 11 new
        self.expunge_uids(m, "2:3,7")
        self.assertEqual(m.uid("STORE", "5", "+FLAGS", r"(\Flagged)")[0], "OK")
        self.assertEqual(m.append("Qs", None, None, MSG.format(n=11).encode())[0], "OK")
        _, hms, count = self.status(m, "Qs")
        self.assertEqual(count, 7)  # 1 4 5 6 8 9 11
        c = self.raw()
        out = c.tagged(f"s SELECT Qs (QRESYNC ({uv} {ms}))")
        self.assertEqual(out[-1], "s OK [READ-WRITE] SELECT completed")
        self.assertIn("* 7 EXISTS", out)
        self.assertIn(f"* OK [HIGHESTMODSEQ {hms}] Highest", out)
        vanished = [x for x in out if x.startswith("* VANISHED")]
        self.assertEqual(vanished, ["* VANISHED (EARLIER) 2:3,7"])
        fetches = [x for x in out if " FETCH " in x]
        self.assertEqual(len(fetches), 2, out)
        self.assertRegex(fetches[0] if "UID 5 " in fetches[0] else fetches[1],
                         r"^\* 3 FETCH \(UID 5 FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)$")
        self.assertRegex(fetches[1] if "UID 5 " in fetches[0] else fetches[0],
                         r"^\* 7 FETCH \(UID 11 FLAGS \(\) MODSEQ \((\d+)\)\)$")
        # VANISHED (EARLIER) comes before every FETCH (RFC 7162 3.2.5.1)
        self.assertLess(out.index(vanished[0]), min(out.index(f) for f in fetches))
        for f in fetches:
            self.assertGreater(int(re.search(r"MODSEQ \((\d+)\)", f).group(1)), ms)
        # known-uids restrict both answers; [CLOSED] first since Qs is selected
        out = c.tagged(f"t EXAMINE Qs (QRESYNC ({uv} {ms} 1:6))")
        self.assertEqual(out[0], "* OK [CLOSED] Previous mailbox closed")
        self.assertEqual([x for x in out if x.startswith("* VANISHED") or " FETCH " in x],
                         ["* VANISHED (EARLIER) 2:3",
                          "* 3 FETCH (UID 5 FLAGS (\\Flagged) MODSEQ (%s))"
                          % re.search(r"MODSEQ \((\d+)\)", fetches[0] if "UID 5 " in fetches[0]
                                      else fetches[1]).group(1)])
        self.assertEqual(out[-1], "t OK [READ-ONLY] EXAMINE completed")
        # sequence match data (RFC 7162 3.2.5.2) is accepted; history is exact anyway
        out = c.tagged(f"u SELECT Qs (QRESYNC ({uv} {ms} 1:11 (1:4 1:4)))")
        self.assertEqual([x for x in out if x.startswith("* VANISHED")],
                         ["* VANISHED (EARLIER) 2:3,7"])
        # up to date: nothing to report
        out = c.tagged(f"v SELECT Qs (QRESYNC ({uv} {hms}))")
        self.assertFalse([x for x in out if x.startswith("* VANISHED") or " FETCH " in x], out)
        # another UIDVALIDITY: the parameter is ignored (a plain SELECT)
        out = c.tagged(f"w SELECT Qs (QRESYNC ({uv + 1} {ms} 1:11))")
        self.assertFalse([x for x in out if x.startswith("* VANISHED") or " FETCH " in x], out)
        self.assertEqual(out[-1], "w OK [READ-WRITE] SELECT completed")
        # CONDSTORE and QRESYNC together
        out = c.tagged(f"x SELECT Qs (CONDSTORE QRESYNC ({uv} {ms} 2:3))")
        self.assertEqual([x for x in out if x.startswith("* VANISHED") or " FETCH " in x],
                         ["* VANISHED (EARLIER) 2:3"])

    def test_qresync_bad_input(self):
        self.make_box("Qb", 2)
        plain = self.raw(enable="CONDSTORE")
        self.assertEqual(plain.tagged("a SELECT Qb (QRESYNC (1 1))"),
                         ["a BAD QRESYNC is not enabled (ENABLE QRESYNC first)"])
        self.assertEqual(plain.tagged("b SELECT Qb")[-1], "b OK [READ-WRITE] SELECT completed")
        self.assertEqual(plain.tagged("c UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
                         ["c BAD VANISHED needs ENABLE QRESYNC first"])
        c = self.raw()
        usage = "QRESYNC (uidvalidity modseq [known-uids [(seq-set uid-set)]])"
        for bad in ("(QRESYNC (0 1))", "(QRESYNC (1))", "(QRESYNC (1 x))", "(QRESYNC (1 1 1:*))",
                    "(QRESYNC (1 1 1:5 (1:2 1:3)))", "(QRESYNC (1 1 1:5 (1:2)))",
                    "(QRESYNC (1 1 1:5 (1:2 1:2) x))", "(QRESYNC (1 1 1 2))",
                    "(QRESYNC (1 99999999999999999999))"):
            self.assertEqual(c.tagged(f"d SELECT Qb {bad}"), [f"d BAD {usage}"], bad)
        self.assertEqual(c.tagged("d SELECT Qb (QRESYNC)")[-1][:6], "d BAD ")
        self.assertEqual(c.tagged("d SELECT Qb (BOGUS)")[-1][:6], "d BAD ")
        self.assertEqual(c.tagged("e SELECT Qb")[-1], "e OK [READ-WRITE] SELECT completed")
        self.assertEqual(c.tagged("f FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)"),
                         ["f BAD VANISHED is only allowed with UID FETCH"])
        self.assertEqual(c.tagged("g UID FETCH 1:* (FLAGS) (VANISHED)"),
                         ["g BAD VANISHED needs CHANGEDSINCE"])
        self.assertEqual(c.tagged("h UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 BOGUS)"),
                         ["h BAD Invalid FETCH items"])

    # ------------------------------------------------------------ UID FETCH .. VANISHED
    def test_uid_fetch_changedsince_vanished(self):
        m = self.make_box("Qf", 6)
        uv, ms, _ = self.status(m, "Qf")
        c = self.raw()
        c.tagged("s SELECT Qf")
        self.expunge_uids(m, "2,4")
        hms_expunged = self.status(m, "Qf")[1]  # 2 and 4 took one modseq each, 4's is this
        self.assertEqual(m.uid("STORE", "5", "+FLAGS", r"(\Seen)")[0], "OK")
        out = c.tagged(f"f UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
        # the map still holds 2 and 4 (no VANISHED during FETCH), so 5 is still message 5
        self.assertEqual(out[0], "* VANISHED (EARLIER) 2,4")
        self.assertRegex(out[1], r"^\* 5 FETCH \(UID 5 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$")
        # MODSEQ went out past expunges held back: HIGHESTMODSEQ below the first of them
        self.assertEqual(out[2], f"* OK [HIGHESTMODSEQ {hms_expunged - 2}] Expunges pending")
        self.assertLess(hms_expunged - 2, int(re.search(r"MODSEQ \((\d+)\)", out[1]).group(1)))
        self.assertEqual(out[3:], ["f OK UID FETCH completed"])
        # only UIDs of the set are reported
        out = c.tagged(f"g UID FETCH 3:6 (FLAGS) (VANISHED CHANGEDSINCE {ms})")
        self.assertEqual(out[0], "* VANISHED (EARLIER) 4")
        out = c.tagged(f"h UID FETCH 5:6 (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
        self.assertFalse([x for x in out if x.startswith("* VANISHED")], out)
        # the live VANISHED for the session's own view comes at the next NOOP
        self.assertEqual(c.tagged("n NOOP"), ["* VANISHED 2,4", "n OK NOOP completed"])
        # '*' of a UID set reaches past the last message: 6 was the highest UID
        self.expunge_uids(m, "6")
        self.assertEqual(c.tagged("o NOOP"), ["* VANISHED 6", "o OK NOOP completed"])
        out = c.tagged(f"p UID FETCH 3:* (UID) (CHANGEDSINCE {ms} VANISHED)")
        self.assertEqual(out[0], "* VANISHED (EARLIER) 4,6")
        self.assertRegex(out[1], r"^\* 3 FETCH \(UID 5 MODSEQ \(\d+\)\)$")
        self.assertEqual(out[2:], ["p OK UID FETCH completed"])

    # ------------------------------------------------------------ VANISHED instead of EXPUNGE
    def test_live_vanished_noop_idle_expunge_move_close(self):
        m = self.make_box("Ql", 9)
        self.assertEqual(m.create("Ql/Dest")[0], "OK")
        c = self.raw()
        c.tagged("s SELECT Ql")
        # another session expunges: NOOP reports VANISHED, not EXPUNGE
        self.expunge_uids(m, "1,3")
        self.assertEqual(c.tagged("a NOOP"), ["* VANISHED 1,3", "a OK NOOP completed"])
        # ... and IDLE pushes it
        self.assertEqual(c.cmd("b IDLE"), "+ idling")
        self.expunge_uids(m, "6")
        line = c.line()
        if " FETCH " in line:  # the \Deleted flag change, when seen before the expunge
            self.assertEqual(line, "* 4 FETCH (UID 6 FLAGS (\\Deleted) MODSEQ (%s))"
                             % re.search(r"MODSEQ \((\d+)\)", line).group(1))
            line = c.line()
        self.assertEqual(line, "* VANISHED 6")
        self.assertEqual(c.cmd("DONE"), "b OK IDLE terminated")
        # the session's own EXPUNGE: VANISHED and HIGHESTMODSEQ in the tagged OK (3.2.7)
        self.assertEqual(c.tagged("c UID STORE 7:8 +FLAGS.SILENT (\\Deleted)"),
                         ["c OK UID STORE completed"])
        out = c.tagged("d EXPUNGE")
        self.assertEqual(out[0], "* VANISHED 7:8")
        _, hms, _ = self.status(m, "Ql")
        self.assertEqual(out[1], f"d OK [HIGHESTMODSEQ {hms}] EXPUNGE completed")
        # nothing expunged: no response code
        self.assertEqual(c.tagged("e EXPUNGE"), ["e OK EXPUNGE completed"])
        # UID EXPUNGE (3.2.9)
        c.tagged("f UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        out = c.tagged("g UID EXPUNGE 4")
        _, hms, _ = self.status(m, "Ql")
        self.assertEqual(out, ["* VANISHED 4", f"g OK [HIGHESTMODSEQ {hms}] UID EXPUNGE completed"])
        # MOVE: COPYUID, then VANISHED
        out = c.tagged("h UID MOVE 5 Ql/Dest")
        self.assertRegex(out[0], r"^\* OK \[COPYUID \d+ 5 1\] Moved$")
        self.assertEqual(out[1:], ["* VANISHED 5", "h OK UID MOVE completed"])
        # CLOSE expunges silently, without HIGHESTMODSEQ (RFC 7162 3.2.8)
        self.assertEqual(c.tagged("i CLOSE"), ["i OK CLOSE completed"])
        self.assertEqual(self.status(m, "Ql")[2], 1)  # only 9 is left

    def test_rev1_session_without_qresync_still_gets_expunge(self):
        m = self.make_box("Qe", 3)
        c = self.raw(enable=None)
        c.tagged("s SELECT Qe")
        self.expunge_uids(m, "2")
        self.assertEqual(c.tagged("a NOOP"), ["* 2 EXPUNGE", "a OK NOOP completed"])

    # ------------------------------------------------------------ CONDSTORE leftovers
    def test_condstore_fetch_responses_carry_uid_and_modseq(self):
        self.make_box("Qc", 3)
        c = self.raw(enable="CONDSTORE")
        c.tagged("s SELECT Qc")
        # a FETCH that sets \Seen: its FLAGS come with UID and MODSEQ (RFC 7162 3.2.4)
        out = c.tagged("a FETCH 2 (BODY[TEXT])")
        self.assertRegex(out[0], r"^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\) BODY\[TEXT\] "
                                 r"\{\d+\}$")
        # a conditional STORE .SILENT still reports the new MODSEQ (3.1.3)
        out = c.tagged("b STORE 1 (UNCHANGEDSINCE 999999) +FLAGS.SILENT (\\Flagged)")
        self.assertRegex(out[0], r"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$")
        self.assertEqual(out[1:], ["b OK STORE completed"])
        # and a plain STORE's FETCH has UID too
        out = c.tagged("c STORE 3 +FLAGS (\\Answered)")
        self.assertRegex(out[0], r"^\* 3 FETCH \(FLAGS \(\\Answered\) UID 3 MODSEQ \(\d+\)\)$")

    # ------------------------------------------------------------ IMAP4rev2 leftovers
    def test_rev2_rejects_recent_keys(self):
        m = self.make_box("Qr", 2)
        c = self.raw(enable="IMAP4rev2")
        self.assertEqual(c.tagged("a STATUS Qr (MESSAGES RECENT)"),
                         ["a BAD Unknown STATUS item"])
        self.assertEqual(c.tagged("b STATUS Qr (MESSAGES)"),
                         ['* STATUS "Qr" (MESSAGES 2)', "b OK STATUS completed"])
        self.assertEqual(c.tagged('c LIST "" Qr RETURN (STATUS (RECENT))')[-1][:6], "c BAD ")
        c.tagged("s SELECT Qr")
        for key in ("RECENT", "NEW", "OLD", "NOT RECENT", "OR SEEN NEW"):
            self.assertEqual(c.tagged(f"d SEARCH {key}"),
                             ["d BAD RECENT, NEW and OLD are not IMAP4rev2 search keys"], key)
        self.assertEqual(c.tagged("e SEARCH ALL"),
                         ['* ESEARCH (TAG "e") ALL 1:2', "e OK SEARCH completed"])
        # a new message: EXISTS, and no RECENT in a rev2 session
        self.assertEqual(m.append("Qr", None, None, MSG.format(n=3).encode())[0], "OK")
        self.assertEqual(c.tagged("f NOOP"), ["* 3 EXISTS", "f OK NOOP completed"])
        # the same keys still work in an IMAP4rev1 session
        r1 = self.raw(enable=None)
        self.assertEqual(r1.tagged("a STATUS Qr (RECENT)")[-1], "a OK STATUS completed")

    def test_rev1_new_message_is_recent_in_the_session(self):
        m = self.make_box("Qn", 1)
        c = self.raw(enable=None)
        out = c.tagged("s EXAMINE Qn")
        self.assertIn("* 0 RECENT", out)  # the appending session's SELECT took it
        self.assertEqual(m.append("Qn", None, None, MSG.format(n=2).encode())[0], "OK")
        self.assertEqual(c.tagged("a NOOP"),
                         ["* 2 EXISTS", "* 1 RECENT", "a OK NOOP completed"])
        self.assertEqual(c.tagged("b SEARCH RECENT"), ["* SEARCH 2", "b OK SEARCH completed"])
        self.assertEqual(c.tagged("c SEARCH NEW"), ["* SEARCH 2", "c OK SEARCH completed"])


if __name__ == "__main__":
    unittest.main()
