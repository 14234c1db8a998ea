"""IMAP4rev2 (RFC 9051: ENABLE IMAP4rev2, UTF-8 names, ESEARCH-only SEARCH, SELECT
without RECENT) and its extensions, with python3 imaplib and raw sockets:
SEARCHRES (RFC 5182), ESEARCH (RFC 4731: SEARCH RETURN (MIN MAX COUNT ALL)), LIST-STATUS
(RFC 5819: LIST ... RETURN (STATUS (..))) and the [CLOSED] response code on a
SELECT/EXAMINE that replaces the selected mailbox (RFC 9051 7.1), LIST-EXTENDED
(RFC 5258), BINARY (RFC 3516), SEARCH SENTBEFORE/SENTON/SENTSINCE, and IDLE
woken by an SMTP delivery (an smtp listener in mx mode beside the imap one)."""
import base64
import imaplib
import os
import smtplib
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld, imap_client, imap_logout  # noqa: E402

USER, PASS = "rev2@example.test", "pw for rev2"
LIST_BAD = "t BAD LIST [(options)] reference pattern(s) [RETURN (options)]"
MSG = ("From: Bob <bob@example.test>\r\nTo: rev2@example.test\r\nSubject: s{n}\r\n"
       "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nMessage-ID: <r{n}@example.test>\r\n\r\n"
       "Body {n}\r\n")


class ImapRev2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {}), ("mx", "smtp", "none", {"mode": "mx"})])
        cls.d.start()
        cls.d.add_user(USER, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def imap(self):
        return imap_client(self, self.d.ports["imap"], USER, PASS)

    def raw(self):
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK [CAPABILITY IMAP4rev1 "))
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        return c

    def make_box(self, name, n):
        m = self.imap()
        self.assertEqual(m.create(name)[0], "OK")
        for k in range(1, n + 1):
            self.assertEqual(m.append(name, None, None, MSG.format(n=k).encode())[0], "OK")
        return m

    # ------------------------------------------------------------ capabilities
    def test_capability_lists_what_exists(self):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        self.addCleanup(imap_logout, m)
        for c in ("ESEARCH", "SEARCHRES", "LIST-EXTENDED", "LIST-STATUS", "BINARY", "IMAP4REV1",
                  "IMAP4REV2"):
            self.assertIn(c, m.capabilities)

    # ------------------------------------------------------------ ENABLE IMAP4rev2
    def test_rev2_session(self):
        m = self.make_box("Rv", 3)
        m.select("Rv")
        self.assertEqual(m.store("2", "+FLAGS", r"(\Seen)")[0], "OK")
        c = self.raw()
        self.assertEqual(c.tagged("b ENABLE IMAP4rev2 CONDSTORE"),
                         ["* ENABLED CONDSTORE IMAP4rev2", "b OK ENABLE completed"])
        self.assertEqual(c.tagged("c ENABLE IMAP4rev2"), ["* ENABLED", "c OK ENABLE completed"])
        # UTF-8 mailbox names both ways; a rev1 session sees modified UTF-7
        self.assertEqual(c.tagged('d CREATE "Rv/Ünï"'), ["d OK CREATE completed"])
        self.assertEqual(c.tagged('e LIST "" "Rv/*"'),
                         ['* LIST (\\HasNoChildren) "/" "Rv/Ünï"', "e OK LIST completed"])
        self.assertEqual(m.list('""', '"Rv/*"')[1], [b'(\\HasNoChildren) "/" "Rv/&ANw-n&AO8-"'])
        # SELECT: no RECENT, no UNSEEN; a LIST with the name
        out = c.tagged("f SELECT Rv")
        self.assertIn('* LIST () "/" "Rv"', out)
        self.assertIn("* 3 EXISTS", out)
        self.assertFalse([x for x in out if "RECENT" in x or "UNSEEN" in x], out)
        self.assertEqual(out[-1], "f OK [READ-WRITE] SELECT completed")
        # every SEARCH answers ESEARCH
        self.assertEqual(c.tagged("g SEARCH UNSEEN"),
                         ['* ESEARCH (TAG "g") ALL 1,3', "g OK SEARCH completed"])
        self.assertEqual(c.tagged("h UID SEARCH SEEN"),
                         ['* ESEARCH (TAG "h") UID ALL 2', "h OK UID SEARCH completed"])
        self.assertEqual(c.tagged("i SEARCH KEYWORD none"),
                         ['* ESEARCH (TAG "i")', "i OK SEARCH completed"])
        self.assertEqual(c.tagged("j SEARCH RETURN (COUNT) ALL"),
                         ['* ESEARCH (TAG "j") COUNT 3', "j OK SEARCH completed"])
        # \Recent stays for IMAP4rev1 sessions: a rev2 SELECT did not take it
        self.assertEqual(c.tagged("k SELECT \"Rv/Ünï\"")[0], "* OK [CLOSED] Previous mailbox closed")
        m2 = self.imap()
        self.assertEqual(m2.create("Rv2")[0], "OK")
        self.assertEqual(m2.append("Rv2", None, None, MSG.format(n=1).encode())[0], "OK")
        c.tagged("l SELECT Rv2")
        m2.select("Rv2")
        self.assertEqual(m2.untagged_responses.get("RECENT"), [b"1"])

    def test_rev1_session_keeps_rev1_forms(self):
        self.make_box("Rv1", 2)
        c = self.raw()
        out = c.tagged("a SELECT Rv1")
        self.assertIn("* 2 RECENT", out)
        self.assertIn("* OK [UNSEEN 1] First unseen", out)
        self.assertFalse([x for x in out if x.startswith("* LIST")], out)
        self.assertEqual(c.tagged("b SEARCH ALL"), ["* SEARCH 1 2", "b OK SEARCH completed"])

    # ------------------------------------------------------------ ESEARCH
    def test_esearch_return_options(self):
        m = self.make_box("Es", 6)
        m.select("Es")
        self.assertEqual(m.store("2,4:5", "+FLAGS", r"(\Seen)")[0], "OK")
        self.assertEqual(m.uid("STORE", "6", "+FLAGS", r"(\Deleted)")[0], "OK")
        self.assertEqual(m.expunge()[0], "OK")  # uids 1..5 left
        c = self.raw()
        c.tagged("s SELECT Es")
        self.assertEqual(c.tagged("a SEARCH RETURN (MIN MAX COUNT) SEEN"),
                         ['* ESEARCH (TAG "a") MIN 2 MAX 5 COUNT 3', "a OK SEARCH completed"])
        self.assertEqual(c.tagged("b SEARCH RETURN (ALL) SEEN"),
                         ['* ESEARCH (TAG "b") ALL 2,4:5', "b OK SEARCH completed"])
        # an empty RETURN list means ALL
        self.assertEqual(c.tagged("c UID SEARCH RETURN () ALL"),
                         ['* ESEARCH (TAG "c") UID ALL 1:5', "c OK UID SEARCH completed"])
        self.assertEqual(c.tagged("d UID SEARCH RETURN (COUNT MIN) UNSEEN"),
                         ['* ESEARCH (TAG "d") UID MIN 1 COUNT 2', "d OK UID SEARCH completed"])
        # no hits: MIN/MAX/ALL are left out, COUNT is 0
        self.assertEqual(c.tagged("e SEARCH RETURN (MIN MAX ALL COUNT) KEYWORD nope"),
                         ['* ESEARCH (TAG "e") COUNT 0', "e OK SEARCH completed"])
        self.assertEqual(c.tagged("f SEARCH RETURN (MIN) KEYWORD nope"),
                         ['* ESEARCH (TAG "f")', "f OK SEARCH completed"])
        # RETURN then CHARSET, and a text key
        self.assertEqual(c.tagged("g SEARCH RETURN (ALL) CHARSET UTF-8 SUBJECT s3"),
                         ['* ESEARCH (TAG "g") ALL 3', "g OK SEARCH completed"])
        # plain SEARCH keeps the RFC 3501 form
        self.assertEqual(c.tagged("h SEARCH SEEN"), ["* SEARCH 2 4 5", "h OK SEARCH completed"])
        # bad RETURN options
        self.assertEqual(c.tagged("i SEARCH RETURN (PARTIAL) ALL"),
                         ["i BAD RETURN takes a list of MIN MAX COUNT ALL SAVE"])
        self.assertEqual(c.tagged("j SEARCH RETURN MIN ALL"),
                         ["j BAD RETURN takes a list of MIN MAX COUNT ALL SAVE"])
        self.assertEqual(c.tagged("k SEARCH RETURN (COUNT)"), ["k BAD SEARCH needs keys"])

    def test_esearch_modseq(self):
        self.make_box("EsMod", 3)
        c = self.raw()
        out = c.tagged("s SELECT EsMod")
        hms = [x for x in out if "HIGHESTMODSEQ" in x][0]
        high = int(hms.split("HIGHESTMODSEQ ")[1].split("]")[0])
        out = c.tagged("a SEARCH RETURN (COUNT) MODSEQ 1")
        self.assertEqual(out, [f'* ESEARCH (TAG "a") COUNT 3 MODSEQ {high}', "a OK SEARCH completed"])

    # ------------------------------------------------------------ SEARCHRES
    def test_searchres(self):
        m = self.make_box("Res", 6)
        m.select("Res")
        self.assertEqual(m.store("2:3,5", "+FLAGS", r"(\Seen)")[0], "OK")
        c = self.raw()
        c.tagged("s SELECT Res")
        # "$" before any SAVE is the empty set
        self.assertEqual(c.tagged("a FETCH $ UID"), ["a OK FETCH completed"])
        # SAVE alone: no ESEARCH response
        self.assertEqual(c.tagged("b SEARCH RETURN (SAVE) SEEN"), ["b OK SEARCH completed"])
        self.assertEqual(c.tagged("c FETCH $ UID"),
                         ["* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)", "* 5 FETCH (UID 5)",
                          "c OK FETCH completed"])
        self.assertEqual(c.tagged("d UID SEARCH UID $"), ["* SEARCH 2 3 5",
                                                                 "d OK UID SEARCH completed"])
        # "$" in the SAVE search itself is the previous result
        self.assertEqual(c.tagged("e SEARCH RETURN (SAVE COUNT) OR $ 1"),
                         ['* ESEARCH (TAG "e") COUNT 4', "e OK SEARCH completed"])
        self.assertEqual(c.tagged("f SEARCH $"), ["* SEARCH 1 2 3 5", "f OK SEARCH completed"])
        # MIN/MAX without ALL/COUNT save only those
        self.assertEqual(c.tagged("g UID SEARCH RETURN (SAVE MIN MAX) UNSEEN"),
                         ['* ESEARCH (TAG "g") UID MIN 1 MAX 6', "g OK UID SEARCH completed"])
        self.assertEqual(c.tagged("h STORE $ +FLAGS.SILENT (\\Flagged)"),
                         ["h OK STORE completed"])
        self.assertEqual(c.tagged("i SEARCH FLAGGED"), ["* SEARCH 1 6", "i OK SEARCH completed"])
        # an expunged message leaves "$"
        self.assertEqual(c.tagged("j SEARCH RETURN (SAVE) 3:4"), ["j OK SEARCH completed"])
        self.assertEqual(c.tagged("k UID STORE 3 +FLAGS.SILENT (\\Deleted)"),
                         ["k OK UID STORE completed"])
        self.assertEqual(c.tagged("l EXPUNGE"), ["* 3 EXPUNGE", "l OK EXPUNGE completed"])
        self.assertEqual(c.tagged("m UID SEARCH $"), ["* SEARCH 4", "m OK UID SEARCH completed"])
        # a failed SAVE search empties it
        self.assertEqual(c.tagged("n SEARCH RETURN (SAVE) BOGUS"),
                         ["n BAD Missing or invalid search argument"])
        self.assertEqual(c.tagged("o SEARCH $"), ["* SEARCH", "o OK SEARCH completed"])
        # SELECT forgets it
        c.tagged("p SEARCH RETURN (SAVE) ALL")
        self.assertTrue(c.tagged("q SELECT Res")[-1].startswith("q OK"))
        self.assertEqual(c.tagged("r SEARCH $"), ["* SEARCH", "r OK SEARCH completed"])

    # ------------------------------------------------------------ [CLOSED]
    def test_closed_on_reselect(self):
        self.make_box("Cl1", 1)
        self.make_box("Cl2", 2)
        c = self.raw()
        first = c.tagged("a SELECT Cl1")
        self.assertFalse(any("[CLOSED]" in x for x in first))
        second = c.tagged("b EXAMINE Cl2")
        self.assertEqual(second[0], "* OK [CLOSED] Previous mailbox closed")
        self.assertIn("* 2 EXISTS", second)
        self.assertEqual(second[-1], "b OK [READ-ONLY] EXAMINE completed")
        # a failed SELECT also closes the old mailbox: [CLOSED], then NO, then nothing selected
        third = c.tagged("c SELECT NoSuchBox")
        self.assertEqual(third, ["* OK [CLOSED] Previous mailbox closed",
                                 "c NO [NONEXISTENT] No such mailbox"])
        self.assertEqual(c.tagged("d FETCH 1 FLAGS"), ["d BAD Command not valid in this state"])
        # selecting from the authenticated state: no [CLOSED]
        fourth = c.tagged("e SELECT Cl1")
        self.assertFalse(any("[CLOSED]" in x for x in fourth))

    # ------------------------------------------------------------ LIST-STATUS
    def test_list_status(self):
        m = self.make_box("Ls", 3)
        m.select("Ls")
        self.assertEqual(m.store("1", "+FLAGS", r"(\Seen)")[0], "OK")
        self.assertEqual(m.create("LsTree/Leaf")[0], "OK")
        c = self.raw()
        out = c.tagged('a LIST "" "Ls*" RETURN (STATUS (MESSAGES UNSEEN))')
        self.assertEqual(out, ['* LIST (\\HasNoChildren) "/" "Ls"',
                               '* STATUS "Ls" (MESSAGES 3 UNSEEN 2)',
                               '* LIST (\\HasChildren) "/" "LsTree"',
                               '* STATUS "LsTree" (MESSAGES 0 UNSEEN 0)',
                               '* LIST (\\HasNoChildren) "/" "LsTree/Leaf"',
                               '* STATUS "LsTree/Leaf" (MESSAGES 0 UNSEEN 0)',
                               "a OK LIST completed"])
        out = c.tagged('b LIST "" Ls RETURN (CHILDREN STATUS (UIDNEXT SIZE) SPECIAL-USE)')
        self.assertEqual(out[0], '* LIST (\\HasNoChildren) "/" "Ls"')
        self.assertRegex(out[1], r'^\* STATUS "Ls" \(UIDNEXT 4 SIZE \d+\)$')
        self.assertEqual(out[2], "b OK LIST completed")
        # RETURN without STATUS is the plain listing
        self.assertEqual(c.tagged('c LIST "" Ls RETURN ()'),
                         ['* LIST (\\HasNoChildren) "/" "Ls"', "c OK LIST completed"])
        # imaplib sees the STATUS responses too
        typ, data = m.list('""', '"Ls" RETURN (STATUS (MESSAGES))')
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.get("STATUS"), [b'"Ls" (MESSAGES 3)'])

    def test_list_status_noselect_and_bad(self):
        m = self.imap()
        self.assertEqual(m.create("Gone/Kid")[0], "OK")
        self.assertEqual(m.delete("Gone")[0], "OK")  # a parent deleted under its child
        c = self.raw()
        out = c.tagged('a LIST "" "Gone%" RETURN (STATUS (MESSAGES))')
        self.assertEqual(out, ['* LIST (\\Noselect \\HasChildren) "/" "Gone"', "a OK LIST completed"])
        for bad in ('b LIST "" * RETURN (STATUS (BOGUS))', 'b LIST "" * RETURN (STATUS ())',
                    'b LIST "" * RETURN (STATUS)', 'b LIST "" * RETURN (BOGUS)',
                    'b LIST "" * RETURN STATUS', 'b LIST "" * FOO (STATUS (MESSAGES))',
                    'b LIST "" * RETURN (STATUS (MESSAGES) STATUS (UNSEEN))'):
            self.assertEqual(c.tagged(bad),
                             [LIST_BAD.replace("t", "b", 1)], bad)
        self.assertEqual(c.tagged('c LSUB "" * RETURN (STATUS (MESSAGES))'),
                         ["c BAD LSUB reference pattern"])

    # ------------------------------------------------------------ LIST-EXTENDED
    def test_list_extended_selection(self):
        m = self.imap()
        for name in ("LxA", "LxA/Sub", "LxB", "LxC"):
            self.assertEqual(m.create(name)[0], "OK")
        self.assertEqual(m._simple_command("CREATE", "LxArch", "(USE (\\Archive))")[0], "OK")
        for name in ("LxA/Sub", "LxB", "LxC"):
            self.assertEqual(m.subscribe(name)[0], "OK")
        self.assertEqual(m.delete("LxC")[0], "OK")  # its subscription stays: \NonExistent
        c = self.raw()
        self.assertEqual(c.tagged('a LIST (SUBSCRIBED) "" "Lx*"'),
                         ['* LIST (\\HasNoChildren \\Subscribed) "/" "LxA/Sub"',
                          '* LIST (\\HasNoChildren \\Subscribed) "/" "LxB"',
                          '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" "LxC"',
                          "a OK LIST completed"])
        # RECURSIVEMATCH: the unsubscribed parent of a subscribed child, with CHILDINFO
        self.assertEqual(c.tagged('b LIST (SUBSCRIBED RECURSIVEMATCH REMOTE) "" "Lx%"'),
                         ['* LIST (\\HasChildren) "/" "LxA" ("CHILDINFO" ("SUBSCRIBED"))',
                          '* LIST (\\HasNoChildren \\Subscribed) "/" "LxB"',
                          '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" "LxC"',
                          "b OK LIST completed"])
        # without RECURSIVEMATCH the parent is not listed
        self.assertEqual(c.tagged('c LIST (SUBSCRIBED) "" "LxA"'), ["c OK LIST completed"])
        # several patterns, RETURN (SUBSCRIBED) marks without selecting
        self.assertEqual(c.tagged('d LIST "" ("LxB" "LxA" "Nope*") RETURN (SUBSCRIBED)'),
                         ['* LIST (\\HasChildren) "/" "LxA"',
                          '* LIST (\\HasNoChildren \\Subscribed) "/" "LxB"',
                          "d OK LIST completed"])
        # SPECIAL-USE selection (RFC 6154)
        self.assertEqual(c.tagged('e LIST (SPECIAL-USE) "" "Lx*"'),
                         ['* LIST (\\HasNoChildren \\Archive) "/" "LxArch"',
                          "e OK LIST completed"])
        # REMOTE alone changes nothing; () is an empty selection
        self.assertEqual(c.tagged('f LIST (REMOTE) "" LxB'),
                         ['* LIST (\\HasNoChildren) "/" "LxB"', "f OK LIST completed"])
        self.assertEqual(c.tagged('g LIST () "" LxB RETURN (STATUS (MESSAGES))'),
                         ['* LIST (\\HasNoChildren) "/" "LxB"', '* STATUS "LxB" (MESSAGES 0)',
                          "g OK LIST completed"])
        # "" as the only pattern of an extended LIST lists nothing (no delimiter reply)
        self.assertEqual(c.tagged('h LIST () "" ""'), ["h OK LIST completed"])

    def test_list_extended_bad(self):
        c = self.raw()
        many = " ".join(f"p{k}" for k in range(17))
        for bad in ('b LIST (RECURSIVEMATCH) "" *', 'b LIST (BOGUS) "" *', 'b LIST "" ()',
                    'b LIST (SUBSCRIBED) ""', 'b LIST "" (a (b))', f'b LIST "" ({many})',
                    'b LIST (SUBSCRIBED', 'b LIST "" * RETURN (SUBSCRIBED) extra'):
            out = c.tagged(bad)
            self.assertTrue(out[-1].startswith("b BAD "), (bad, out))
        m = self.imap()
        self.assertIn("LIST-EXTENDED", m.capabilities)

    # ------------------------------------------------------------ BINARY
    def test_binary_fetch(self):
        payload = bytes(range(256)) * 3  # NUL bytes and 8-bit: literal8 on the way out
        b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
        msg = (b"From: a@example.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
               b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 cr=\r\n=C3=A8me\r\n"
               b"--zz\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
               b"--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n"
               b"\r\nbegin 644 x\r\n--zz--\r\n")
        m = self.imap()
        self.assertEqual(m.create("Bin")[0], "OK")
        self.assertEqual(m.append("Bin", None, None, msg)[0], "OK")
        m.select("Bin")
        typ, data = m.fetch("1", "(BINARY.PEEK[1] BINARY.SIZE[2])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], "Café crème".encode())
        self.assertIn(b"BINARY.SIZE[2] 768", data[1])
        typ, data = m.fetch("1", "(BINARY.PEEK[2])")
        self.assertTrue(data[0][0].endswith(b"BINARY[2] ~{768}"), data[0][0])
        self.assertEqual(data[0][1], payload)
        typ, data = m.fetch("1", "(BINARY.PEEK[2]<250.10>)")
        self.assertTrue(data[0][0].endswith(b"BINARY[2]<250> ~{10}"), data[0][0])
        self.assertEqual(data[0][1], payload[250:260])
        # the whole message is not decoded; a missing part is NIL
        typ, data = m.fetch("1", "(BINARY.PEEK[] BINARY.SIZE[] BINARY.PEEK[7])")
        self.assertEqual(data[0][1], msg)
        self.assertIn(b"BINARY.SIZE[] %d BINARY[7] NIL" % len(msg), data[1])
        self.assertEqual(m.fetch("1", "FLAGS")[1][0], b"1 (FLAGS ())")  # PEEK and SIZE: not \Seen
        # an unknown Content-Transfer-Encoding: NO [UNKNOWN-CTE], nothing sent
        c = self.raw()
        c.tagged("s SELECT Bin")
        self.assertEqual(c.tagged("a FETCH 1 (BINARY[3])"),
                         ["a NO [UNKNOWN-CTE] Cannot decode a section's transfer encoding"])
        for bad in ("b FETCH 1 BINARY[HEADER]", "b FETCH 1 BINARY[1.MIME]",
                    "b FETCH 1 BINARY.SIZE[1]<0.5>", "b FETCH 1 BINARY.FOO[1]", "b FETCH 1 BINARY"):
            self.assertEqual(c.tagged(bad), ["b BAD Invalid FETCH items"], bad)
        # BINARY (not PEEK) sets \Seen
        out = c.tagged("d FETCH 1 (BINARY[1])")
        self.assertIn("FLAGS (\\Seen)", out[0])
        self.assertEqual(out[-1], "d OK FETCH completed")

    def test_binary_append_literal8(self):
        m = self.imap()
        self.assertEqual(m.create("Bin8")[0], "OK")
        body = b"From: a@example.test\r\nSubject: l8\r\n\r\nnul\x00here\r\n"
        c = self.raw()
        c.send(b"a APPEND Bin8 ~{%d}\r\n" % len(body))
        self.assertTrue(c.line().startswith("+ "))
        c.send(body + b"\r\n")
        self.assertRegex(c.line(), r"^a OK \[APPENDUID \d+ 1\] APPEND completed$")
        c.send(b"b APPEND Bin8 ~{%d+}\r\n" % len(body) + body + b"\r\n")
        self.assertRegex(c.line(), r"^b OK \[APPENDUID \d+ 2\] APPEND completed$")
        m.select("Bin8")
        typ, data = m.fetch("2", "(BINARY.PEEK[])")
        self.assertTrue(data[0][0].endswith(b"~{%d}" % len(body)), data[0][0])
        self.assertEqual(data[0][1], body)

    # ------------------------------------------------------------ SEARCH SENT*
    def test_search_sent_dates(self):
        dates = ["Mon, 2 Feb 2026 23:30:00 -0500",  # 3 Feb in UTC: the written day counts
                 "3 Feb 2026 00:10:00 +0100", "Wed, 4 Feb 26 12:00:00 GMT", None, "garbage"]
        m = self.imap()
        self.assertEqual(m.create("Sent1")[0], "OK")
        for k, d in enumerate(dates, 1):
            head = f"Date: {d}\r\n" if d else ""
            msg = f"From: a@example.test\r\n{head}Subject: d{k}\r\n\r\nx\r\n".encode()
            self.assertEqual(m.append("Sent1", None, '"10-Mar-2026 10:00:00 +0000"', msg)[0], "OK")
        m.select("Sent1")
        cases = {"SENTBEFORE 3-Feb-2026": b"1", "SENTON 3-Feb-2026": b"2",
                 "SENTSINCE 3-Feb-2026": b"2 3", "SENTON 4-Feb-2026": b"3",
                 "NOT SENTON 3-Feb-2026": b"1 3 4 5",  # no or a bad Date: matches no SENT key
                 "OR SENTBEFORE 1-Jan-2000 SENTSINCE 1-Jan-2000": b"1 2 3",
                 "SINCE 10-Mar-2026 SENTBEFORE 4-Feb-2026": b"1 2",
                 "UID 2:3 SENTSINCE 1-Feb-2026": b"2 3"}
        for q, want in cases.items():
            self.assertEqual(m.search(None, q), ("OK", [want]), q)
        typ, data = m.uid("SEARCH", "SENTSINCE", "4-Feb-2026")
        self.assertEqual(data, [b"3"])
        for bad in ("SENTON 3-Foo-2026", "SENTBEFORE", "SENTSINCE 3-Feb"):
            with self.assertRaises(imaplib.IMAP4.error, msg=bad):
                m.search(None, bad)

    # ------------------------------------------------------------ IDLE and SMTP
    def test_idle_woken_by_smtp_delivery(self):
        c = self.raw()
        out = c.tagged("s SELECT INBOX")
        exists = int([x for x in out if x.endswith(" EXISTS")][0].split()[1])
        self.assertEqual(c.cmd("i IDLE"), "+ idling")
        with smtplib.SMTP("127.0.0.1", self.d.ports["mx"], timeout=10) as s:
            s.ehlo("client.example")
            refused = s.sendmail("sender@remote.example", [USER],
                                 b"From: sender@remote.example\r\nSubject: via smtp\r\n\r\n"
                                 b"delivered while idling\r\n")
            self.assertEqual(refused, {})
        self.assertEqual(c.line(), f"* {exists + 1} EXISTS")
        self.assertEqual(c.line(), "* 1 RECENT")  # IMAP4rev1: RECENT comes with EXISTS
        self.assertEqual(c.cmd("DONE"), "i OK IDLE terminated")
        out = c.tagged(f"f FETCH {exists + 1} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(out[1], "Subject: via smtp")


if __name__ == "__main__":
    unittest.main()
