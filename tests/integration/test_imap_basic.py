"""The IMAP plugin (imap.so) driven by python3 imaplib, raw sockets and curl:
greeting and CAPABILITY, logins (LOGIN, AUTHENTICATE PLAIN/LOGIN, SASL-IR)
over plain, STARTTLS and IMAPS, mailbox commands, SELECT/EXAMINE, two
sessions on one mailbox, and bad input."""
import base64
import imaplib
import os
import re
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld, imap_client, imap_logout  # noqa: E402

USER, PASS = "alice@example.test", "s3cret pass"
LISTENERS = [("imap", "imap", "none", None),
             ("imap_starttls", "imap", "starttls", None),
             ("imaps", "imap", "implicit", None),
             ("imap_small", "imap", "none", {"max_message_size": "4096"})]

MSG = ("From: Bob <bob@example.test>\r\nTo: alice@example.test\r\n"
       "Subject: hello {n}\r\nMessage-ID: <m{n}@example.test>\r\n\r\nbody {n}\r\n")


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ImapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld(LISTENERS)
        cls.d.start()
        cls.d.add_user(USER, PASS)
        cls.d.add_user("bob@example.test", "bobpass1")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def imap(self, name="imap", login=True):
        return imap_client(self, self.d.ports[name], USER if login else None, PASS, timeout=None)

    def raw(self, name="imap"):
        c = LineClient(self.d.ports[name])
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK [CAPABILITY IMAP4rev1 "))
        return c

    def deliver(self, n, user=USER, mailbox=None):
        args = ["deliver", user] + (["--mailbox", mailbox] if mailbox else [])
        self.d.ctl(*args, input=MSG.format(n=n))

    # ------------------------------------------------------------ greeting, any state
    def test_capability_and_noop(self):
        m = self.imap(login=False)
        caps = m.capabilities
        for c in ("IMAP4REV1", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE", "NAMESPACE",
                  "UNSELECT", "UIDPLUS", "MOVE", "CHILDREN", "SPECIAL-USE", "CREATE-SPECIAL-USE",
                  "CONDSTORE",
                  "AUTH=PLAIN",
                  "AUTH=LOGIN"):
            self.assertIn(c, caps)
        self.assertNotIn("STARTTLS", caps)  # plain listener: no TLS to start
        self.assertNotIn("LOGINDISABLED", caps)
        typ, data = m.capability()
        self.assertEqual(typ, "OK")
        self.assertIn(b"IMAP4rev1", data[0])
        self.assertEqual(m.noop()[0], "OK")
        typ, data = m.xatom("ID", "NIL")
        self.assertEqual(typ, "OK")
        self.assertIn(b'"name" "Petrel"', m.untagged_responses["ID"][0])

    def test_logout_closes(self):
        c = self.raw()
        c.send("z LOGOUT\r\n")
        self.assertEqual(c.line(), "* BYE Logging out")
        self.assertEqual(c.line(), "z OK LOGOUT completed")
        self.assertTrue(c.closed())

    # ------------------------------------------------------------ logins
    def test_login_good_and_bad(self):
        m = self.imap(login=False)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login(USER, "wrong")
        self.assertIn("AUTHENTICATIONFAILED", str(e.exception))
        typ, data = m.login(USER, PASS)
        self.assertEqual(typ, "OK")
        self.assertIn(b"[CAPABILITY IMAP4rev1", data[0])
        # LOGIN again: not valid once authenticated
        c = self.raw()
        reply = c.cmd(f'a LOGIN {USER} "{PASS}"')
        self.assertRegex(reply, r"^a OK \[CAPABILITY IMAP4rev1 IMAP4rev2 [^\]]*\] Logged in$")
        # every extension listed (others join as they are implemented; no AUTH= after login)
        caps = set(reply.split("[CAPABILITY ", 1)[1].split("]")[0].split())
        self.assertLessEqual(set("LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "
                                 "CHILDREN SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE ESEARCH "
                                 "SEARCHRES LIST-EXTENDED LIST-STATUS BINARY MULTIAPPEND QUOTA "
                                 "QUOTA=RES-STORAGE QUOTA=RES-MESSAGE".split()), caps)
        self.assertFalse([cap for cap in caps if cap.startswith("AUTH=")])
        self.assertEqual(c.cmd(f'b LOGIN {USER} "{PASS}"'), "b BAD Command not valid in this state")

    def test_login_with_literals(self):
        c = self.raw()
        user = USER.encode()
        c.send(b"a LOGIN {%d}\r\n" % len(user))
        self.assertEqual(c.line(), "+ OK")
        c.send(user + b" {%d+}\r\n" % len(PASS) + PASS.encode() + b"\r\n")
        self.assertTrue(c.line().startswith("a OK [CAPABILITY"))

    def test_too_many_login_failures(self):
        c = self.raw()
        for i in range(2):
            self.assertEqual(c.cmd(f"a{i} LOGIN {USER} nope"),
                             f"a{i} NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(c.cmd(f"a3 LOGIN {USER} nope"),
                         "a3 NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(c.line(), "* BYE Too many authentication failures")
        self.assertTrue(c.closed())

    def test_authenticate_plain_with_and_without_ir(self):
        ir = base64.b64encode(f"\0{USER}\0{PASS}".encode()).decode()
        c = self.raw()
        self.assertTrue(c.cmd(f"a AUTHENTICATE PLAIN {ir}").startswith("a OK [CAPABILITY"))
        c = self.raw()
        self.assertEqual(c.cmd("a AUTHENTICATE PLAIN"), "+ ")
        self.assertTrue(c.cmd(ir).startswith("a OK [CAPABILITY"))
        c = self.raw()
        self.assertEqual(c.cmd("a AUTHENTICATE PLAIN"), "+ ")
        self.assertEqual(c.cmd("*"), "a BAD AUTHENTICATE cancelled")
        self.assertEqual(c.cmd("b NOOP"), "b OK NOOP completed")
        bad = base64.b64encode(f"\0{USER}\0nope".encode()).decode()
        self.assertEqual(c.cmd(f"c AUTHENTICATE PLAIN {bad}"),
                         "c NO [AUTHENTICATIONFAILED] Authentication failed")
        self.assertEqual(c.cmd("d AUTHENTICATE CRAM-MD5"),
                         "d NO Unsupported authentication mechanism")
        # imaplib's own AUTHENTICATE
        m = self.imap(login=False)
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASS}")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.state, "AUTH")

    def test_authenticate_login(self):
        c = self.raw()
        self.assertEqual(c.cmd("a AUTHENTICATE LOGIN"), "+ VXNlcm5hbWU6")
        self.assertEqual(c.cmd(base64.b64encode(USER.encode()).decode()), "+ UGFzc3dvcmQ6")
        self.assertTrue(c.cmd(base64.b64encode(PASS.encode()).decode())
                        .startswith("a OK [CAPABILITY"))

    def test_starttls_then_login(self):
        c = self.raw("imap_starttls")
        caps = c.cmd("a CAPABILITY")
        self.assertIn(" STARTTLS", caps)
        self.assertEqual(c.line(), "a OK CAPABILITY completed")
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap_starttls"])
        self.addCleanup(imap_logout, m)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertEqual(m.starttls(ssl_context=tls_ctx())[0], "OK")
        self.assertNotIn("STARTTLS", m.capabilities)
        self.assertEqual(m.login(USER, PASS)[0], "OK")
        self.assertEqual(m.select("INBOX")[0], "OK")
        # STARTTLS on a plain listener is refused
        c = self.raw()
        self.assertEqual(c.cmd("s STARTTLS"), "s NO TLS not available")

    def test_imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.d.ports["imaps"], ssl_context=tls_ctx())
        self.addCleanup(imap_logout, m)
        self.assertNotIn("STARTTLS", m.capabilities)
        self.assertEqual(m.login(USER, PASS)[0], "OK")
        self.assertEqual(m.list()[0], "OK")

    def test_commands_need_login(self):
        c = self.raw()
        self.assertEqual(c.cmd("a SELECT INBOX"), "a BAD Log in first")
        self.assertEqual(c.cmd("b LIST \"\" *"), "b BAD Log in first")

    # ------------------------------------------------------------ authenticated state
    def test_enable_namespace(self):
        m = self.imap()
        typ, _ = m.xatom("ENABLE", "X-UNKNOWN")  # unknown capabilities are ignored
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b""])
        typ, data = m.namespace()
        self.assertEqual((typ, data), ("OK", [b'(("" "/")) NIL NIL']))
        c = self.raw()  # RFC 5161: ENABLE is not valid in the selected state
        self.assertTrue(c.cmd(f'a LOGIN {USER} "{PASS}"').startswith("a OK"))
        c.send("b EXAMINE INBOX\r\n")
        self.assertTrue(c.until_tagged("b")[-1].startswith("b OK [READ-ONLY]"))
        self.assertEqual(c.cmd("c ENABLE CONDSTORE"), "c BAD Command not valid in this state")

    def test_create_list_rename_delete(self):
        m = self.imap()
        self.assertEqual(m.create("Work/Projects")[0], "OK")
        self.assertEqual(m.create("Work/Projects")[0], "NO")
        typ, data = m.list('""', "*")
        self.assertIn(b'(\\HasChildren) "/" "Work"', data)
        self.assertIn(b'(\\HasNoChildren) "/" "Work/Projects"', data)
        self.assertIn(b'(\\HasNoChildren) "/" "INBOX"', data)
        typ, data = m.list('""', "%")
        self.assertNotIn(b'(\\HasNoChildren) "/" "Work/Projects"', data)
        typ, data = m.list('"Work/"', "%")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "Work/Projects"'])
        typ, data = m.list('""', '""')
        self.assertEqual(data, [b'(\\Noselect) "/" ""'])
        self.assertEqual(m.rename("Work", "Job")[0], "OK")
        typ, data = m.list('""', "Job*")
        self.assertEqual(sorted(data), [b'(\\HasChildren) "/" "Job"',
                                        b'(\\HasNoChildren) "/" "Job/Projects"'])
        self.assertEqual(m.delete("Job/Projects")[0], "OK")
        self.assertEqual(m.delete("Job")[0], "OK")
        self.assertEqual(m.delete("Job")[0], "NO")
        self.assertEqual(m.delete("INBOX")[0], "NO")
        self.assertEqual(m.list('""', "Job*")[1], [None])

    def test_list_implied_parent(self):
        # the store creates parents; DELETE of a parent with children leaves an implied level
        m = self.imap()
        self.assertEqual(m.create("Deep/Er/Est")[0], "OK")
        self.assertEqual(m.delete("Deep/Er")[0], "OK")
        self.assertEqual(m.delete("Deep")[0], "OK")
        typ, data = m.list('""', "Deep*")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "Deep/Er/Est"'])
        typ, data = m.list('""', "%")
        self.assertIn(b'(\\Noselect \\HasChildren) "/" "Deep"', data)
        typ, data = m.list('""', "Deep/%")
        self.assertEqual(data, [b'(\\Noselect \\HasChildren) "/" "Deep/Er"'])
        self.assertEqual(m.delete("Deep/Er/Est")[0], "OK")

    def test_create_special_use(self):
        m = self.imap()
        typ, _ = m._simple_command("CREATE", "Sent", "(USE (\\Sent))")
        self.assertEqual(typ, "OK")
        typ, _ = m._simple_command("CREATE", "Bin", "(USE (\\Trash \\Junk))")
        self.assertEqual(typ, "OK")
        typ, data = m.list('""', "Sent")
        self.assertEqual(data, [b'(\\HasNoChildren \\Sent) "/" "Sent"'])
        typ, data = m.list('""', "Bin")
        self.assertEqual(data, [b'(\\HasNoChildren \\Trash \\Junk) "/" "Bin"'])
        typ, data = m._simple_command("CREATE", "Odd", "(USE (\\Important))")
        self.assertEqual((typ, data), ("NO", [b"[USEATTR] Unsupported special-use attribute"]))
        with self.assertRaises(imaplib.IMAP4.error):
            m._simple_command("CREATE", "Odd", "(FOO (\\Sent))")

    def test_utf7_mailbox_names(self):
        m = self.imap()
        self.assertEqual(m.create("Caf&AOk-")[0], "OK")
        typ, data = m.list('""', "Caf*")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "Caf&AOk-"'])
        self.assertEqual(m.select("Caf&AOk-")[0], "OK")
        self.assertEqual(m.create("Bad&AOk")[0], "NO")  # not valid modified UTF-7
        # the store holds UTF-8: petrelctl shows the decoded name
        r = self.d.ctl("mailbox", "list", USER, check=False)
        self.assertIn("Café", r.stdout)
        self.assertEqual(m.delete("Caf&AOk-")[0], "OK")

    def test_subscribe_lsub(self):
        m = self.imap()
        self.assertEqual(m.create("Lists")[0], "OK")
        self.assertEqual(m.subscribe("Lists")[0], "OK")
        typ, data = m.lsub('""', "*")
        self.assertIn(b'() "/" "Lists"', data)
        self.assertEqual(m.unsubscribe("Lists")[0], "OK")
        typ, data = m.lsub('""', "Lists")
        self.assertEqual(data, [None])

    def test_status(self):
        self.d.ctl("mailbox", "create", USER, "Stat", check=False)
        m = self.imap()
        m.create("Stat")
        self.deliver(1, mailbox="Stat")
        self.deliver(2, mailbox="Stat")
        typ, data = m.status("Stat", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT SIZE DELETED)")
        self.assertEqual(typ, "OK")
        text = data[0].decode()
        self.assertRegex(text, r'^"Stat" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 2 '
                               r'RECENT 2 SIZE \d+ DELETED 0\)$')
        self.assertEqual(m.status("Nope", "(MESSAGES)")[0], "NO")
        with self.assertRaisesRegex(imaplib.IMAP4.error, "BAD.*Unknown STATUS item"):
            m.status("Stat", "(BOGUS)")

    def test_select_examine_recent(self):
        m = self.imap()
        m.create("Sel")
        for n in range(3):
            self.deliver(n, mailbox="Sel")
        typ, data = m.select("Sel", readonly=True)
        self.assertEqual((typ, data), ("OK", [b"3"]))
        self.assertEqual(m.untagged_responses.pop("RECENT"), [b"3"])
        self.assertEqual(m.untagged_responses.pop("READ-ONLY"), [b""])
        typ, data = m.select("Sel")
        self.assertEqual((typ, data), ("OK", [b"3"]))
        self.assertEqual(m.untagged_responses.pop("RECENT"), [b"3"])
        self.assertEqual(m.untagged_responses.pop("UIDNEXT"), [b"4"])
        self.assertEqual(m.untagged_responses.pop("UNSEEN"), [b"1"])
        self.assertEqual(m.untagged_responses.pop("READ-WRITE"), [b""])
        self.assertIn(b"\\*", m.untagged_responses.pop("PERMANENTFLAGS")[0])
        self.assertTrue(m.untagged_responses.pop("HIGHESTMODSEQ"))
        # \Recent went to the first session that selected
        m2 = self.imap()
        m2.select("Sel")
        self.assertEqual(m2.untagged_responses.pop("RECENT"), [b"0"])
        self.assertEqual(m.unselect()[0] if hasattr(m, "unselect") else
                         m._simple_command("UNSELECT")[0], "OK")
        self.assertEqual(m.select("Nope")[0], "NO")
        self.assertEqual(m.state, "AUTH")

    def test_two_sessions_see_new_mail(self):
        m1 = self.imap()
        m1.create("Shared")
        m1.select("Shared")
        m2 = self.imap()
        m2.select("Shared")
        for m in (m1, m2):
            self.assertEqual(m.untagged_responses.pop("EXISTS"), [b"0"])
        self.deliver(7, mailbox="Shared")
        typ, _ = m1.noop()
        self.assertEqual(m1.untagged_responses.pop("EXISTS"), [b"1"])
        typ, _ = m2.check()
        self.assertEqual(m2.untagged_responses.pop("EXISTS"), [b"1"])
        m2.noop()
        self.assertNotIn("EXISTS", m2.untagged_responses)
        self.assertEqual(m1.close()[0], "OK")
        self.assertEqual(m1.state, "AUTH")

    def test_curl_lists_mailboxes(self):
        m = self.imap()
        m.create("CurlBox")
        r = subprocess.run(["curl", "-s", "--max-time", "10", "-u", f"{USER}:{PASS}",
                            f"imap://127.0.0.1:{self.d.ports['imap']}/"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"CurlBox"', r.stdout)
        self.assertIn('"INBOX"', r.stdout)

    # ------------------------------------------------------------ bad input
    def test_bad_input(self):
        c = self.raw()
        self.assertEqual(c.cmd("a FROB"), "a BAD Unknown command")
        self.assertEqual(c.cmd("+x NOOP"), "* BAD Missing or invalid tag")
        self.assertEqual(c.cmd("b"), "b BAD Missing command")
        self.assertEqual(c.cmd('c LOGIN "unterminated'), "c BAD Unterminated quoted string")
        self.assertEqual(c.cmd("d NOOP"), "d OK NOOP completed")

    def test_huge_literal_refused_before_continuation(self):
        c = self.raw()
        self.assertEqual(c.cmd(f'a LOGIN {USER} {{10000000}}'), "a NO [TOOBIG] Literal too big")
        self.assertEqual(c.cmd("b NOOP"), "b OK NOOP completed")
        # a non-synchronising literal we refuse: its bytes follow, so the session ends
        c.send("c LOGIN {10000000+}\r\n")
        self.assertEqual(c.line(), "c NO [TOOBIG] Literal too big")
        self.assertEqual(c.line(), "* BYE Literal refused, closing")
        self.assertTrue(c.closed())

    def test_overlong_line(self):
        c = self.raw()
        c.send("a NOOP " + "x" * 70000 + "\r\n")
        self.assertEqual(c.line(), "a BAD Line too long")
        self.assertEqual(c.cmd("b NOOP"), "b OK NOOP completed")

    def test_too_many_bad_commands(self):
        c = self.raw()
        for i in range(4):
            self.assertEqual(c.cmd(f"t{i} FROB"), f"t{i} BAD Unknown command")
        self.assertEqual(c.cmd("t5 FROB"), "t5 BAD Unknown command")
        self.assertEqual(c.line(), "* BYE Too many errors")
        self.assertTrue(c.closed())


class ImapLoginDisabledTest(unittest.TestCase):
    """auth_plaintext = never: LOGINDISABLED until STARTTLS."""

    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "starttls", None)], extra_global="auth_plaintext = never")
        cls.d.start()
        cls.d.add_user(USER, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_logindisabled(self):
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        greeting = c.line()
        self.assertIn(" LOGINDISABLED", greeting)
        self.assertIn(" STARTTLS", greeting)
        self.assertNotIn("AUTH=PLAIN", greeting)
        self.assertEqual(c.cmd(f"a LOGIN {USER} x"),
                         "a NO [PRIVACYREQUIRED] LOGIN disabled: use STARTTLS first")
        self.assertEqual(c.cmd("b AUTHENTICATE PLAIN"), "b NO [PRIVACYREQUIRED] Use STARTTLS first")
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        self.assertIn("LOGINDISABLED", m.capabilities)
        m.starttls(ssl_context=tls_ctx())
        self.assertNotIn("LOGINDISABLED", m.capabilities)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertEqual(m.login(USER, PASS)[0], "OK")
        m.logout()


if __name__ == "__main__":
    unittest.main()
