"""LIST-EXTENDED leftovers: LSUB with '%' lists the unsubscribed parents of subscribed
names as \\Noselect (RFC 3501 6.3.9); RECURSIVEMATCH with SPECIAL-USE (alone and with
SUBSCRIBED) lists the parents of matching mailboxes with CHILDINFO naming the criteria
(RFC 5258 3.5, RFC 6154)."""
import imaplib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import LineClient, Petreld  # noqa: E402

USER, PASS = "lister@example.test", "list pw"


class ImapListTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {})])
        cls.d.start()
        cls.d.add_user(USER, PASS)
        m = imaplib.IMAP4("127.0.0.1", cls.d.ports["imap"])
        m.login(USER, PASS)
        # Pa, Pa/Kid, Pa/Kid/Deep, Pa/Arch (\Archive), Pb/Plain, Pc, Pd/X/Trash (\Trash);
        # subscribed: Pa/Kid/Deep, Pb/Plain, Pc, Pd/X/Trash and Gone/Child (no mailbox)
        for name in ("Pa", "Pa/Kid", "Pa/Kid/Deep", "Pb/Plain", "Pc"):
            assert m.create(name)[0] == "OK", name
        assert m._simple_command("CREATE", "Pa/Arch", "(USE (\\Archive))")[0] == "OK"
        assert m._simple_command("CREATE", "Pd/X/Trash", "(USE (\\Trash))")[0] == "OK"
        for name in ("Pa/Kid/Deep", "Pb/Plain", "Pc", "Pd/X/Trash", "Gone/Child"):
            assert m.subscribe(name)[0] == "OK", name
        m.logout()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def raw(self):
        c = LineClient(self.d.ports["imap"])
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK "))
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        return c

    def test_large_list_is_streamed(self):
        """LIST of 2,200 long names (~1.1 MB, past the host's 1 MiB output limit) arrives
        whole, in order, with a pipelined command answered after it."""
        user = "many@example.test"
        self.d.add_user(user, PASS)
        c = LineClient(self.d.ports["imap"], timeout=30)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK "))
        self.assertTrue(c.cmd(f'l LOGIN {user} "{PASS}"').startswith("l OK "))
        names = ["Many%04d" % k + "y" * 470 for k in range(2200)]
        for k in range(0, len(names), 50):  # pipelined, 50 at a time
            c.send("".join(f"c{j} CREATE {names[j]}\r\n" for j in range(k, k + 50)))
            for j in range(k, k + 50):
                self.assertEqual(c.line(), f"c{j} OK CREATE completed")
        c.send('a LIST "" "Many*"\r\nb NOOP\r\n')
        out = []
        while not out or not out[-1].startswith("a "):
            out.append(c.line())
        self.assertEqual(out[-1], "a OK LIST completed")
        self.assertGreater(sum(len(x) + 2 for x in out), 1 << 20)
        want = ['* LIST (\\HasNoChildren) "/" "%s"' % n for n in names]
        self.maxDiff = 2000  # difflib over 2,200 long lines would take minutes
        self.assertEqual(len(out) - 1, len(want))
        self.assertEqual([i for i, x in enumerate(out[:-1]) if x != want[i]][:3], [], out[:2])
        self.assertEqual(c.line(), "b OK NOOP completed")

    def test_lsub_noselect_parents(self):
        c = self.raw()
        # '%': the top level of every subscription; a level that is not subscribed itself
        # is \Noselect, whether it exists (Pa) or not (Gone)
        self.assertEqual(c.tagged('a LSUB "" %'),
                         ['* LSUB (\\Noselect) "/" "Gone"', '* LSUB (\\Noselect) "/" "Pa"',
                          '* LSUB (\\Noselect) "/" "Pb"', '* LSUB () "/" "Pc"',
                          '* LSUB (\\Noselect) "/" "Pd"', "a OK LSUB completed"])
        self.assertEqual(c.tagged('b LSUB "" "P%/%"'),
                         ['* LSUB (\\Noselect) "/" "Pa/Kid"', '* LSUB () "/" "Pb/Plain"',
                          '* LSUB (\\Noselect) "/" "Pd/X"', "b OK LSUB completed"])
        # the reference is prefixed to the pattern
        self.assertEqual(c.tagged('c LSUB "Pa/" %'),
                         ['* LSUB (\\Noselect) "/" "Pa/Kid"', "c OK LSUB completed"])
        # '*' matches the subscribed names themselves: no parents
        self.assertEqual(c.tagged('d LSUB "" *'),
                         ['* LSUB () "/" "Gone/Child"', '* LSUB () "/" "Pa/Kid/Deep"',
                          '* LSUB () "/" "Pb/Plain"', '* LSUB () "/" "Pc"',
                          '* LSUB () "/" "Pd/X/Trash"', "d OK LSUB completed"])
        # a pattern naming a parent without '%' does not list it
        self.assertEqual(c.tagged('e LSUB "" Pa'), ["e OK LSUB completed"])
        self.assertEqual(c.tagged('f LSUB "" "Nothing%"'), ["f OK LSUB completed"])

    def test_lsub_through_imaplib(self):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        self.addCleanup(m.logout)
        m.login(USER, PASS)
        typ, data = m.lsub('""', "Pd/%")
        self.assertEqual((typ, data), ("OK", [b'(\\Noselect) "/" "Pd/X"']))

    def test_recursivematch_special_use(self):
        c = self.raw()
        self.assertEqual(c.tagged('a LIST (SPECIAL-USE RECURSIVEMATCH) "" %'),
                         ['* LIST (\\HasChildren) "/" "Pa" ("CHILDINFO" ("SPECIAL-USE"))',
                          '* LIST (\\HasChildren) "/" "Pd" ("CHILDINFO" ("SPECIAL-USE"))',
                          "a OK LIST completed"])
        self.assertEqual(c.tagged('b LIST (RECURSIVEMATCH SPECIAL-USE) "" *'),
                         ['* LIST (\\HasChildren) "/" "Pa" ("CHILDINFO" ("SPECIAL-USE"))',
                          '* LIST (\\HasNoChildren \\Archive) "/" "Pa/Arch"',
                          '* LIST (\\HasChildren) "/" "Pd" ("CHILDINFO" ("SPECIAL-USE"))',
                          '* LIST (\\HasChildren) "/" "Pd/X" ("CHILDINFO" ("SPECIAL-USE"))',
                          '* LIST (\\HasNoChildren \\Trash) "/" "Pd/X/Trash"',
                          "b OK LIST completed"])
        # both criteria: only Pd/X/Trash is subscribed and special-use
        self.assertEqual(c.tagged('c LIST (SUBSCRIBED SPECIAL-USE RECURSIVEMATCH) "" %'),
                         ['* LIST (\\HasChildren) "/" "Pd" '
                          '("CHILDINFO" ("SUBSCRIBED" "SPECIAL-USE"))',
                          "c OK LIST completed"])
        self.assertEqual(c.tagged('d LIST (SUBSCRIBED SPECIAL-USE) "" *'),
                         ['* LIST (\\HasNoChildren \\Subscribed \\Trash) "/" "Pd/X/Trash"',
                          "d OK LIST completed"])
        # without RECURSIVEMATCH no parent, and SUBSCRIBED RECURSIVEMATCH is unchanged
        self.assertEqual(c.tagged('e LIST (SPECIAL-USE) "" %'), ["e OK LIST completed"])
        self.assertEqual(c.tagged('f LIST (SUBSCRIBED RECURSIVEMATCH) "" "P%"'),
                         ['* LIST (\\HasChildren) "/" "Pa" ("CHILDINFO" ("SUBSCRIBED"))',
                          '* LIST (\\HasChildren) "/" "Pb" ("CHILDINFO" ("SUBSCRIBED"))',
                          '* LIST (\\HasNoChildren \\Subscribed) "/" "Pc"',
                          '* LIST (\\HasChildren) "/" "Pd" ("CHILDINFO" ("SUBSCRIBED"))',
                          "f OK LIST completed"])
        # RECURSIVEMATCH still needs a criterion to recurse on
        for bad in ('g LIST (RECURSIVEMATCH) "" *', 'g LIST (REMOTE RECURSIVEMATCH) "" *'):
            self.assertTrue(c.tagged(bad)[-1].startswith("g BAD "), bad)


if __name__ == "__main__":
    unittest.main()
