"""The POP3 plugin end to end: python3 poplib (USER/PASS, STLS, POP3S, CAPA,
UIDL, TOP, RETR of a large message, DELE + QUIT and DELE + dropped
connection, flag-only mode, the maildrop lock) and raw sockets for bad input."""
import base64
import hashlib
import os
import poplib
import json
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import PETRELCTL, LineClient, Petreld  # noqa: E402

USER, PASS = "bob@example.test", "pop pass 1"


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(i, body="body line\r\n"):
    return f"From: a@example.test\r\nSubject: m{i}\r\n\r\n{body}"


class Pop3Base(unittest.TestCase):
    """A fresh user per test, so tests do not see each other's mail."""
    LISTENERS = [("pop3", "pop3", "starttls", None),
                 ("pop3s", "pop3", "implicit", None),
                 ("flag", "pop3", "none", {"pop3_delete": "flag-only"})]
    EXTRA = ""
    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.d = Petreld(cls.LISTENERS, extra_global=cls.EXTRA)
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def new_user(self, msgs=()):
        Pop3Base.counter += 1
        user = f"u{Pop3Base.counter}@example.test"
        self.d.add_user(user, PASS)
        for m in msgs:
            self.deliver(user, m)
        return user

    def deliver(self, user, msg, flags=None):
        args = ["deliver", user] + (["--flags", flags] if flags else [])
        data = msg if isinstance(msg, bytes) else msg.encode()
        r = subprocess.run([PETRELCTL, "-d", self.d.data, *args], input=data,
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def inbox_count(self, user):
        out = self.d.ctl("--json", "mailbox", "list", user).stdout
        for mb in json.loads(out):
            if mb["name"] == "INBOX":
                return mb["messages"]
        raise AssertionError("no INBOX in " + out)

    def login(self, user, listener="pop3"):
        p = poplib.POP3("127.0.0.1", self.d.ports[listener], timeout=10)
        self.addCleanup(self.close_quietly, p)
        p.user(user)
        p.pass_(PASS)
        return p

    @staticmethod
    def close_quietly(p):
        try:
            p.close()
        except OSError:
            pass

    def raw(self, listener="pop3"):
        c = LineClient(self.d.ports[listener])
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("+OK"))
        return c

    def multiline(self, c):
        lines = []
        while True:
            line = c.line()
            if line == ".":
                return lines
            lines.append(line)


class Pop3Test(Pop3Base):
    def test_capa_before_and_after_login(self):
        user = self.new_user()
        p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        self.addCleanup(self.close_quietly, p)
        caps = p.capa()
        for cap in ("TOP", "UIDL", "USER", "RESP-CODES", "PIPELINING", "STLS", "SASL",
                    "IMPLEMENTATION", "AUTH-RESP-CODE"):
            self.assertIn(cap, caps)
        self.assertEqual(caps["SASL"], ["PLAIN", "LOGIN"])
        self.assertNotIn("APOP", caps)
        self.assertNotIn("<", p.getwelcome().decode())  # no APOP timestamp
        p.user(user)
        p.pass_(PASS)
        caps = p.capa()
        self.assertIn("UIDL", caps)
        self.assertNotIn("STLS", caps)
        self.assertNotIn("USER", caps)

    def test_user_pass_stat_list_uidl_retr_top(self):
        msgs = [message(1), message(2, ".starts with a dot\r\n..two dots\r\nend\r\n"),
                message(3, "".join(f"line {i}\r\n" for i in range(10)))]
        user = self.new_user(msgs)
        p = self.login(user)
        sizes = [len(m.encode()) for m in msgs]
        self.assertEqual(p.stat(), (3, sum(sizes)))
        resp, lst, _ = p.list()
        self.assertEqual([x.decode() for x in lst], [f"{i + 1} {s}" for i, s in enumerate(sizes)])
        self.assertEqual(p.list(2).decode(), f"+OK 2 {sizes[1]}")
        resp, uidls, _ = p.uidl()
        self.assertEqual(len(uidls), 3)
        self.assertEqual(len({u.split()[1] for u in uidls}), 3)
        self.assertEqual(p.uidl(1).decode().split()[2], uidls[0].decode().split()[1])
        resp, lines, octets = p.retr(2)
        self.assertEqual(resp.decode(), f"+OK {sizes[1]} octets")
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", msgs[1].encode())
        resp, lines, _ = p.top(3, 2)
        self.assertEqual([x.decode() for x in lines],
                         ["From: a@example.test", "Subject: m3", "", "line 0", "line 1"])
        resp, lines, _ = p.top(3, 0)
        self.assertEqual(lines[-1], b"")
        self.assertEqual(len(lines), 3)
        self.assertEqual(p.noop(), b"+OK")
        p.quit()
        self.assertEqual(self.inbox_count(user), 3)  # keep mode: nothing removed

    def test_bare_lf_message_is_sent_with_crlf_and_counted(self):
        stored = b"Subject: lf\n\nline one\n.dot\nlast\n"
        user = self.new_user()
        self.deliver(user, stored)
        p = self.login(user)
        wire = stored.replace(b"\n", b"\r\n")
        self.assertEqual(p.stat(), (1, len(wire)))
        resp, lines, _ = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", wire)
        c = self.raw()  # the raw bytes on the wire, stuffed
        p.quit()
        c.cmd(f"USER {user}")
        self.assertTrue(c.cmd(f"PASS {PASS}").startswith("+OK"))
        c.send("RETR 1\r\n")
        self.assertEqual(c.line(), f"+OK {len(wire)} octets")
        self.assertEqual(self.multiline(c), ["Subject: lf", "", "line one", "..dot", "last"])

    def test_retr_large_message(self):
        body = "".join(f"{i:08d} " + "x" * 90 + "\r\n" for i in range(60000))  # ~6 MB
        msg = message(1, body)
        user = self.new_user([msg])
        p = self.login(user)
        resp, lines, octets = p.retr(1)
        got = b"\r\n".join(lines) + b"\r\n"
        self.assertEqual(hashlib.sha256(got).hexdigest(),
                         hashlib.sha256(msg.encode()).hexdigest())
        self.assertEqual(p.noop(), b"+OK")

    def test_dele_quit_removes(self):
        user = self.new_user([message(i) for i in range(4)])
        p = self.login(user)
        resp, uidls, _ = p.uidl()
        p.dele(1)
        p.dele(3)
        with self.assertRaises(poplib.error_proto):
            p.retr(1)  # deleted in this session
        self.assertEqual(p.stat()[0], 2)
        self.assertEqual(p.quit().decode(), "+OK bye, 2 messages deleted")
        self.assertEqual(self.inbox_count(user), 2)
        p = self.login(user)
        resp, left, _ = p.uidl()
        self.assertEqual([u.split()[1] for u in left], [uidls[1].split()[1], uidls[3].split()[1]])
        p.quit()

    def test_dele_then_dropped_connection_deletes_nothing(self):
        user = self.new_user([message(i) for i in range(3)])
        p = self.login(user)
        p.dele(1)
        p.dele(2)
        p.close()  # no QUIT
        deadline = time.time() + 5
        while True:  # the lock goes when the server saw the connection end
            try:
                p = self.login(user)
                break
            except poplib.error_proto:
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
        self.assertEqual(p.stat()[0], 3)
        p.quit()
        self.assertEqual(self.inbox_count(user), 3)

    def test_rset_undeletes(self):
        user = self.new_user([message(i) for i in range(2)])
        p = self.login(user)
        p.dele(1)
        self.assertEqual(p.rset().decode(), "+OK maildrop has 2 messages")
        self.assertEqual(p.quit().decode(), "+OK bye")
        self.assertEqual(self.inbox_count(user), 2)

    def test_flag_only_mode_hides_but_keeps(self):
        user = self.new_user([message(i) for i in range(3)])
        p = self.login(user, "flag")
        resp, uidls, _ = p.uidl()
        p.dele(2)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(self.inbox_count(user), 3)  # still there for IMAP
        for listener in ("flag", "pop3"):  # hidden from every later POP3 session
            p = self.login(user, listener)
            resp, left, _ = p.uidl()
            self.assertEqual([u.split()[1] for u in left],
                             [uidls[0].split()[1], uidls[2].split()[1]])
            p.quit()

    def test_second_session_gets_in_use(self):
        user = self.new_user([message(1)])
        p = self.login(user)
        q = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        self.addCleanup(self.close_quietly, q)
        q.user(user)
        with self.assertRaises(poplib.error_proto) as cm:
            q.pass_(PASS)
        self.assertIn(b"[IN-USE]", cm.exception.args[0])
        with self.assertRaises((poplib.error_proto, EOFError, OSError)):
            q.stat()  # the refused session was closed
        p.quit()
        q = self.login(user)  # free again after QUIT
        self.assertEqual(q.stat()[0], 1)
        q.quit()

    def test_view_is_inbox_at_login(self):
        user = self.new_user([message(1), message(2)])
        self.deliver(user, message(3), flags="Deleted")
        p = self.login(user)
        self.assertEqual(p.stat()[0], 3)
        self.deliver(user, message(4))  # delivered during the session: not shown
        self.d.ctl("mailbox", "expunge", user, "INBOX")  # message 3 goes (\Deleted)
        self.assertEqual(p.stat()[0], 3)
        with self.assertRaises(poplib.error_proto) as cm:
            p.retr(3)
        self.assertIn(b"deleted on the server", cm.exception.args[0])
        self.assertEqual(p.retr(1)[0].split()[0], b"+OK")
        p.dele(3)  # deleting what is gone already is fine
        self.assertTrue(p.quit().startswith(b"+OK"))
        p = self.login(user)
        self.assertEqual(p.stat()[0], 3)  # 1, 2 and 4
        p.quit()

    def test_uidl_stable_across_sessions(self):
        user = self.new_user([message(i) for i in range(3)])
        p = self.login(user)
        first = p.uidl()[1]
        p.quit()
        p = self.login(user)
        self.assertEqual(p.uidl()[1], first)
        for u in first:
            self.assertRegex(u.decode(), r"^\d+ \d+\.\d+$")
        p.quit()

    def test_stls_and_pop3s(self):
        user = self.new_user([message(1)])
        p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        self.addCleanup(self.close_quietly, p)
        p.stls(context=tls_ctx())
        self.assertNotIn("STLS", p.capa())
        p.user(user)
        p.pass_(PASS)
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        s = poplib.POP3_SSL("127.0.0.1", self.d.ports["pop3s"], context=tls_ctx(), timeout=10)
        self.addCleanup(self.close_quietly, s)
        self.assertNotIn("STLS", s.capa())
        s.user(user)
        s.pass_(PASS)
        self.assertEqual(len(s.retr(1)[1]), 4)
        s.quit()

    def test_bad_password_and_sasl(self):
        user = self.new_user([message(1)])
        c = self.raw()
        c.cmd(f"USER {user}")
        self.assertEqual(c.cmd("PASS wrong"), "-ERR [AUTH] authentication failed")
        self.assertEqual(c.cmd("APOP x y").split()[:2], ["-ERR", "[AUTH]"])
        self.assertEqual(c.cmd("AUTH FOO"), "-ERR unknown SASL mechanism")
        self.assertEqual(c.cmd("AUTH LOGIN"), "+ " + base64.b64encode(b"Username:").decode())
        self.assertEqual(c.cmd("*"), "-ERR [AUTH] authentication cancelled")
        cred = base64.b64encode(f"\0{user}\0{PASS}".encode()).decode()
        self.assertEqual(c.cmd("AUTH PLAIN " + cred), "+OK logged in, 1 messages")
        self.assertEqual(c.cmd("STAT").split()[:2], ["+OK", "1"])
        c2 = self.raw()
        self.assertEqual(c2.cmd("AUTH LOGIN"), "+ " + base64.b64encode(b"Username:").decode())
        self.assertTrue(c2.cmd(base64.b64encode(user.encode()).decode()).startswith("+ "))
        self.assertTrue(c2.cmd(base64.b64encode(PASS.encode()).decode()).startswith("-ERR [IN-USE]"))
        self.assertTrue(c2.closed())
        self.assertEqual(c.cmd("QUIT"), "+OK bye")

    def test_three_failed_logins_hang_up(self):
        user = self.new_user()
        c = self.raw()
        for _ in range(3):
            c.cmd(f"USER {user}")
            self.assertEqual(c.cmd("PASS nope"), "-ERR [AUTH] authentication failed")
        self.assertTrue(c.closed())


class Pop3BadInputTest(Pop3Base):
    def test_commands_before_login(self):
        c = self.raw()
        for cmd in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 1", "NOOP", "RSET"):
            self.assertEqual(c.cmd(cmd), "-ERR not logged in", cmd)
        self.assertEqual(c.cmd("PASS x"), "-ERR send USER first")
        self.assertEqual(c.cmd("QUIT"), "+OK bye")
        self.assertTrue(c.closed())

    def test_unknown_and_malformed_commands(self):
        user = self.new_user([message(1)])
        c = self.raw()
        self.assertEqual(c.cmd("FROB"), "-ERR unknown command")
        self.assertEqual(c.cmd(""), "-ERR unknown command")
        c.cmd(f"USER {user}")
        c.cmd(f"PASS {PASS}")
        self.assertEqual(c.cmd("RETR 0"), "-ERR no such message")
        self.assertEqual(c.cmd("RETR 999999"), "-ERR no such message")
        self.assertEqual(c.cmd("RETR 99999999999999999999"), "-ERR invalid message number")
        self.assertEqual(c.cmd("RETR -1"), "-ERR invalid message number")
        self.assertEqual(c.cmd("RETR"), "-ERR syntax error in arguments")
        self.assertEqual(c.cmd("TOP 1 x"), "-ERR invalid number of lines")
        self.assertEqual(c.cmd("LIST 2"), "-ERR no such message")
        self.assertEqual(c.cmd("USER x"), "-ERR command not valid in this state")
        self.assertEqual(c.cmd("STLS"), "-ERR command not valid in this state")
        self.assertEqual(c.cmd("DELE 1"), "+OK message 1 deleted")
        self.assertEqual(c.cmd("DELE 1"), "-ERR message already deleted")
        self.assertEqual(c.cmd("STAT"), "+OK 0 0")
        c.send("X" * 5000 + "\r\n")
        self.assertEqual(c.line(), "-ERR line too long")
        self.assertEqual(c.cmd("NOOP"), "+OK")
        c.close()  # dropped: the DELE is forgotten
        time.sleep(0.2)
        self.assertEqual(self.inbox_count(user), 1)

    def test_pipelined_commands(self):
        user = self.new_user([message(1), message(2, ".dot\r\n")])
        c = self.raw()
        c.send(f"USER {user}\r\nPASS {PASS}\r\nSTAT\r\nRETR 2\r\nLIST\r\nUIDL 1\r\n"
               "DELE 1\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual(c.line(), "+OK send PASS")
        self.assertEqual(c.line(), "+OK logged in, 2 messages")
        self.assertTrue(c.line().startswith("+OK 2 "))
        self.assertTrue(c.line().endswith("octets"))
        self.assertEqual(self.multiline(c), ["From: a@example.test", "Subject: m2", "", "..dot"])
        self.assertEqual(c.line(), "+OK 2 messages")
        self.assertEqual(len(self.multiline(c)), 2)
        self.assertRegex(c.line(), r"^\+OK 1 \d+\.\d+$")
        self.assertEqual(c.line(), "+OK message 1 deleted")
        self.assertEqual(c.line(), "+OK")
        self.assertEqual(c.line(), "+OK bye, 1 messages deleted")
        self.assertTrue(c.closed())
        self.assertEqual(self.inbox_count(user), 1)

    def test_too_many_errors_hang_up(self):
        c = self.raw()
        for _ in range(19):
            self.assertEqual(c.cmd("BOGUS"), "-ERR unknown command")
        self.assertEqual(c.cmd("BOGUS"), "-ERR too many errors, bye")
        self.assertTrue(c.closed())

    def test_nul_byte_and_binary_garbage(self):
        c = self.raw()
        c.send(b"NOOP\x00\r\n\xff\xfe\r\n")
        self.assertEqual(c.line(), "-ERR syntax error in arguments")
        self.assertEqual(c.line(), "-ERR unknown command")
        self.assertEqual(c.cmd("CAPA"), "+OK capability list follows")


class Pop3RestartTest(unittest.TestCase):
    def test_uidl_stable_across_restart(self):
        a = Petreld([("pop3", "pop3", "none", None)])
        self.addCleanup(a.cleanup)
        a.start()
        a.add_user(USER, PASS)
        for i in range(3):
            a.ctl("deliver", USER, input=message(i))

        def uidls(d):
            p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=10)
            p.user(USER)
            p.pass_(PASS)
            got = p.uidl()[1]
            p.quit()
            return got

        before = uidls(a)
        a.stop()
        b = Petreld([("pop3", "pop3", "none", None)], data=a.data)
        self.addCleanup(b.cleanup)
        b.start()
        self.assertEqual(uidls(b), before)
        self.assertEqual(len(before), 3)


class Pop3PlaintextNeverTest(Pop3Base):
    """auth_plaintext = never: passwords only after STLS or on POP3S."""
    LISTENERS = [("pop3", "pop3", "starttls", None), ("pop3s", "pop3", "implicit", None)]
    EXTRA = "auth_plaintext = never"

    def test_user_refused_until_stls(self):
        user = self.new_user([message(1)])
        p = poplib.POP3("127.0.0.1", self.d.ports["pop3"], timeout=10)
        self.addCleanup(self.close_quietly, p)
        caps = p.capa()
        self.assertNotIn("USER", caps)
        self.assertNotIn("SASL", caps)
        self.assertIn("STLS", caps)
        with self.assertRaises(poplib.error_proto) as cm:
            p.user(user)
        self.assertIn(b"[AUTH]", cm.exception.args[0])
        p.stls(context=tls_ctx())
        self.assertIn("USER", p.capa())
        p.user(user)
        p.pass_(PASS)
        self.assertEqual(p.stat()[0], 1)
        p.quit()


if __name__ == "__main__":
    unittest.main()
