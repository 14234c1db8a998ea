"""The POP3 plugin with real clients: curl pop3:// (plain and STLS) and
pop3s://, fetchmail in keep mode (UIDL-driven: a second run fetches nothing)
and in delete mode, delivering into files through an MDA."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import PETRELCTL, Petreld  # noqa: E402

PASS = "client pass"


def message(i):
    return (f"From: a@example.test\r\nTo: u@example.test\r\nSubject: client test {i}\r\n"
            f"Message-ID: <m{i}@example.test>\r\n\r\nhello {i}\r\n.dotted line {i}\r\n")


class Pop3ClientsTest(unittest.TestCase):
    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("pop3", "pop3", "starttls", None), ("pop3s", "pop3", "implicit", None),
                         ("plain", "pop3", "none", None)])
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def new_user(self, n):
        Pop3ClientsTest.counter += 1
        user = f"c{Pop3ClientsTest.counter}@example.test"
        self.d.add_user(user, PASS)
        for i in range(n):
            r = subprocess.run([PETRELCTL, "-d", self.d.data, "deliver", user],
                               input=message(i).encode(), capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        return user

    def inbox_count(self, user):
        for mb in json.loads(self.d.ctl("--json", "mailbox", "list", user).stdout):
            if mb["name"] == "INBOX":
                return mb["messages"]
        raise AssertionError("no INBOX")

    def curl(self, url, user, *extra):
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", f"{user}:{PASS}", *extra,
                            url], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_curl_pop3_list_retr_uidl(self):
        user = self.new_user(2)
        base = f"pop3://127.0.0.1:{self.d.ports['plain']}/"
        listing = self.curl(base, user).decode().split("\r\n")
        self.assertEqual(listing[:2], [f"1 {len(message(0))}", f"2 {len(message(1))}"])
        self.assertEqual(self.curl(base + "2", user), message(1).encode())
        uidl = self.curl(base, user, "-X", "UIDL").decode().split()
        self.assertEqual(len(uidl), 4)
        self.assertEqual(self.inbox_count(user), 2)

    def test_curl_stls_and_pop3s(self):
        user = self.new_user(1)
        got = self.curl(f"pop3://127.0.0.1:{self.d.ports['pop3']}/1", user, "--ssl-reqd", "-k")
        self.assertEqual(got, message(0).encode())
        got = self.curl(f"pop3s://127.0.0.1:{self.d.ports['pop3s']}/1", user, "-k")
        self.assertEqual(got, message(0).encode())

    def fetchmail(self, user, keep):
        tmp = tempfile.mkdtemp(prefix="petrel-fetchmail-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        rc = os.path.join(tmp, "fetchmailrc")
        with open(rc, "w") as f:
            f.write(f'poll 127.0.0.1 with proto POP3 port {self.d.ports["pop3"]} uidl\n'
                    f'  user "{user}" there with password "{PASS}" is "nobody" here\n'
                    f'  {"keep" if keep else "nokeep"} fetchall\n'
                    # fetchmail 6.4 always tries STLS; the test certificate is self-signed
                    f'  sslproto tls1.2+ no sslcertck\n'
                    f'  mda "/bin/sh -c \'cat > $(mktemp {out}/m.XXXXXX)\'"\n')
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=tmp, FETCHMAILHOME=tmp)
        return tmp, out, rc, env

    def run_fetchmail(self, rc, env):
        args = ["fetchmail", "-f", rc, "--nodetach", "--nosyslog", "--idfile",
                os.path.join(os.path.dirname(rc), "ids")]
        return subprocess.run(args, env=env, capture_output=True, timeout=60)

    def fetched(self, out):
        msgs = []
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), "rb") as f:
                msgs.append(f.read())
        return msgs

    def test_fetchmail_keep_mode(self):
        user = self.new_user(3)
        tmp, out, rc, env = self.fetchmail(user, keep=True)
        r = self.run_fetchmail(rc, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        msgs = self.fetched(out)
        self.assertEqual(len(msgs), 3)
        for i in range(3):
            self.assertTrue(any(f"Subject: client test {i}".encode() in m and
                                f"\n.dotted line {i}".encode() in m for m in msgs))
        self.assertEqual(self.inbox_count(user), 3)
        # keep mode run again without fetchall: the UIDLs say everything was seen
        with open(rc) as f:
            text = f.read().replace(" fetchall", "")
        with open(rc, "w") as f:
            f.write(text)
        r = self.run_fetchmail(rc, env)
        self.assertEqual(r.returncode, 1, r.stderr)  # 1: no new mail
        self.assertEqual(len(self.fetched(out)), 3)
        self.assertEqual(self.inbox_count(user), 3)

    def test_fetchmail_delete_mode(self):
        user = self.new_user(4)
        tmp, out, rc, env = self.fetchmail(user, keep=False)
        r = self.run_fetchmail(rc, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.fetched(out)), 4)
        self.assertEqual(self.inbox_count(user), 0)
        r = self.run_fetchmail(rc, env)
        self.assertEqual(r.returncode, 1, r.stderr)  # nothing left
        self.assertEqual(len(self.fetched(out)), 4)


if __name__ == "__main__":
    unittest.main()
