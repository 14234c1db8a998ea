"""IMAP MULTIAPPEND (RFC 3502) and QUOTA (RFC 9208) against petreld.

MULTIAPPEND is written byte by byte over a socket (imaplib cannot send it):
synchronising literals wait for each "+", LITERAL+ ones do not. What a user
would see is checked from a second session (imaplib SELECT/FETCH) and with
petrelctl (mailbox list, quota show): three messages arrive with consecutive
UIDs that APPENDUID lists; a MULTIAPPEND whose second message is over quota,
too big, or malformed stores nothing (EXISTS, UIDNEXT and quota usage
unchanged). GETQUOTAROOT/GETQUOTA match `petrelctl quota show`; SETQUOTA is
refused."""
import imaplib
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld, imap_client  # noqa: E402

USER, PASS = "mara@example.test", "pw for mara"
SMALL, SMALL_PASS = "tiny@example.test", "tinypass1"
FREE, FREE_PASS = "free@example.test", "freepass1"
QUSER, QUSER_PASS = "quota@example.test", "quotapass1"
MAX_MESSAGES = 100  # IMAP_MULTIAPPEND_MAX_MESSAGES


def msg(n, size=0):
    body = (b"From: a@example.test\r\nTo: mara@example.test\r\nSubject: multi %d\r\n"
            b"Message-ID: <multi%d@example.test>\r\n\r\nbody of message %d\r\n" % (n, n, n))
    if size > len(body):
        body += b"x" * (size - len(body) - 2) + b"\r\n"
    return body


class MultiappendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {"max_message_size": "65536"})])
        cls.d.start()
        cls.d.add_user(USER, PASS)
        cls.d.add_user(SMALL, SMALL_PASS)
        cls.d.add_user(FREE, FREE_PASS)
        cls.d.add_user(QUSER, QUSER_PASS)
        for user in (SMALL, QUSER):
            cls.d.ctl("quota", "set", user, "10K", "--messages", "5")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    # ------------------------------------------------------------ helpers

    def raw(self, user=USER, password=PASS):
        c = LineClient(self.d.ports["imap"], timeout=20)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK"))
        self.assertTrue(c.cmd(f'a LOGIN {user} "{password}"').startswith("a OK"))
        return c

    def imap(self, user=USER, password=PASS):
        return imap_client(self, self.d.ports["imap"], user, password)

    def ctl_json(self, *args):
        return json.loads(self.d.ctl("--json", *args).stdout)

    def mailbox(self, user, name):
        for mb in self.ctl_json("mailbox", "list", user):
            if mb["name"] == name:
                return mb
        self.fail(f"no mailbox {name}")

    def quota(self, user):
        return self.ctl_json("quota", "show", user)

    # ------------------------------------------------------------ MULTIAPPEND

    def test_capability(self):
        m = self.imap()
        caps = m.capabilities
        for cap in ("MULTIAPPEND", "QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE",
                    "LITERAL+", "UIDPLUS"):
            self.assertIn(cap, caps)

    def test_three_messages_sync_and_nonsync_literals(self):
        m = self.imap()
        self.assertEqual(m.create("Multi")[0], "OK")
        c = self.raw()
        self.assertTrue(c.cmd("s SELECT Multi").startswith("*"))
        c.until_tagged("s")
        m1, m2, m3 = msg(1), msg(2, 3000), msg(3)
        # 1: synchronising, with flags; 2: LITERAL+, with flags and date; 3: synchronising, bare
        self.assertTrue(c.cmd("b APPEND Multi (\\Seen) {%d}" % len(m1)).startswith("+"))
        c.send(m1 + b' (\\Flagged $Work) "01-Feb-2025 10:20:30 +0200" {%d+}\r\n' % len(m2)
               + m2 + b" {%d}\r\n" % len(m3))
        self.assertTrue(c.line().startswith("+"))
        c.send(m3 + b"\r\n")
        lines = c.until_tagged("b")
        self.assertIn("* 3 EXISTS", lines)  # the selected mailbox is told at once
        got = re.match(r"^b OK \[APPENDUID (\d+) (\d+):(\d+)\] APPEND completed$", lines[-1])
        self.assertIsNotNone(got, lines)
        uv, lo, hi = (int(x) for x in got.groups())
        self.assertEqual((lo, hi), (1, 3))
        # a second session sees exactly those three, in order, with their flags and date
        typ, data = m.select("Multi")
        self.assertEqual((typ, data[0]), ("OK", b"3"))
        self.assertEqual(m.untagged_responses["UIDVALIDITY"], [str(uv).encode()])
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        fetched = [d for d in data if isinstance(d, tuple)]
        self.assertEqual([f[1] for f in fetched], [m1, m2, m3])
        self.assertIn(b"UID 1 FLAGS (\\Seen)", fetched[0][0])
        self.assertIn(b"UID 2 FLAGS (\\Flagged $Work)", fetched[1][0])
        self.assertIn(b'INTERNALDATE "01-Feb-2025 08:20:30 +0000"', fetched[1][0])
        self.assertIn(b"UID 3 FLAGS ()", fetched[2][0])
        # and petrelctl agrees
        mb = self.mailbox(USER, "Multi")
        self.assertEqual((mb["messages"], mb["uidnext"], mb["bytes"]),
                         (3, 4, len(m1) + len(m2) + len(m3)))

    def test_over_quota_second_message_stores_none(self):
        c = self.raw(SMALL, SMALL_PASS)
        self.assertTrue(c.cmd("p APPEND INBOX {%d}" % len(msg(10))).startswith("+"))
        c.send(msg(10) + b"\r\n")
        self.assertRegex(c.until_tagged("p")[-1], r"^p OK \[APPENDUID \d+ 1\]")
        before_q, before_mb = self.quota(SMALL), self.mailbox(SMALL, "INBOX")
        self.assertEqual(before_mb["messages"], 1)
        first, second = msg(11, 2000), msg(12, 9000)  # 1 + 2 fit in 10K, 1 + 2 + 3 do not
        c.send(b"q APPEND INBOX {%d+}\r\n" % len(first) + first
               + b" {%d+}\r\n" % len(second) + second + b"\r\n")
        reply = c.until_tagged("q")[-1]
        self.assertRegex(reply, r"^q NO \[OVERQUOTA\]")
        self.assertEqual(self.quota(SMALL), before_q)
        after_mb = self.mailbox(SMALL, "INBOX")
        self.assertEqual((after_mb["messages"], after_mb["uidnext"], after_mb["bytes"]),
                         (before_mb["messages"], before_mb["uidnext"], before_mb["bytes"]))
        m = self.imap(SMALL, SMALL_PASS)
        self.assertEqual(m.select("INBOX")[1][0], b"1")
        # the first message alone still fits: its UID is the next one, nothing was spent
        self.assertTrue(c.cmd("r APPEND INBOX {%d}" % len(first)).startswith("+"))
        c.send(first + b"\r\n")
        self.assertRegex(c.until_tagged("r")[-1], r"^r OK \[APPENDUID \d+ 2\]")
        # the message-count limit (5) counts the whole MULTIAPPEND too
        c.send(b"t APPEND INBOX" + b"".join(b" {%d+}\r\n" % len(msg(20 + k)) + msg(20 + k)
                                            for k in range(4)) + b"\r\n")
        self.assertRegex(c.until_tagged("t")[-1], r"^t NO \[OVERQUOTA\]")
        self.assertEqual(self.mailbox(SMALL, "INBOX")["messages"], 2)

    def test_too_big_second_literal_stores_none(self):
        c = self.raw()
        self.assertTrue(c.cmd("b APPEND INBOX {%d}" % len(msg(30))).startswith("+"))
        c.send(msg(30) + b" {70000}\r\n")
        # refused before any "+": the client sends nothing more, the session goes on
        self.assertEqual(c.line(), "b NO [TOOBIG] Literal too big")
        self.assertEqual(c.cmd("n NOOP"), "n OK NOOP completed")
        self.assertEqual(self.mailbox(USER, "INBOX")["messages"], 0)

    def test_bad_syntax_midway_stores_none(self):
        c = self.raw()
        self.assertEqual(c.cmd("x CREATE Bad"), "x OK CREATE completed")
        for tail, why in ((b" (\\Bogus) {5+}\r\nhello", "a bad flag"),
                          (b" (\\Seen) \"not a date\" {5+}\r\nhello", "a bad date"),
                          (b" (\\Seen)", "flags without a message"),
                          (b" junk {5+}\r\nhello", "an atom before the literal")):
            c.send(b"b APPEND Bad {%d+}\r\n" % len(msg(40)) + msg(40) + tail + b"\r\n")
            self.assertTrue(c.line().startswith("b BAD"), why)
            self.assertEqual(self.mailbox(USER, "Bad")["messages"], 0, why)
        self.assertEqual(c.cmd("n NOOP"), "n OK NOOP completed")
        # an empty message anywhere: NO, nothing stored
        c.send(b"e APPEND Bad {%d+}\r\n" % len(msg(41)) + msg(41) + b" {0+}\r\n\r\n")
        self.assertEqual(c.line(), "e NO Cannot save an empty message")
        self.assertEqual(self.mailbox(USER, "Bad")["messages"], 0)

    def test_message_count_cap(self):
        c = self.raw()
        self.assertEqual(c.cmd("x CREATE Many"), "x OK CREATE completed")
        parts = b"".join(b" {%d+}\r\n" % len(msg(k)) + msg(k) for k in range(MAX_MESSAGES))
        c.send(b"b APPEND Many" + parts + b"\r\n")
        reply = c.until_tagged("b")[-1]
        self.assertEqual(reply, "b OK [APPENDUID %d 1:%d] APPEND completed"
                         % (self.mailbox(USER, "Many")["uidvalidity"], MAX_MESSAGES))
        # more than the cap: refused before the "+" of the literal past it, nothing stored
        parts = b"".join(b" {%d+}\r\n" % len(msg(k)) + msg(k) for k in range(MAX_MESSAGES + 1))
        c.send(b"c APPEND Many" + parts + b" {5}\r\n")
        self.assertEqual(c.line(), "c BAD Too many messages in one APPEND")
        self.assertEqual(c.cmd("n NOOP"), "n OK NOOP completed")
        self.assertEqual(self.mailbox(USER, "Many")["messages"], MAX_MESSAGES)

    def test_append_to_missing_mailbox_is_trycreate(self):
        c = self.raw()
        c.send(b"b APPEND Nowhere {3+}\r\nabc {3+}\r\ndef\r\n")
        self.assertEqual(c.line(), "b NO [TRYCREATE] No such mailbox")

    # ------------------------------------------------------------ QUOTA

    def test_getquotaroot_and_getquota_match_petrelctl(self):
        m = self.imap(QUSER, QUSER_PASS)

        def expected():
            q = self.quota(QUSER)
            return b'"" (STORAGE %d %d MESSAGE %d %d)' % (
                (q["used_bytes"] + 1023) // 1024, q["quota_bytes"] // 1024,
                q["messages"], q["max_messages"])

        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b'"INBOX" ""'])
        self.assertEqual(data[1], [expected()])
        before = self.quota(QUSER)
        self.assertEqual(m.append("INBOX", None, None, msg(50, 1500))[0], "OK")
        after = self.quota(QUSER)
        self.assertEqual(after["used_bytes"], before["used_bytes"] + len(msg(50, 1500)))
        self.assertEqual(after["messages"], before["messages"] + 1)
        typ, data = m.getquota('""')
        self.assertEqual((typ, data), ("OK", [expected()]))
        self.assertEqual(m.getquotaroot("INBOX")[1][1], [expected()])
        self.assertRegex(expected(), rb"STORAGE [1-9]\d* 10 ")  # 10K as set by petrelctl

    def test_quota_errors_and_setquota_refused(self):
        m = self.imap(QUSER, QUSER_PASS)
        typ, data = m.getquotaroot("NoSuchBox")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[NONEXISTENT]", data[0][0])
        typ, data = m.getquota('"other"')
        self.assertEqual(typ, "NO")
        self.assertIn(b"[NONEXISTENT]", data[0])
        before = self.quota(QUSER)
        typ, data = m.setquota('""', "(STORAGE 100000)")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[NOPERM]", data[0])
        self.assertEqual(self.quota(QUSER), before)
        with self.assertRaises(imaplib.IMAP4.error):  # BAD: no resource list
            m.setquota('""', "STORAGE")

    def test_status_deleted_storage_is_what_expunge_frees(self):
        """RFC 9208 STATUS DELETED-STORAGE: the octets of the \\Deleted messages,
        which EXPUNGE then takes off the quota usage."""
        m = self.imap()
        self.assertEqual(m.create("Reclaim")[0], "OK")
        sizes = [700, 1100, 1900]
        for n, size in enumerate(sizes):
            self.assertEqual(m.append("Reclaim", None, None, msg(60 + n, size))[0], "OK")

        def status():
            typ, data = m.status("Reclaim", "(DELETED DELETED-STORAGE SIZE)")
            self.assertEqual(typ, "OK")
            got = re.search(rb"DELETED (\d+) DELETED-STORAGE (\d+) SIZE (\d+)", data[0])
            return tuple(int(x) for x in got.groups())

        self.assertEqual(status(), (0, 0, sum(sizes)))
        self.assertEqual(m.select("Reclaim")[0], "OK")
        self.assertEqual(m.store("1,3", "+FLAGS", "(\\Deleted)")[0], "OK")
        self.assertEqual(status(), (2, sizes[0] + sizes[2], sum(sizes)))
        before = self.quota(USER)["used_bytes"]
        self.assertEqual(m.expunge()[0], "OK")
        self.assertEqual(self.quota(USER)["used_bytes"], before - sizes[0] - sizes[2])
        self.assertEqual(status(), (0, 0, sizes[1]))
        # LIST-STATUS answers the same item
        self.assertEqual(m.store("1", "+FLAGS", "(\\Deleted)")[0], "OK")
        typ, data = m.list('""', '"Reclaim" RETURN (STATUS (DELETED-STORAGE))')
        self.assertEqual(typ, "OK")
        self.assertEqual(m.response("STATUS")[1], [b'"Reclaim" (DELETED-STORAGE %d)' % sizes[1]])

    def test_unlimited_user_has_no_quota_root(self):
        m = self.imap(FREE, FREE_PASS)
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b'"INBOX"'])
        self.assertEqual(data[1], [None])
        typ, data = m.getquota('""')
        self.assertEqual(typ, "NO")
        # a storage limit alone: only STORAGE is listed
        self.d.ctl("quota", "set", FREE, "1M")
        typ, data = m.getquota('""')
        used = self.quota(FREE)["used_bytes"]
        self.assertEqual((typ, data), ("OK", [b'"" (STORAGE %d 1024)' % ((used + 1023) // 1024)]))
        self.d.ctl("quota", "set", FREE, "unlimited")


if __name__ == "__main__":
    unittest.main()
