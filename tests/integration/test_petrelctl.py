#!/usr/bin/env python3
"""Integration tests for petrelctl: the real binary in temporary data directories.

Every command and its error paths; --json parsed with json; import/export round
trips (mbox with From-line quoting and a message without a trailing newline,
Maildir++ with .Sent, .Lists.foo and :2,FS suffixes); backup while another
process delivers; restore (also refused while the petreld lock is held); check
after a counter was broken with lmdb-utils (mdb_dump/mdb_load).
"""
import fcntl
import json
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.environ.get("PETREL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
CTL = os.path.abspath(os.path.join(BUILD, "petrelctl"))
PETRELD = os.path.abspath(os.path.join(BUILD, "petreld"))

# A cheap scrypt-free hash: user add/passwd tests that do not need a real
# password use --password-hash (hashing with scrypt takes ~50 ms per call).
HASH = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"

MSG_QUOTED = (b"From: a@example.org\nSubject: quoting\n\n"
              b"From here on, a line that mboxo would break\n"
              b">From already quoted\n>>From twice\nFromage is not a From line\n")
MSG_NO_NL = b"From: b@example.org\nSubject: no trailing newline\n\nthe last line"
MSG_CRLF = b"From: c@example.org\r\nSubject: crlf\r\n\r\nbody\r\nFrom crlf\r\n"


def mbox_file(msgs):
    """An mbox as petrelctl writes it: From_ line with flags, mboxrd quoting, one \\n after."""
    out = b""
    for i, (body, flags) in enumerate(msgs):
        date = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(1700000000 + 86400 * i))
        out += ("From MAILER-DAEMON %s%s\n" % (date, " flags=" + flags if flags else "")).encode()
        for line in body.splitlines(keepends=True):
            if line.lstrip(b">").startswith(b"From "):
                line = b">" + line
            out += line
        out += b"\n"
    return out


class Ctl(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="petrelctl-")
        self.data = os.path.join(self.tmp, "data")
        self.env = dict(os.environ, PETREL_DATA=self.data)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def run_ctl(self, *args, input=b"", env=None):
        return subprocess.run([CTL] + list(args), input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env or self.env, timeout=120)

    def ok(self, *args, input=b""):
        r = self.run_ctl(*args, input=input)
        self.assertEqual(r.returncode, 0, "petrelctl %s: %s" % (" ".join(args), r.stderr.decode()))
        return r.stdout.decode()

    def fails(self, code, *args, input=b"", says=None):
        r = self.run_ctl(*args, input=input)
        self.assertEqual(r.returncode, code, "petrelctl %s: rc %d, stdout %r stderr %r" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
        err = r.stderr.decode()
        if code != 0:
            self.assertTrue(err.strip(), "no reason on stderr")
        if says:
            self.assertIn(says, err)
        return err

    def js(self, *args):
        return json.loads(self.ok("--json", *args))

    def setup_users(self):
        self.ok("tenant", "add", "example.com")
        self.ok("user", "add", "alice@example.com", "--password-hash", HASH)
        self.ok("user", "add", "bob@example.com", "--password-hash", HASH)

    def deliver(self, addr, body=b"Subject: x\n\nhello\n", *opts, code=0):
        r = self.run_ctl("deliver", addr, *opts, input=body)
        self.assertEqual(r.returncode, code, r.stderr.decode())
        return r

    def mailbox(self, addr, name):
        for m in self.js("mailbox", "list", addr):
            if m["name"] == name:
                return m
        return None


class TestUsageAndHelp(Ctl):
    COMMANDS = ["tenant add", "tenant list", "tenant show", "tenant set", "tenant alias-domain",
                "tenant del", "user add", "user del", "user passwd", "user list", "user show",
                "user set", "user rename", "alias add", "alias del", "alias list", "quota show",
                "quota set", "quota report", "mailbox list", "mailbox create", "mailbox delete",
                "mailbox rename", "mailbox expunge", "deliver", "import", "export", "backup",
                "restore", "check", "stats"]

    def test_help_lists_every_command(self):
        out = self.ok("help")
        for c in self.COMMANDS:
            self.assertIn("  " + c, out)
        self.assertIn("--json", out)
        self.assertEqual(self.ok("--help"), out)

    def test_every_command_has_help(self):
        for c in self.COMMANDS:
            out = self.ok(*c.split(), "--help")
            self.assertTrue(out.startswith("usage: petrelctl " + c), out)
            self.assertEqual(self.ok("help", *c.split()), out)
        self.assertIn("--password-stdin", self.ok("user", "add", "--help"))
        self.assertIn("--before DATE", self.ok("mailbox", "expunge", "--help"))
        self.assertIn("500M", self.ok("quota", "set", "--help"))
        # help does not open (or create) the store
        self.assertFalse(os.path.exists(self.data))

    def test_usage_errors_exit_2(self):
        self.fails(2)
        self.fails(2, "frobnicate", says="unknown command 'frobnicate'")
        self.fails(2, "tenant", says="petrelctl tenant add")
        self.fails(2, "tenant", "frob", says="unknown command 'tenant frob'")
        r = self.run_ctl("tenant", "--help")
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertIn("petrelctl tenant alias-domain", r.stdout.decode())
        self.assertEqual(self.ok("help", "tenant"), r.stdout.decode())
        self.fails(2, "tenant", "add", says="usage: petrelctl tenant add DOMAIN")
        self.fails(2, "tenant", "add", "a.com", "b.com", says="unexpected argument 'b.com'")
        self.fails(2, "tenant", "add", "a.com", "--quota", "lots", says="invalid size 'lots'")
        self.fails(2, "tenant", "add", "a.com", "--protocols", "ftp", says="'ftp'")
        self.fails(2, "tenant", "add", "a.com", "--bogus", says="unknown option '--bogus'")
        self.fails(2, "user", "set", "a@b.com", says="nothing to change")
        self.fails(2, "-x", "stats")
        self.fails(2, "import", "a@b.com", "zip", "f", says="unknown format 'zip'")
        self.fails(2, "mailbox", "expunge", "a@b.com", "INBOX", "--before", "someday",
                   says="invalid date 'someday'")
        # nothing was created by a usage error
        self.assertFalse(os.path.exists(self.data))

    def test_data_dir_sources(self):
        env = dict(os.environ)
        env.pop("PETREL_DATA", None)
        d1, d2, d3 = self.path("d1"), self.path("d2"), self.path("d3")
        r = self.run_ctl("-d", d1, "tenant", "add", "one.com", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(d1, "store", "data.mdb")))
        env["PETREL_DATA"] = d2
        self.assertEqual(self.run_ctl("tenant", "add", "two.com", env=env).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(d2, "store", "data.mdb")))
        # -d wins over PETREL_DATA
        r = self.run_ctl("-d", d1, "--json", "tenant", "list", env=env)
        self.assertEqual([t["domain"] for t in json.loads(r.stdout)], ["one.com"])
        # the config file's data = when neither is given
        env.pop("PETREL_DATA")
        conf = self.path("petrel.conf")
        with open(conf, "w") as f:
            f.write("data = %s\n" % d3)
        self.assertEqual(self.run_ctl("-c", conf, "tenant", "add", "three.com", env=env).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(d3, "store", "data.mdb")))
        with open(conf, "w") as f:
            f.write("# petreld\nhostname = mx\ndata = %s   # comment\n[listener imap]\n"
                    "data = /elsewhere\n" % d1)
        r = self.run_ctl("-c", conf, "--json", "tenant", "list", env=env)
        self.assertEqual([t["domain"] for t in json.loads(r.stdout)], ["one.com"])
        with open(conf, "w") as f:
            f.write("data\n")
        r = self.run_ctl("-c", conf, "tenant", "list", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("petrel.conf:1", r.stderr.decode())
        r = self.run_ctl("-c", self.path("missing.conf"), "tenant", "list", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.conf", r.stderr.decode())
        # else ./var
        r = subprocess.run([CTL, "tenant", "add", "four.com"], cwd=self.tmp, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(self.path("var", "store", "data.mdb")))

    def test_read_commands_do_not_create_a_store(self):
        for args in (["tenant", "list"], ["user", "show", "a@b.com"], ["stats"], ["check"],
                     ["quota", "report"], ["backup", self.path("bk")],
                     ["export", "a@b.com", "mbox", self.path("x")]):
            self.fails(1, *args, says="no Petrel store in '%s'" % self.data)
        self.assertFalse(os.path.exists(self.data))

    def test_json_flag_anywhere(self):
        self.ok("tenant", "add", "example.com")
        a = json.loads(self.ok("tenant", "list", "--json"))
        b = json.loads(self.ok("--json", "tenant", "list"))
        self.assertEqual(a, b)


class TestTenant(Ctl):
    def test_add_list_show(self):
        self.assertIn("example.com", self.ok("tenant", "add", "Example.COM", "--quota", "1.5G",
                                             "--protocols", "imap,smtp"))
        self.ok("tenant", "add", "other.org")
        ts = self.js("tenant", "list")
        self.assertEqual(sorted(t["domain"] for t in ts), ["example.com", "other.org"])
        t = self.js("tenant", "show", "example.com")
        self.assertEqual(t["quota_bytes"], 3 * 2**29)
        self.assertEqual(t["protocols"], "smtp,imap")
        self.assertEqual(t["status"], "active")
        self.assertEqual(t["users"], 0)
        self.assertEqual(t["alias_domains"], [])
        self.assertEqual(self.js("tenant", "show", "other.org")["protocols"], "smtp,pop3,imap")
        text = self.ok("tenant", "show", "example.com")
        self.assertIn("1.5 GiB", text)
        self.assertIn("example.com", self.ok("tenant", "list"))

    def test_errors(self):
        self.ok("tenant", "add", "example.com")
        self.fails(1, "tenant", "add", "EXAMPLE.com", says="already exists")
        self.fails(1, "tenant", "add", "bad domain", says="invalid domain 'bad domain'")
        self.fails(1, "tenant", "add", "bad-.com", says="'bad-.com'")
        self.fails(1, "tenant", "add", "a..com", says="'a..com'")
        self.fails(1, "tenant", "show", "nope.com", says="tenant 'nope.com' not found")
        self.fails(1, "tenant", "set", "nope.com", "--suspend", says="'nope.com'")
        self.fails(1, "tenant", "del", "nope.com", says="'nope.com'")
        self.assertEqual(len(self.js("tenant", "list")), 1)

    def test_set(self):
        self.ok("tenant", "add", "example.com")
        self.ok("tenant", "set", "example.com", "--protocols", "imap")
        self.assertEqual(self.js("tenant", "show", "example.com")["protocols"], "imap")
        self.ok("tenant", "set", "example.com", "--enable", "pop3", "--disable", "imap")
        self.assertEqual(self.js("tenant", "show", "example.com")["protocols"], "pop3")
        self.ok("tenant", "set", "example.com", "--quota", "2G", "--suspend")
        t = self.js("tenant", "show", "example.com")
        self.assertEqual((t["quota_bytes"], t["status"]), (2 << 30, "suspended"))
        self.ok("tenant", "set", "example.com", "--quota", "unlimited", "--resume")
        t = self.js("tenant", "show", "example.com")
        self.assertEqual((t["quota_bytes"], t["status"]), (0, "active"))
        self.fails(2, "tenant", "set", "example.com", "--suspend", "--resume")
        # a quota below the usage is allowed, with a warning
        self.ok("user", "add", "a@example.com", "--password-hash", HASH)
        self.deliver("a@example.com", b"Subject: x\n\n" + b"y" * 2000 + b"\n")
        r = self.run_ctl("tenant", "set", "example.com", "--quota", "1K")
        self.assertEqual(r.returncode, 0)
        self.assertIn("warning", r.stderr.decode())
        self.assertEqual(self.js("tenant", "show", "example.com")["quota_bytes"], 1024)

    def test_alias_domain(self):
        self.setup_users()
        self.ok("tenant", "alias-domain", "add", "example.com", "example.net")
        self.assertEqual(self.js("tenant", "show", "example.com")["alias_domains"], ["example.net"])
        # mail to the alias domain reaches the user
        self.deliver("alice@example.net")
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 1)
        self.fails(1, "tenant", "alias-domain", "add", "example.com", "example.net",
                   says="'example.net'")
        self.fails(1, "tenant", "alias-domain", "add", "nope.com", "x.net", says="'nope.com'")
        self.fails(2, "tenant", "alias-domain", "move", "example.com", "x.net")
        self.ok("tenant", "alias-domain", "del", "example.com", "example.net")
        self.assertEqual(self.js("tenant", "show", "example.com")["alias_domains"], [])
        self.deliver("alice@example.net", code=67)

    def test_del(self):
        self.setup_users()
        self.deliver("alice@example.com")
        self.fails(1, "tenant", "del", "example.com", says="--purge")
        self.assertEqual(len(self.js("user", "list")), 2)
        self.ok("tenant", "del", "example.com", "--purge")
        self.assertEqual(self.js("tenant", "list"), [])
        self.assertEqual(self.js("user", "list"), [])
        self.assertEqual(self.js("stats")["messages"], 0)
        self.ok("tenant", "add", "empty.com")
        self.ok("tenant", "del", "empty.com")


class TestFirstUse(Ctl):
    def test_concurrent_first_use_makes_one_store(self):
        """Processes opening a new data dir at once (petreld binds its ports before it
        opens the store, so petrelctl can race it) never see a half-made store."""
        for round_ in range(8):
            data = self.path("race%d" % round_)
            env = dict(os.environ, PETREL_DATA=data)
            procs = [subprocess.Popen([CTL, "tenant", "add", "t%d.test" % i], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for i in range(4)]
            for p in procs:
                _, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, 0, err.decode())
            r = self.run_ctl("--json", "tenant", "list", env=env)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(sorted(t["domain"] for t in json.loads(r.stdout)),
                             ["t0.test", "t1.test", "t2.test", "t3.test"])
            # no half-made store left behind, only the creators' lock file
            self.assertEqual(sorted(os.listdir(data)), ["store", "store.create.lock"])


class TestUser(Ctl):
    def test_add_password_stdin_and_show(self):
        self.ok("tenant", "add", "example.com")
        self.ok("user", "add", "Alice@Example.com", "--password-stdin", "--quota", "500M",
                "--max-messages", "1000", input=b"s3cret pass\n")
        u = self.js("user", "show", "alice@example.com")
        self.assertEqual(u["address"], "Alice@example.com")
        self.assertEqual((u["quota_bytes"], u["max_messages"]), (500 << 20, 1000))
        self.assertEqual((u["used_bytes"], u["messages"], u["last_login"]), (0, 0, None))
        self.assertEqual([m["name"] for m in u["mailboxes"]], ["INBOX"])
        self.assertEqual(u["status"], "active")
        text = self.ok("user", "show", "alice@example.com")
        self.assertIn("500.0 MiB", text)
        self.assertIn("never", text)
        self.assertNotIn("s3cret", text + self.ok("--json", "user", "show", "alice@example.com"))

    def test_add_errors(self):
        self.ok("tenant", "add", "example.com")
        self.ok("user", "add", "a@example.com", "--password-hash", HASH)
        self.fails(1, "user", "add", "A@EXAMPLE.COM", "--password-hash", HASH,
                   says="user 'A@EXAMPLE.COM' already exists")
        self.fails(1, "user", "add", "a@nowhere.org", "--password-hash", HASH,
                   says="no tenant for domain 'nowhere.org'")
        self.fails(1, "user", "add", "not-an-address", "--password-hash", HASH,
                   says="invalid address 'not-an-address'")
        self.fails(1, "user", "add", "b@example.com", "--password-hash", "md5:abc",
                   says="unsupported password hash scheme")
        for i, h in enumerate(["$scrypt$ln=14,r=8,p=1$c2FsdA$a2V5", "{SHA512-CRYPT}" + HASH,
                  "$2y$10$abcdefghijklmnopqrstuu", "$2b$10$x", "$2a$10$x", "{BLF-CRYPT}$2y$10$x"]):
            self.ok("user", "add", "u%d@example.com" % i, "--password-hash", h)
        # no password source and no terminal
        self.fails(1, "user", "add", "c@example.com", says="--password-stdin")
        self.fails(1, "user", "add", "c@example.com", "--password-stdin", input=b"\n",
                   says="empty")
        self.fails(2, "user", "add", "c@example.com", "--password-stdin", "--password-hash", HASH)
        self.fails(2, "user", "add", "c@example.com", "--quota", "x1", "--password-hash", HASH)
        self.assertEqual(self.js("tenant", "show", "example.com")["users"], 7)

    def test_passwd_set_rename_del(self):
        self.setup_users()
        self.ok("user", "passwd", "alice@example.com", "--password-stdin", input=b"new pw\n")
        self.ok("user", "passwd", "alice@example.com", "--password-hash", HASH)
        self.fails(1, "user", "passwd", "zed@example.com", "--password-hash", HASH,
                   says="user 'zed@example.com' not found")
        self.ok("user", "set", "alice@example.com", "--quota", "2M", "--max-messages", "5",
                "--suspend")
        u = self.js("user", "show", "alice@example.com")
        self.assertEqual((u["quota_bytes"], u["max_messages"], u["status"]),
                         (2 << 20, 5, "suspended"))
        self.ok("user", "set", "alice@example.com", "--quota", "unlimited", "--resume")
        u = self.js("user", "show", "alice@example.com")
        self.assertEqual((u["quota_bytes"], u["status"]), (0, "active"))
        self.fails(1, "user", "set", "zed@example.com", "--suspend", says="'zed@example.com'")
        self.deliver("alice@example.com")
        self.ok("user", "rename", "alice@example.com", "alicia@example.com")
        self.fails(1, "user", "show", "alice@example.com", says="not found")
        self.assertEqual(self.js("user", "show", "alicia@example.com")["messages"], 1)
        self.fails(1, "user", "rename", "alicia@example.com", "bob@example.com",
                   says="'bob@example.com' already exists")
        self.fails(1, "user", "rename", "zed@example.com", "zz@example.com",
                   says="user 'zed@example.com' not found")
        self.fails(1, "user", "rename", "bob@example.com", "bob@nowhere.org", says="nowhere.org")
        # del frees the quota and the blobs
        self.assertGreater(self.js("tenant", "show", "example.com")["used_bytes"], 0)
        self.ok("user", "del", "alicia@example.com")
        self.assertEqual(self.js("tenant", "show", "example.com")["used_bytes"], 0)
        self.assertEqual(self.js("stats")["blobs"], 0)
        self.fails(1, "user", "del", "alicia@example.com", says="not found")
        self.ok("check")

    def test_list(self):
        self.setup_users()
        self.ok("tenant", "add", "other.org")
        self.ok("user", "add", "carol@other.org", "--password-hash", HASH)
        self.assertEqual([u["address"] for u in self.js("user", "list")],
                         ["alice@example.com", "bob@example.com", "carol@other.org"])
        self.assertEqual([u["address"] for u in self.js("user", "list", "other.org")],
                         ["carol@other.org"])
        self.fails(1, "user", "list", "nope.com", says="tenant 'nope.com' not found")
        self.assertIn("bob@example.com", self.ok("user", "list"))


def run_on_terminal(argv, env, answers, timeout=60):
    """Runs argv with a pseudo-terminal as its controlling terminal (stdin, stdout,
    stderr), writing each answer after a prompt ending in ': ' appears. Returns
    (exit code, everything it wrote to the terminal)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out, answers = b"", list(answers)
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if answers and out.rstrip(b" ").endswith(b":"):
                os.write(fd, answers.pop(0))
                out += b"<answered>"
    if time.time() >= deadline:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


class TestTerminal(Ctl):
    def test_password_prompted_twice(self):
        self.ok("tenant", "add", "example.com")
        rc, out = run_on_terminal([CTL, "user", "add", "alice@example.com"], self.env,
                                  [b"s3cret\n", b"s3cret\n"])
        self.assertEqual(rc, 0, out)
        self.assertIn(b"Password:", out)
        self.assertIn(b"Retype password:", out)
        self.assertNotIn(b"s3cret", out)  # not echoed
        self.assertEqual(self.js("user", "show", "alice@example.com")["address"],
                         "alice@example.com")
        rc, out = run_on_terminal([CTL, "user", "add", "bob@example.com"], self.env,
                                  [b"one\n", b"two\n"])
        self.assertEqual(rc, 1, out)
        self.assertIn(b"do not match", out)
        self.fails(1, "user", "show", "bob@example.com", says="not found")
        rc, out = run_on_terminal([CTL, "user", "passwd", "alice@example.com"], self.env,
                                  [b"n3w\n", b"n3w\n"])
        self.assertEqual(rc, 0, out)

    def test_import_progress_on_terminal(self):
        self.ok("tenant", "add", "example.com")
        self.ok("user", "add", "alice@example.com", "--password-hash", HASH)
        with open(self.path("m.mbox"), "wb") as f:
            f.write(mbox_file([(b"Subject: %d\n\nx\n" % i, "") for i in range(250)]))
        rc, out = run_on_terminal([CTL, "import", "alice@example.com", "mbox",
                                   self.path("m.mbox")], self.env, [])
        self.assertEqual(rc, 0, out)
        self.assertIn(b"importing: 100/250", out)
        self.assertIn(b"importing: 250/250 messages", out)
        rc, out = run_on_terminal([CTL, "export", "alice@example.com", "maildir",
                                   self.path("md")], self.env, [])
        self.assertEqual(rc, 0, out)
        self.assertIn(b"exporting: 200 messages", out)
        self.assertIn(b"exporting: 250 messages\r\n", out)


class TestAlias(Ctl):
    def test_alias_and_catch_all(self):
        self.setup_users()
        self.ok("alias", "add", "team@example.com", "alice@example.com,bob@example.com")
        self.ok("alias", "add", "team@example.com", "bob@example.com", "ext@remote.org")
        self.ok("alias", "add", "@example.com", "bob@example.com")
        al = {a["address"]: a for a in self.js("alias", "list")}
        self.assertEqual(sorted(al["team@example.com"]["targets"]),
                         ["alice@example.com", "bob@example.com", "ext@remote.org"])
        self.assertTrue(al["@example.com"]["catch_all"])
        self.assertEqual(len(self.js("alias", "list", "example.com")), 2)
        self.deliver("team@example.com")
        self.deliver("whoever@example.com")
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 1)
        self.assertEqual(self.mailbox("bob@example.com", "INBOX")["messages"], 2)
        self.assertIn("team@example.com", self.ok("alias", "list"))
        self.ok("alias", "del", "@example.com")
        self.deliver("whoever@example.com", code=67)
        self.fails(1, "alias", "del", "@example.com", says="not found")
        self.fails(1, "alias", "add", "x@nowhere.org", "a@example.com", says="x@nowhere.org")
        self.fails(1, "alias", "add", "x@example.com", "not-an-address", says="'not-an-address'")
        self.fails(1, "alias", "add", "noat", "a@example.com", says="'noat'")
        self.fails(2, "alias", "add", "x@example.com")
        self.fails(1, "alias", "list", "nope.com", says="nope.com")


class TestQuota(Ctl):
    def test_show_set_report(self):
        self.setup_users()
        self.deliver("alice@example.com", b"Subject: q\n\n" + b"x" * 900 + b"\n")
        q = self.js("quota", "show", "alice@example.com")
        size = q["used_bytes"]
        self.assertGreater(size, 900)
        self.assertEqual((q["messages"], q["quota_bytes"]), (1, 0))
        self.ok("quota", "set", "alice@example.com", str(size * 100 // 85), "--messages", "10")
        q = self.js("quota", "show", "alice@example.com")
        self.assertEqual((q["quota_bytes"], q["max_messages"]), (size * 100 // 85, 10))
        self.assertIn(q["percent"], (84, 85))
        self.ok("quota", "set", "example.com", "1M")
        self.assertEqual(self.js("quota", "show", "example.com")["quota_bytes"], 1 << 20)
        self.fails(2, "quota", "set", "example.com", "1M", "--messages", "5", says="users only")
        self.fails(2, "quota", "set", "example.com", "much")
        self.fails(1, "quota", "show", "zed@example.com", says="not found")
        self.fails(1, "quota", "show", "nope.com", says="tenant 'nope.com' not found")
        rep = self.js("quota", "report")
        self.assertEqual([(r["user"], r["level"]) for r in rep], [("alice@example.com", 80)])
        self.ok("quota", "set", "bob@example.com", "1K")
        self.deliver("bob@example.com", b"Subject: q\n\n" + b"x" * 900 + b"\n")
        self.ok("quota", "set", "bob@example.com", str(size * 100 // 95))
        rep = {r["user"]: r for r in self.js("quota", "report", "example.com")}
        self.assertEqual(rep["bob@example.com"]["level"], 90)
        r = self.run_ctl("quota", "set", "alice@example.com", "100")
        self.assertEqual(r.returncode, 0)
        self.assertIn("below its current usage", r.stderr.decode())
        rep = {r["user"]: r for r in self.js("quota", "report")}
        self.assertEqual(rep["alice@example.com"]["level"], 100)
        self.assertIn("alice@example.com", self.ok("quota", "report"))
        self.fails(1, "quota", "report", "nope.com", says="nope.com")


class TestMailbox(Ctl):
    def test_create_rename_delete(self):
        self.setup_users()
        self.ok("mailbox", "create", "alice@example.com", "Lists/foo")
        self.ok("mailbox", "create", "alice@example.com", "Sent", "--special-use", "\\Sent")
        mbs = {m["name"]: m for m in self.js("mailbox", "list", "alice@example.com")}
        self.assertEqual(sorted(mbs), ["INBOX", "Lists", "Lists/foo", "Sent"])
        self.assertEqual(mbs["Sent"]["special_use"], "\\Sent")
        self.fails(1, "mailbox", "create", "alice@example.com", "Sent", says="already exists")
        self.fails(2, "mailbox", "create", "alice@example.com", "X", "--special-use", "bin")
        self.ok("mailbox", "rename", "alice@example.com", "Lists", "Groups")
        names = [m["name"] for m in self.js("mailbox", "list", "alice@example.com")]
        self.assertEqual(sorted(names), ["Groups", "Groups/foo", "INBOX", "Sent"])
        self.fails(1, "mailbox", "rename", "alice@example.com", "Nope", "X", says="'Nope'")
        self.fails(1, "mailbox", "rename", "alice@example.com", "Groups", "Sent", says="'Sent'")
        self.ok("mailbox", "delete", "alice@example.com", "Groups/foo")
        self.fails(1, "mailbox", "delete", "alice@example.com", "INBOX", says="cannot be deleted")
        self.fails(1, "mailbox", "delete", "alice@example.com", "Groups/foo", says="not found")
        self.fails(1, "mailbox", "list", "zed@example.com", says="user 'zed@example.com' not found")
        self.fails(1, "mailbox", "create", "zed@example.com", "X", says="user 'zed@example.com'")
        out = self.ok("mailbox", "list", "alice@example.com")
        self.assertIn("\\Sent", out)

    def test_expunge(self):
        self.setup_users()
        # dated messages through import: two old (one seen), one new
        old = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(1600000000))
        new = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(int(time.time())))
        mbox = ("From x %s flags=S\nSubject: 1\n\na\n\nFrom x %s\nSubject: 2\n\nb\n\n"
                "From x %s flags=ST\nSubject: 3\n\nc\n\n" % (old, old, new)).encode()
        with open(self.path("in.mbox"), "wb") as f:
            f.write(mbox)
        self.ok("import", "alice@example.com", "mbox", self.path("in.mbox"))
        # default: the \Deleted ones
        self.assertEqual(self.js("mailbox", "expunge", "alice@example.com", "INBOX"),
                         {"expunged": 1})
        self.assertEqual(self.js("mailbox", "expunge", "alice@example.com", "INBOX", "--before",
                                 "2021-01-01", "--seen"), {"expunged": 1})
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 1)
        self.assertIn("1 message expunged",
                      self.ok("mailbox", "expunge", "alice@example.com", "INBOX", "--before", "1d"))
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 0)
        self.fails(1, "mailbox", "expunge", "alice@example.com", "Nope", says="'Nope'")
        self.ok("check")


class TestDeliver(Ctl):
    def test_deliver_exit_codes(self):
        self.setup_users()
        self.deliver("alice@example.com", b"Subject: one\n\nbody\n")
        self.deliver("alice+news@example.com", b"Subject: tagged\n\nbody\n", "--flags",
                     "\\Seen,$Label1")
        inbox = self.mailbox("alice@example.com", "INBOX")
        self.assertEqual((inbox["messages"], inbox["unseen"]), (2, 1))
        self.ok("mailbox", "create", "alice@example.com", "Lists")
        self.deliver("alice@example.com", b"Subject: l\n\nx\n", "--mailbox", "Lists")
        self.assertEqual(self.mailbox("alice@example.com", "Lists")["messages"], 1)
        r = self.deliver("alice@example.com", b"Subject: l\n\nx\n", "--mailbox", "Nope")
        self.assertIn("INBOX", r.stderr.decode())
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 3)
        # unknown user, unknown domain: 67
        self.deliver("zed@example.com", code=67)
        self.deliver("zed@nowhere.org", code=67)
        # over quota: 73, nothing stored
        self.ok("quota", "set", "bob@example.com", "100")
        self.deliver("bob@example.com", b"Subject: big\n\n" + b"x" * 200 + b"\n", code=73)
        self.assertEqual(self.mailbox("bob@example.com", "INBOX")["messages"], 0)
        # suspended: 75 (the MTA retries)
        self.ok("user", "set", "alice@example.com", "--suspend")
        self.deliver("alice@example.com", code=75)
        self.ok("user", "set", "alice@example.com", "--resume")
        self.ok("tenant", "set", "example.com", "--suspend")
        self.deliver("alice@example.com", code=75)
        self.ok("tenant", "set", "example.com", "--resume")
        # empty message, bad flags
        self.deliver("alice@example.com", b"", code=65)
        self.deliver("alice@example.com", b"x\n", "--flags", "\\Bogus", code=64)
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 3)
        self.ok("check")


    def test_deliver_alias_partial_quota_and_fanout_limit(self):
        self.setup_users()
        self.ok("alias", "add", "team@example.com", "alice@example.com,bob@example.com")
        self.ok("quota", "set", "bob@example.com", "10")
        r = self.deliver("team@example.com")
        self.assertIn("1 of 2 recipients", r.stderr.decode())
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 1)
        self.assertEqual(self.mailbox("bob@example.com", "INBOX")["messages"], 0)
        targets = []
        for i in range(65):
            self.ok("user", "add", "u%d@example.com" % i, "--password-hash", HASH)
            targets.append("u%d@example.com" % i)
        self.ok("alias", "add", "all@example.com", ",".join(targets))
        r = self.deliver("all@example.com", code=73)
        self.assertIn("more than 64 users", r.stderr.decode())
        self.assertEqual(self.js("quota", "show", "u0@example.com")["messages"], 0)


class TestImportExport(Ctl):
    def test_mbox_round_trip(self):
        self.setup_users()
        src = mbox_file([(MSG_QUOTED, "S"), (MSG_NO_NL, "FS"), (MSG_CRLF, "")])
        with open(self.path("in.mbox"), "wb") as f:
            f.write(src)
        self.assertEqual(self.js("import", "alice@example.com", "mbox", self.path("in.mbox")),
                         {"imported": 3})
        inbox = self.mailbox("alice@example.com", "INBOX")
        self.assertEqual((inbox["messages"], inbox["unseen"]), (3, 1))
        self.ok("export", "alice@example.com", "mbox", self.path("out.mbox"))
        with open(self.path("out.mbox"), "rb") as f:
            out = f.read()
        # byte for byte: same messages, quoting, flags and internal dates
        self.assertEqual(out, src)
        self.assertIn(b"\n>From here on", out)
        self.assertIn(b"\n>>From already quoted", out)
        self.assertIn(b"the last line\nFrom MAILER-DAEMON", out)
        # import the export elsewhere and export again: identical
        self.ok("import", "bob@example.com", "mbox", self.path("out.mbox"), "--mailbox", "Old")
        self.ok("export", "bob@example.com", "--mailbox", "Old", "mbox", self.path("again.mbox"))
        with open(self.path("again.mbox"), "rb") as f:
            self.assertEqual(f.read(), src)
        # stdout, and never overwrite
        self.assertEqual(self.run_ctl("export", "alice@example.com", "mbox", "-").stdout, src)
        self.fails(1, "export", "alice@example.com", "mbox", self.path("out.mbox"), says="exists")
        self.fails(1, "export", "alice@example.com", "--mailbox", "Nope", "mbox",
                   self.path("x.mbox"), says="'Nope'")
        self.fails(1, "export", "zed@example.com", "mbox", self.path("x.mbox"), says="zed")
        self.assertFalse(os.path.exists(self.path("x.mbox")))

    def test_foreign_mbox_status_headers(self):
        self.setup_users()
        with open(self.path("f.mbox"), "wb") as f:
            f.write(b"From someone@x Mon Jan  1 10:00:00 2024\nStatus: RO\nX-Status: F\n"
                    b"Subject: read\n\nx\n\nFrom someone@x Mon Jan  1 11:00:00 2024\n"
                    b"Status: O\nSubject: unread\n\ny\n")
        self.ok("import", "alice@example.com", "mbox", self.path("f.mbox"))
        inbox = self.mailbox("alice@example.com", "INBOX")
        self.assertEqual((inbox["messages"], inbox["unseen"]), (2, 1))
        out = self.run_ctl("export", "alice@example.com", "mbox", "-").stdout
        self.assertIn(b"From MAILER-DAEMON Mon Jan  1 10:00:00 2024 flags=FS\n", out)

    def test_corrupt_mbox_changes_nothing(self):
        self.setup_users()
        with open(self.path("bad.mbox"), "wb") as f:
            f.write(b"Subject: not an mbox\n\nbody\n")
        self.fails(1, "import", "alice@example.com", "mbox", self.path("bad.mbox"),
                   says="bad.mbox")
        self.fails(1, "import", "alice@example.com", "mbox", self.path("missing.mbox"),
                   says="missing.mbox")
        self.fails(1, "import", "zed@example.com", "mbox", self.path("bad.mbox"),
                   says="'zed@example.com'")
        # quota: all or nothing
        with open(self.path("ok.mbox"), "wb") as f:
            f.write(mbox_file([(b"Subject: %d\n\n" % i + b"x" * 500 + b"\n", "") for i in range(5)]))
        self.ok("quota", "set", "alice@example.com", "2K")
        self.fails(1, "import", "alice@example.com", "mbox", self.path("ok.mbox"),
                   says="nothing was imported")
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 0)
        self.ok("quota", "set", "alice@example.com", "unlimited")
        self.ok("import", "alice@example.com", "mbox", self.path("ok.mbox"), "--mailbox", "New")
        self.assertEqual(self.mailbox("alice@example.com", "New")["messages"], 5)

    def make_maildir(self, root):
        """A Dovecot-style Maildir++: INBOX, .Sent, .Lists.foo, flags and a keyword."""
        files = {
            "": [("1700000001.M1P1.host:2,S", b"Subject: inbox seen\n\none\n"),
                 ("1700000002.M2P1.host:2,", b"Subject: inbox new\n\ntwo"),
                 ("1700000003.M3P1.host:2,FSa", b"Subject: flagged kw\n\nthree\n")],
            ".Sent": [("1700000004.M4P1.host:2,S", b"Subject: sent\n\nfour\n")],
            ".Lists.foo": [("1700000005.M5P1.host:2,FS", b"Subject: list\n\nFrom five\n")],
        }
        for folder, msgs in files.items():
            d = os.path.join(root, folder) if folder else root
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(d, sub), exist_ok=True)
            for name, body in msgs:
                p = os.path.join(d, "cur", name)
                with open(p, "wb") as f:
                    f.write(body)
                t = int(name.split(".")[0])
                os.utime(p, (t, t))
        with open(os.path.join(root, "dovecot-keywords"), "w") as f:
            f.write("0 $Forwarded\n")
        # a message in new/ (no flags yet)
        p = os.path.join(root, "new", "1700000006.M6P1.host")
        with open(p, "wb") as f:
            f.write(b"Subject: just arrived\n\nsix\n")
        os.utime(p, (1700000006, 1700000006))
        return files

    @staticmethod
    def read_maildir(root):
        """{(folder, flags suffix, mtime): bytes} of a Maildir tree."""
        out = {}
        for dirpath, dirs, names in os.walk(root):
            if os.path.basename(dirpath) not in ("cur", "new"):
                continue
            folder = os.path.relpath(os.path.dirname(dirpath), root)
            for n in names:
                p = os.path.join(dirpath, n)
                with open(p, "rb") as f:
                    data = f.read()
                flags = n.split(":2,")[1] if ":2," in n else ""
                out[(folder, flags, int(os.stat(p).st_mtime), data)] = True
        return out

    def test_maildir_round_trip(self):
        self.setup_users()
        src = self.path("Maildir")
        self.make_maildir(src)
        self.assertEqual(self.js("import", "alice@example.com", "maildir", src), {"imported": 6})
        mbs = {m["name"]: m for m in self.js("mailbox", "list", "alice@example.com")}
        self.assertEqual(sorted(mbs), ["INBOX", "Lists", "Lists/foo", "Sent"])
        self.assertEqual((mbs["INBOX"]["messages"], mbs["INBOX"]["unseen"]), (4, 2))
        self.assertEqual((mbs["Lists/foo"]["messages"], mbs["Lists/foo"]["unseen"]), (1, 0))
        out = self.path("Export")
        self.ok("export", "alice@example.com", "maildir", out)
        for d in (".Sent", ".Lists.foo"):
            self.assertTrue(os.path.isdir(os.path.join(out, d, "cur")))
        a = self.read_maildir(src)
        b = self.read_maildir(out)
        norm = lambda m: sorted((f if f != "." else "", fl, t, d) for (f, fl, t, d) in m)
        self.assertEqual(norm(b), norm(a))
        with open(os.path.join(out, "dovecot-keywords")) as f:
            self.assertEqual(f.read(), "0 $Forwarded\n")
        # and back: byte for byte again, through a second user
        self.ok("import", "bob@example.com", "maildir", out)
        out2 = self.path("Export2")
        self.ok("export", "bob@example.com", "maildir", out2)
        self.assertEqual(norm(self.read_maildir(out2)), norm(a))
        # the exported order (dovecot-uidlist) is kept
        self.fails(1, "export", "alice@example.com", "maildir", out, says="not an empty directory")
        self.fails(1, "import", "alice@example.com", "maildir", self.path("nope"), says="nope")
        # --mailbox: the tree goes under NAME
        self.ok("import", "bob@example.com", "maildir", src, "--mailbox", "Archive")
        names = [m["name"] for m in self.js("mailbox", "list", "bob@example.com")]
        self.assertIn("Archive/Lists/foo", names)
        self.assertIn("Archive/Sent", names)
        one = self.path("One")
        self.ok("export", "bob@example.com", "--mailbox", "Archive/Sent", "maildir", one)
        self.assertEqual(len(os.listdir(os.path.join(one, "cur"))), 1)
        self.ok("check")

    def test_maildir_keeps_uid_order(self):
        # internal dates that go backwards: the order comes from dovecot-uidlist, not the names
        self.setup_users()
        src = b""
        for i in range(4):
            date = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(1700000000 - 86400 * i))
            src += ("From MAILER-DAEMON %s\nSubject: %d\n\nbody %d\n\n" % (date, i, i)).encode()
        with open(self.path("rev.mbox"), "wb") as f:
            f.write(src)
        self.ok("import", "alice@example.com", "mbox", self.path("rev.mbox"))
        self.ok("export", "alice@example.com", "maildir", self.path("md"))
        with open(self.path("md", "dovecot-uidlist")) as f:
            self.assertEqual(len(f.read().splitlines()), 5)
        self.ok("import", "bob@example.com", "maildir", self.path("md"))
        self.assertEqual(self.run_ctl("export", "bob@example.com", "mbox", "-").stdout, src)

    def test_mbox_progress_is_quiet_without_terminal(self):
        self.setup_users()
        with open(self.path("m.mbox"), "wb") as f:
            f.write(mbox_file([(b"Subject: %d\n\nx\n" % i, "") for i in range(250)]))
        r = self.run_ctl("import", "alice@example.com", "mbox", self.path("m.mbox"))
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr, b"")
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 250)


class TestBackupRestoreCheck(Ctl):
    def test_backup_while_writing(self):
        self.setup_users()
        n = 60
        script = ("i=0; while [ $i -lt %d ]; do printf 'Subject: %%s\\n\\nbody\\n' $i | "
                  "%s deliver alice@example.com || exit 1; i=$((i+1)); done" % (n, CTL))
        writer = subprocess.Popen(["sh", "-c", script], env=self.env)
        try:
            time.sleep(0.2)
            backups = []
            for i in range(3):
                bk = self.path("bk%d" % i)
                self.ok("backup", bk)
                backups.append(bk)
            self.assertEqual(writer.wait(timeout=120), 0)
        finally:
            if writer.poll() is None:
                writer.kill()
        counts = []
        for bk in backups:
            self.assertTrue(os.path.exists(os.path.join(bk, "store", "data.mdb")))
            self.assertIn("consistent", self.ok("-d", bk, "check"))
            s = json.loads(self.ok("-d", bk, "--json", "stats"))
            self.assertTrue(0 <= s["messages"] <= n)
            counts.append(s["messages"])
        self.assertEqual(counts, sorted(counts))
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], n)
        self.fails(1, "backup", backups[0], says="not an empty directory")

    def test_restore(self):
        self.setup_users()
        self.deliver("alice@example.com")
        bk = self.path("bk")
        self.assertEqual(self.js("backup", bk)["backup"], bk)
        self.deliver("alice@example.com")
        self.ok("user", "del", "bob@example.com")
        # refused while petreld holds the data dir
        with open(os.path.join(self.data, "petreld.lock"), "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            self.fails(1, "restore", bk, says="petreld is running")
            self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 2)
        self.ok("restore", bk)
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 1)
        self.assertEqual(len(self.js("user", "list")), 2)
        self.ok("check")
        # not a backup
        os.makedirs(self.path("empty"))
        self.fails(1, "restore", self.path("empty"), says="not a petrelctl backup")
        self.fails(2, "restore")

    def test_restore_refused_while_petreld_runs(self):
        # the real daemon (with the example plugin on a free loopback port) holds the lock
        self.setup_users()
        bk = self.path("bk")
        self.ok("backup", bk)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        conf = self.path("petrel.conf")
        with open(conf, "w") as f:
            f.write("data = %s\nplugin_dir = %s\n[listener ex]\nplugin = example\n"
                    "address = 127.0.0.1:%d\n" % (self.data, os.path.join(BUILD, "plugins"), port))
        log = open(self.path("petreld.log"), "wb")
        d = subprocess.Popen([PETRELD, "-c", conf, "--foreground"], stdout=log, stderr=log)
        try:
            deadline = time.time() + 20
            while time.time() < deadline and d.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            self.assertIsNone(d.poll(), "petreld exited: see %s" % self.path("petreld.log"))
            self.fails(1, "restore", bk, says="petreld is running")
            self.deliver("alice@example.com")  # petrelctl itself works beside petreld
        finally:
            d.terminate()
            d.wait(timeout=30)
            log.close()
        self.ok("restore", bk)
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 0)

    def break_mailbox_counter(self, messages):
        """Sets the first mailbox record's message count (schema.h: T_MBOX "mbox",
        fixed part uidvalidity be32, uidnext be32, highestmodseq be64, messages be32 ...)
        with lmdb-utils: mdb_dump, edit the hex value, mdb_load."""
        env = os.path.join(self.data, "store")
        dump = subprocess.run(["mdb_dump", "-s", "mbox", env], stdout=subprocess.PIPE,
                              check=True).stdout.decode().splitlines()
        start = dump.index("HEADER=END") + 1
        val = dump[start + 1].strip()
        val = val[:32] + "%08x" % messages + val[40:]
        dump[start + 1] = " " + val
        # one record back in (mdb_load overwrites); db_pagesize is not a load keyword
        lines = [l for l in dump[:start + 2] if not l.startswith("db_pagesize=")] + ["DATA=END"]
        subprocess.run(["mdb_load", "-s", "mbox", env], input=("\n".join(lines) + "\n").encode(),
                       check=True)

    def test_check_and_repair(self):
        self.setup_users()
        for i in range(3):
            self.deliver("alice@example.com")
        self.assertIn("consistent", self.ok("check"))
        self.assertEqual(self.js("check")["found"], 0)
        self.break_mailbox_counter(999)
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 999)
        r = self.run_ctl("check")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--repair", r.stdout.decode())
        r = self.run_ctl("--json", "check")
        self.assertEqual(r.returncode, 1)
        rep = json.loads(r.stdout)
        self.assertGreaterEqual(rep["found"], 1)
        self.assertTrue(rep["problems"])
        rep = self.js("check", "--repair")
        self.assertGreaterEqual(rep["found"], 1)
        self.assertEqual(rep["remaining"], 0)
        self.assertEqual(self.mailbox("alice@example.com", "INBOX")["messages"], 3)
        self.assertIn("consistent", self.ok("check"))

    def test_stats(self):
        self.setup_users()
        self.deliver("alice@example.com")
        s = self.js("stats")
        for k in ("tenants", "users", "mailboxes", "messages", "blobs", "message_bytes",
                  "file_bytes", "map_size", "used_pages", "free_pages", "readers", "max_readers"):
            self.assertIn(k, s)
        self.assertEqual((s["tenants"], s["users"], s["messages"]), (1, 2, 1))
        self.assertGreater(s["file_bytes"], 0)
        self.assertIn("tenants:", self.ok("stats"))


if __name__ == "__main__":
    if not os.access(CTL, os.X_OK):
        sys.exit("petrelctl not built at %s" % CTL)
    unittest.main(verbosity=2)
