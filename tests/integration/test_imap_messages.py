"""The IMAP plugin's message commands with python3 imaplib, raw sockets and
curl: APPEND (APPENDUID, TOOBIG, OVERQUOTA), FETCH / UID FETCH (every item
form implemented, streaming of large responses), STORE, EXPUNGE, UID EXPUNGE,
CLOSE, COPY / MOVE (COPYUID), IDLE woken by petrelctl deliver and by another
session, and the untagged-response rules between two sessions."""
import imaplib
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld, imap_client  # noqa: E402

USER, PASS = "carol@example.test", "pw for carol"
SMALL = "tiny@example.test"
MSG = (b"From: Bob <bob@example.test>\r\nTo: carol@example.test\r\nSubject: hello\r\n"
       b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n"
       b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
       b"Hello Carol,\r\nsee you.\r\n")
MULTI = (b"From: a@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n"
         b"--xx\r\nContent-Type: text/plain\r\n\r\npart one\r\n"
         b"--xx\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--xx--\r\n")


class ImapMessagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {"max_message_size": "65536"})])
        cls.d.start()
        cls.d.add_user(USER, PASS)
        cls.d.add_user(SMALL, "tinypass1")
        cls.d.ctl("user", "set", SMALL, "--quota", "2000", check=False)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def imap(self, user=USER, password=PASS):
        return imap_client(self, self.d.ports["imap"], user, password)

    def box(self, m, name, msgs=(MSG,)):
        self.assertEqual(m.create(name)[0], "OK")
        for body in msgs:
            self.assertEqual(m.append(name, None, None, body)[0], "OK")
        typ, data = m.select(name)
        self.assertEqual(typ, "OK")
        return int(data[0])

    def test_append_appenduid_flags_date(self):
        m = self.imap()
        m.create("App")
        typ, data = m.append("App", r"(\Flagged $Work)", '"01-Feb-2025 10:20:30 +0200"', MSG)
        self.assertEqual(typ, "OK")
        uv, uid = re.match(rb"\[APPENDUID (\d+) (\d+)\]", data[0]).groups()
        self.assertEqual(uid, b"1")
        m.select("App")
        self.assertEqual(m.untagged_responses["UIDVALIDITY"], [uv])
        typ, data = m.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE UID)")
        self.assertEqual(data[0], b'1 (UID 1 FLAGS (\\Flagged $Work) INTERNALDATE '
                                  b'"01-Feb-2025 08:20:30 +0000" RFC822.SIZE %d)' % len(MSG))
        self.assertEqual(m.append("NoSuchBox", None, None, MSG)[0], "NO")
        with self.assertRaises(imaplib.IMAP4.error):
            m.append("App", r"(\Bogus)", None, MSG)
        with self.assertRaises(imaplib.IMAP4.error):
            m.append("App", None, '"31-Foo-2025 10:20:30 +0200"', MSG)

    def test_append_to_selected_mailbox_reports_exists(self):
        m = self.imap()
        self.box(m, "AppSel")
        typ, _ = m.append("AppSel", None, None, MSG)
        self.assertEqual(m.untagged_responses.get("EXISTS")[-1], b"2")

    def test_append_too_big_and_over_quota(self):
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        c.line()
        self.assertTrue(c.cmd(f'a LOGIN {USER} "{PASS}"').startswith("a OK"))
        # over max_message_size: refused before the "+"
        self.assertEqual(c.cmd("b APPEND INBOX {70000}"), "b NO [TOOBIG] Literal too big")
        self.assertEqual(c.cmd("c NOOP"), "c OK NOOP completed")
        m = self.imap(SMALL, "tinypass1")
        self.assertEqual(m.append("INBOX", None, None, MSG)[0], "OK")
        typ, data = m.append("INBOX", None, None, MSG + b"x" * 3000)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])

    def test_literal_plus_append(self):
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        c.line()
        self.assertTrue(c.cmd(f'a LOGIN {USER} "{PASS}"').startswith("a OK"))
        c.send(b"b APPEND INBOX (\\Seen) {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
        self.assertRegex(c.line(), r"^b OK \[APPENDUID \d+ \d+\] APPEND completed$")

    def test_fetch_items(self):
        m = self.imap()
        self.box(m, "Fetch", (MSG, MULTI))
        typ, data = m.fetch("1", "(ENVELOPE)")
        self.assertIn(b'ENVELOPE ("Thu, 26 Nov 2026 12:00:00 +0000" "hello" (("Bob" NIL "bob" '
                      b'"example.test"))', data[0])
        typ, data = m.fetch("2", "BODYSTRUCTURE")
        self.assertIn(b'("text" "plain"', data[0])
        self.assertIn(b'"mixed"', data[0])
        typ, data = m.fetch("2", "BODY")
        self.assertIn(b'BODY ((', data[0])
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
        self.assertEqual(data[0][1], b"From: Bob <bob@example.test>\r\nSubject: hello\r\n\r\n")
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM TO DATE "
                                 "MIME-VERSION CONTENT-TYPE)])")
        self.assertEqual(data[0][1], b"Message-ID: <m1@example.test>\r\n\r\n")
        typ, data = m.fetch("1", "(BODY.PEEK[TEXT]<6.5>)")
        self.assertEqual(data[0], (b"1 (BODY[TEXT]<6> {5}", b"Carol"))
        typ, data = m.fetch("2", "(BODY.PEEK[2])")
        self.assertEqual(data[0][1], b"<p>two</p>")
        typ, data = m.fetch("2", "(BODY.PEEK[1.MIME])")
        self.assertEqual(data[0][1], b"Content-Type: text/plain\r\n\r\n")
        typ, data = m.fetch("2", "(BODY.PEEK[9])")
        self.assertIn(b"BODY[9] NIL", data[0])
        typ, data = m.fetch("1", "(RFC822.HEADER)")
        self.assertTrue(data[0][1].endswith(b"charset=us-ascii\r\n\r\n"))
        typ, data = m.fetch("1:2", "FAST")
        self.assertRegex(data[1].decode(), r'^2 \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822.SIZE \d+\)$')
        self.assertEqual(m.fetch("1", "(FLAGS)")[1], [b"1 (FLAGS ())"])  # PEEK left \Seen alone
        for bad in ("(BODY[HEADER.FIELDS ()])", "(BOGUS)", "(BODY[1.0])", "(BODY[]<1>)",
                    "(ALL FLAGS)"):
            with self.assertRaises(imaplib.IMAP4.error, msg=bad):
                m.fetch("1", bad)
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("3", "FLAGS")  # no message 3

    def test_fetch_body_sets_seen(self):
        m = self.imap()
        self.box(m, "Seen")
        typ, data = m.fetch("1", "(BODY[])")
        self.assertEqual(data[0][0], b"1 (FLAGS (\\Seen) BODY[] {%d}" % len(MSG))
        self.assertEqual(data[0][1], MSG)
        self.assertEqual(m.fetch("1", "FLAGS")[1], [b"1 (FLAGS (\\Seen))"])
        m.store("1", "-FLAGS", r"(\Seen)")
        m.select("Seen", readonly=True)  # EXAMINE: fetching RFC822 does not set \Seen
        self.assertEqual(m.uid("FETCH", "1", "(RFC822)")[1][0], (b"1 (UID 1 RFC822 {%d}" % len(MSG), MSG))
        self.assertEqual(m.fetch("1", "FLAGS")[1], [b"1 (FLAGS ())"])

    def test_uid_fetch_and_store(self):
        m = self.imap()
        self.box(m, "Uids", (MSG, MSG, MSG))
        typ, data = m.uid("FETCH", "2:*", "(FLAGS)")
        self.assertEqual(data, [b"2 (UID 2 FLAGS ())", b"3 (UID 3 FLAGS ())"])
        typ, data = m.uid("FETCH", "10:20", "(FLAGS)")
        self.assertEqual((typ, data), ("OK", [None]))
        typ, data = m.store("1:2", "+FLAGS", r"(\Seen $Label1)")
        self.assertEqual(data, [b"1 (FLAGS (\\Seen $Label1))", b"2 (FLAGS (\\Seen $Label1))"])
        typ, data = m.uid("STORE", "2", "-FLAGS", r"(\Seen)")
        self.assertEqual(data, [b"2 (FLAGS ($Label1) UID 2)"])
        typ, data = m.store("3", "FLAGS.SILENT", r"(\Answered)")
        self.assertEqual(data, [None])
        self.assertEqual(m.fetch("3", "FLAGS")[1], [b"3 (FLAGS (\\Answered))"])
        with self.assertRaises(imaplib.IMAP4.error):
            m.store("1", "+FLAGS", r"(\Bogus)")
        m.select("Uids", readonly=True)
        self.assertEqual(m.store("1", "+FLAGS", r"(\Seen)")[0], "NO")

    def test_expunge_uid_expunge_close(self):
        m = self.imap()
        self.box(m, "Exp", (MSG,) * 5)
        m.store("1,3,5", "+FLAGS", r"(\Deleted)")
        typ, data = m.uid("EXPUNGE", "1:3")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"1", b"2"])
        typ, data = m.uid("FETCH", "1:*", "UID")
        self.assertEqual(data, [b"1 (UID 2)", b"2 (UID 4)", b"3 (UID 5)"])
        typ, data = m.expunge()
        self.assertEqual(data, [b"3"])
        m.store("1", "+FLAGS", r"(\Deleted)")
        self.assertEqual(m.close()[0], "OK")
        self.assertNotIn("EXPUNGE", m.untagged_responses)
        self.assertEqual(m.status("Exp", "(MESSAGES)")[1], [b'"Exp" (MESSAGES 1)'])

    def test_copy_move_copyuid(self):
        m = self.imap()
        self.box(m, "Src", (MSG, MSG, MSG))
        m.create("Dst")
        typ, data = m.copy("1:2", "Dst")
        self.assertRegex(data[0].decode(), r"^\[COPYUID \d+ 1:2 1:2\] COPY completed$")
        typ, data = m.uid("MOVE", "3", "Dst")
        self.assertEqual(typ, "OK")
        self.assertRegex(m.untagged_responses.pop("COPYUID")[-1].decode(), r"^\d+ 3 3$")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"3"])
        typ, _ = m._simple_command("MOVE", "1", "Dst")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"1"])
        self.assertEqual(m.status("Dst", "(MESSAGES)")[1], [b'"Dst" (MESSAGES 4)'])
        self.assertEqual(m.copy("1", "Nowhere"), ("NO", [b"[TRYCREATE] No such mailbox"]))

    def test_two_sessions_expunge_rules(self):
        a, b = self.imap(), self.imap()
        self.box(a, "Two", (MSG, MSG, MSG))
        b.select("Two")
        b.untagged_responses.clear()
        a.store("2", "+FLAGS", r"(\Deleted \Flagged)")
        a.expunge()
        # b: FETCH must not carry EXPUNGE (RFC 3501 7.4.1) ...
        typ, data = b.fetch("1:3", "(UID)")
        self.assertEqual(typ, "OK")
        self.assertNotIn("EXPUNGE", b.untagged_responses)
        self.assertEqual([x for x in data if x], [b"1 (UID 1)", b"3 (UID 3)"])
        # ... NOOP does, and sequence numbers shift after it
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"2"])
        self.assertEqual(b.fetch("2", "UID")[1], [b"2 (UID 3)"])
        # flag changes of the other session arrive as FETCH
        a.store("1", "+FLAGS", r"(\Answered)")
        b.untagged_responses.clear()
        b.noop()
        self.assertEqual(b.untagged_responses.get("FETCH"), [b"1 (UID 1 FLAGS (\\Answered))"])

    def test_idle_woken_by_delivery_and_other_session(self):
        m = self.imap()
        self.box(m, "Idle")
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        c.line()
        self.assertTrue(c.cmd(f'a LOGIN {USER} "{PASS}"').startswith("a OK"))
        c.send("b SELECT Idle\r\n")
        while not c.line().startswith("b OK"):
            pass
        self.assertEqual(c.cmd("c IDLE"), "+ idling")
        self.d.ctl("deliver", USER, "--mailbox", "Idle", input=MSG.decode())
        self.assertEqual(c.line(), "* 2 EXISTS")
        self.assertEqual(c.line(), "* 1 RECENT")  # IMAP4rev1: the new message is \Recent here
        m.store("1", "+FLAGS", r"(\Deleted)")
        m.expunge()
        line = c.line()
        if line.startswith("* 1 FETCH"):  # the flag change, when seen before the expunge
            self.assertEqual(line, "* 1 FETCH (UID 1 FLAGS (\\Deleted))")
            line = c.line()
        self.assertEqual(line, "* 1 EXPUNGE")
        self.assertEqual(c.cmd("DONE"), "c OK IDLE terminated")
        self.assertEqual(c.cmd("d IDLE"), "+ idling")
        self.assertEqual(c.cmd("NOTDONE"), "d BAD Expected DONE")

    def test_large_fetch_is_streamed(self):
        m = self.imap()
        big = MSG + b"y" * 60000 + b"\r\n"
        self.box(m, "Big", (big,) * 40)
        # 40 x 60 KB in one response, read slowly: the server must not give up
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        c.line()
        self.assertTrue(c.cmd(f'a LOGIN {USER} "{PASS}"').startswith("a OK"))
        c.send("b EXAMINE Big\r\n")
        while not c.line().startswith("b OK"):
            pass
        c.send("c FETCH 1:* (UID BODY.PEEK[])\r\nd NOOP\r\n")
        time.sleep(0.5)
        got, total = 0, 0
        while True:
            line = c.line()
            mm = re.search(r"\{(\d+)\}$", line)
            if mm:
                n = int(mm.group(1))
                while len(c.buf) < n:
                    c.buf += c.sock.recv(65536)
                self.assertEqual(c.buf[:n], big)
                c.buf = c.buf[n:]
                got += 1
                total += n
            if line.startswith("c "):
                self.assertEqual(line, "c OK FETCH completed")
                break
        self.assertEqual(got, 40)
        self.assertEqual(c.line(), "d OK NOOP completed")  # pipelined, answered after

    def test_search(self):
        m = self.imap()
        m.create("Find")
        m.append("Find", r"(\Seen)", '"01-Feb-2025 10:00:00 +0000"', MSG)
        m.append("Find", r"(\Flagged $Work)", '"03-Feb-2025 10:00:00 +0000"', MSG + b"x" * 500)
        m.append("Find", None, '"05-Feb-2025 10:00:00 +0000"', MSG)
        m.select("Find")
        cases = {
            "ALL": b"1 2 3", "SEEN": b"1", "UNSEEN": b"2 3", "FLAGGED UNSEEN": b"2",
            "KEYWORD $Work": b"2", "UNKEYWORD $Work": b"1 3", "LARGER 400": b"2",
            "SMALLER 400": b"1 3", "BEFORE 3-Feb-2025": b"1", "ON 03-Feb-2025": b"2",
            "SINCE 3-Feb-2025": b"2 3", "OR SEEN FLAGGED": b"1 2", "NOT SEEN": b"2 3",
            "2:*": b"2 3", "UID 1,3": b"1 3", "(SEEN) (ALL)": b"1", "NOT (OR SEEN FLAGGED)": b"3",
            "CHARSET UTF-8 DELETED": b"", "RECENT": b"1 2 3", "NEW": b"2 3", "OLD": b"",
        }
        for q, want in cases.items():
            typ, data = m.search(None, q)
            self.assertEqual((typ, data), ("OK", [want]), q)
        typ, data = m.uid("SEARCH", "UNSEEN")
        self.assertEqual(data, [b"2 3"])
        self.assertEqual(m.search(None, "SENTBEFORE", "1-Jan-2020"), ("OK", [b""]))
        self.assertEqual(m.search(None, "SENTON", "26-Nov-2026"), ("OK", [b"1 2 3"]))
        self.assertEqual(m.search("KOI8-R", "ALL")[0], "NO")
        for bad in ("BOGUS", "LARGER x", "BEFORE 32-Feb-2025", "OR SEEN", "9:10"):
            with self.assertRaises(imaplib.IMAP4.error, msg=bad):
                m.search(None, bad)

    def test_search_text(self):
        m = self.imap()
        m.create("FindText")
        m.append("FindText", None, None, MSG)
        m.append("FindText", None, None,
                 b"From: =?UTF-8?Q?Ren=C3=A9?= <rene@example.test>\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\n"
                 b"X-Tag: blue\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                 b"c2VjcmV0IHdvcmQ=\r\n")  # "secret word"
        m.append("FindText", None, None, MULTI)
        m.select("FindText")
        cases = [
            (("FROM", "bob"), b"1"), (("FROM", b'"ren\xc3\xa9"'), b"2"), (("SUBJECT", "HELLO"), b"1"),
            (("SUBJECT", "caf"), b"2"), (("TO", "carol"), b"1"), (("HEADER", "X-Tag", "BLUE"), b"2"),
            (("HEADER", "X-Tag", '""'), b"2"), (("BODY", '"see you"'), b"1"),
            (("BODY", "secret"), b"2"), (("BODY", "two"), b"3"), (("TEXT", "Message-ID"), b"1"),
            (("TEXT", "carol"), b"1"), (("NOT", "BODY", "carol"), b"2 3"),
            (("OR", "SUBJECT", "parts", "FROM", "bob"), b"1 3"), (("CC", "x"), b""),
        ]
        for args, want in cases:
            try:
                typ, data = m.search("UTF-8", *args)
            except imaplib.IMAP4.error as e:
                self.fail(f"{args}: {e}")
            self.assertEqual((typ, data), ("OK", [want]), args)

    def test_condstore(self):
        m = self.imap()
        typ, data = m.xatom("ENABLE", "CONDSTORE")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b"CONDSTORE"])
        typ, data = m.xatom("ENABLE", "CONDSTORE")  # already on: not listed again
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b""])
        self.box(m, "Cs", (MSG, MSG, MSG))
        typ, data = m.status("Cs", "(HIGHESTMODSEQ)")
        hms = int(re.search(rb"HIGHESTMODSEQ (\d+)", data[0]).group(1))
        typ, data = m.fetch("1:*", "(UID MODSEQ)")
        mods = [int(re.search(rb"MODSEQ \((\d+)\)", d).group(1)) for d in data]
        self.assertEqual(len(mods), 3)
        self.assertLessEqual(max(mods), hms)
        # FLAGS responses carry MODSEQ once enabled
        typ, data = m.store("2", "+FLAGS", r"(\Seen)")
        new2 = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
        self.assertGreater(new2, max(mods))
        # CHANGEDSINCE: only message 2 changed since then
        typ, data = m.fetch("1:*", "(FLAGS) (CHANGEDSINCE %d)" % max(mods))
        self.assertEqual(data, [b"2 (FLAGS (\\Seen) MODSEQ (%d))" % new2])
        # UNCHANGEDSINCE: 2 changed after max(mods), so it is MODIFIED; 1 and 3 change
        typ, data = m._simple_command("STORE", "1:3", "(UNCHANGEDSINCE %d)" % max(mods),
                                      "+FLAGS", r"(\Flagged)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"[MODIFIED 2] Conditional STORE failed"])
        fetched = m.untagged_responses.pop("FETCH")
        self.assertEqual([f.split(b" MODSEQ")[0] for f in fetched],
                         [b"1 (FLAGS (\\Flagged) UID 1", b"3 (FLAGS (\\Flagged) UID 3"])
        self.assertEqual(m.fetch("2", "(FLAGS)")[1], [b"2 (FLAGS (\\Seen) MODSEQ (%d))" % new2])
        typ, data = m._simple_command("UID", "STORE", "1", "(UNCHANGEDSINCE 0)", "+FLAGS",
                                      r"(\Draft)")
        self.assertEqual(data, [b"[MODIFIED 1] Conditional UID STORE failed"])
        typ, data = m.search(None, "MODSEQ", str(new2))
        self.assertRegex(data[0].decode(), r"^1 2 3 \(MODSEQ \d+\)$")
        typ, data = m.search(None, "MODSEQ", '"/flags/\\\\seen"', "all", str(new2 + 100))
        self.assertEqual(data, [b""])

    def test_curl_fetches_message(self):
        m = self.imap()
        self.box(m, "CurlFetch")
        r = subprocess.run(["curl", "-s", "--max-time", "10", "-u", f"{USER}:{PASS}",
                            f"imap://127.0.0.1:{self.d.ports['imap']}/CurlFetch;UID=1"],
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, MSG)


if __name__ == "__main__":
    unittest.main()
