"""petreld end to end with the example plugin (and the frozen-ABI plugin):
listeners, STARTTLS and implicit TLS with real TLS clients, logins, config
checking, signals, limits and the privilege drop."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import (PETRELD, LineClient, Petreld, free_port, make_cert,  # noqa: E402
                            wait_port)

EXAMPLE = [("plain", "example", "none", {"greeting": "hello there"}),
           ("starttls", "example", "starttls", None),
           ("tls", "example", "implicit", None)]


def tls_client_ctx(**kw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


class DaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld(EXAMPLE + [("limited", "example", "none", {"max_connections": "2"})])
        cls.d.start()
        cls.d.add_user("alice@example.test", "s3cret pass")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def client(self, name):
        c = LineClient(self.d.ports[name])
        self.addCleanup(c.close)
        return c

    def test_greeting_echo_time_quit(self):
        c = self.client("plain")
        self.assertEqual(c.line(), "+OK hello there on mail.test")
        self.assertEqual(c.cmd("ECHO héllo wörld"), "+OK héllo wörld")
        self.assertRegex(c.cmd("time"), r"^\+OK \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(c.cmd("INFO"), "+OK tls=none peer=127.0.0.1")
        self.assertEqual(c.cmd("FROB"), "-ERR unknown command")
        self.assertEqual(c.cmd("QUIT"), "+OK bye")
        self.assertTrue(c.closed())

    def test_pipelined_commands_in_one_packet(self):
        c = self.client("plain")
        c.line()
        c.send("ECHO 1\r\nECHO 2\nECHO 3\r\n")
        self.assertEqual([c.line(), c.line(), c.line()], ["+OK 1", "+OK 2", "+OK 3"])

    def test_overlong_line_gets_an_error_and_session_goes_on(self):
        c = self.client("plain")
        c.line()
        c.send("ECHO " + "x" * 5000 + "\r\n")
        self.assertEqual(c.line(), "-ERR line too long")
        self.assertEqual(c.cmd("ECHO ok"), "+OK ok")

    def test_login_over_loopback_and_store_read(self):
        c = self.client("plain")
        c.line()
        self.assertEqual(c.cmd("WHOAMI"), "-ERR not logged in")
        self.assertEqual(c.cmd("LOGIN alice@example.test wrong"), "-ERR login failed")
        # a wrong password is answered later and later (throttle), but answered
        self.assertEqual(c.cmd("LOGIN ALICE@Example.TEST s3cret pass"),
                         "+OK logged in as alice@example.test")
        self.assertEqual(c.cmd("WHOAMI"), "+OK alice@example.test")
        m = re.match(r"^\+OK (\d+) messages in INBOX$", c.cmd("COUNT"))
        self.assertIsNotNone(m)
        self.d.ctl("deliver", "alice@example.test",
                   input="From: a@b.test\r\nSubject: hi\r\n\r\nbody\r\n")
        self.assertEqual(c.cmd("COUNT"), f"+OK {int(m.group(1)) + 1} messages in INBOX")

    def login(self, name="plain"):
        c = self.client(name)
        c.line()
        self.assertEqual(c.cmd("LOGIN alice@example.test s3cret pass"),
                         "+OK logged in as alice@example.test")
        return c

    def test_append_is_answered_after_commit_and_wakes_watchers(self):
        watcher, writer = self.login(), self.login()
        self.assertEqual(watcher.cmd("WATCH"), "+OK watching INBOX")
        before = int(writer.cmd("COUNT").split()[1])
        t0 = time.time()
        # pipelined: COUNT must wait for the APPEND's commit, and then see it
        writer.send("APPEND hello store\r\nCOUNT\r\n")
        self.assertRegex(writer.line(), r"^\+OK appended uid \d+$")
        self.assertEqual(writer.line(), f"+OK {before + 1} messages in INBOX")
        self.assertEqual(watcher.line(), "* INBOX changed")
        self.assertLess(time.time() - t0, 1.0)  # in-process: at once
        r = self.d.ctl("--json", "mailbox", "list", "alice@example.test")
        self.assertIn('"INBOX"', r.stdout)

    def test_change_by_another_process_wakes_watchers_within_2s(self):
        watcher = self.login()
        self.assertEqual(watcher.cmd("WATCH"), "+OK watching INBOX")
        t0 = time.time()
        self.d.ctl("deliver", "alice@example.test", input="Subject: x\r\n\r\ny\r\n")
        watcher.sock.settimeout(3)
        self.assertEqual(watcher.line(), "* INBOX changed")
        self.assertLess(time.time() - t0, 2.5)

    def test_passwords_never_reach_the_log(self):
        c = self.client("plain")
        c.line()
        c.cmd("LOGIN alice@example.test Zq9-never-logged")
        c.cmd("LOGIN alice@example.test s3cret pass")
        log = self.d.read_log()
        self.assertIn("event=login", log)
        self.assertNotIn("Zq9-never-logged", log)
        self.assertNotIn("s3cret pass", log)

    def test_unknown_user_fails_like_a_wrong_password(self):
        c = self.client("plain")
        c.line()
        self.assertEqual(c.cmd("LOGIN nobody@example.test x"), "-ERR login failed")

    def test_starttls_with_python_ssl(self):
        c = self.client("starttls")
        self.assertTrue(c.line().startswith("+OK"))
        self.assertEqual(c.cmd("INFO"), "+OK tls=none peer=127.0.0.1")
        self.assertEqual(c.cmd("STARTTLS"), "+OK begin TLS")
        c.sock = tls_client_ctx().wrap_socket(c.sock)
        self.assertIn(c.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(c.cmd("INFO"), f"+OK tls={c.sock.version()} peer=127.0.0.1")
        self.assertEqual(c.cmd("STARTTLS"), "-ERR TLS not available")

    def test_starttls_discards_injected_commands(self):
        c = self.client("starttls")
        c.line()
        # the injected ECHO rides in the same packet as STARTTLS, in plaintext
        c.send("STARTTLS\r\nECHO injected\r\n")
        self.assertEqual(c.line(), "+OK begin TLS")
        self.assertEqual(c.buf, b"")
        c.sock = tls_client_ctx().wrap_socket(c.sock)
        self.assertEqual(c.cmd("ECHO after"), "+OK after")

    def test_implicit_tls_with_python_ssl(self):
        raw = socket.create_connection(("127.0.0.1", self.d.ports["tls"]), timeout=10)
        s = tls_client_ctx().wrap_socket(raw)
        c = LineClient.__new__(LineClient)
        c.sock, c.buf = s, b""
        self.addCleanup(s.close)
        self.assertTrue(c.line().startswith("+OK petrel-example ready"))
        self.assertEqual(c.cmd("INFO"), f"+OK tls={s.version()} peer=127.0.0.1")
        cert = s.getpeercert(binary_form=True)
        self.assertTrue(cert)

    def test_implicit_tls_with_openssl_s_client(self):
        r = subprocess.run(["openssl", "s_client", "-connect",
                            f"127.0.0.1:{self.d.ports['tls']}", "-quiet", "-ign_eof"],
                           input="ECHO via s_client\nQUIT\n", capture_output=True, text=True,
                           timeout=20)
        self.assertIn("+OK via s_client", r.stdout)
        self.assertIn("+OK bye", r.stdout)

    def test_starttls_with_openssl_s_client_tls12(self):
        # s_client has no STARTTLS dialect for this toy protocol: do the plaintext
        # step by hand, then hand the socket to python ssl pinned to TLS 1.2
        c = self.client("starttls")
        c.line()
        self.assertEqual(c.cmd("STARTTLS"), "+OK begin TLS")
        ctx = tls_client_ctx(maximum_version=ssl.TLSVersion.TLSv1_2)
        c.sock = ctx.wrap_socket(c.sock)
        self.assertEqual(c.sock.version(), "TLSv1.2")
        self.assertEqual(c.cmd("ECHO v12"), "+OK v12")

    def test_tls_1_1_is_refused(self):
        r = subprocess.run(["openssl", "s_client", "-connect",
                            f"127.0.0.1:{self.d.ports['tls']}", "-tls1_1"],
                           input="", capture_output=True, text=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn("+OK", r.stdout)

    def test_connection_limit(self):
        a, b = self.client("limited"), self.client("limited")
        a.line(), b.line()
        c = self.client("limited")
        self.assertEqual(c.line(), "-ERR too many connections, try later")
        self.assertTrue(c.closed())
        a.cmd("QUIT")
        self.assertTrue(a.closed())
        time.sleep(0.3)
        d = self.client("limited")
        self.assertTrue(d.line().startswith("+OK"))


class LoginRulesTest(unittest.TestCase):
    def test_plaintext_refused_without_tls_when_configured(self):
        with Petreld(EXAMPLE, extra_global="auth_plaintext = never") as d:
            d.add_user("bob@example.test", "pw-bob")
            c = LineClient(d.ports["starttls"])
            c.line()
            self.assertEqual(c.cmd("LOGIN bob@example.test pw-bob"), "-ERR use STARTTLS first")
            self.assertEqual(c.cmd("STARTTLS"), "+OK begin TLS")
            c.sock = tls_client_ctx().wrap_socket(c.sock)
            self.assertEqual(c.cmd("LOGIN bob@example.test pw-bob"),
                             "+OK logged in as bob@example.test")
            c.close()

    def test_imported_sha512_crypt_hash_is_rehashed_to_scrypt(self):
        with Petreld(EXAMPLE) as d:
            d.ctl("tenant", "add", "old.test")
            h = subprocess.run(["openssl", "passwd", "-6", "-salt", "saltsalt", "legacy pw"],
                               capture_output=True, text=True, check=True).stdout.strip()
            d.ctl("user", "add", "carol@old.test", "--password-hash", "{SHA512-CRYPT}" + h)
            for _ in range(2):  # the second login verifies the new scrypt hash
                c = LineClient(d.ports["plain"])
                c.line()
                self.assertEqual(c.cmd("LOGIN carol@old.test legacy pw"),
                                 "+OK logged in as carol@old.test")
                c.close()
                deadline = time.time() + 5
                while "event=password_rehashed" not in d.read_log() and time.time() < deadline:
                    time.sleep(0.05)
            self.assertEqual(d.read_log().count("event=password_rehashed"), 1)
            c = LineClient(d.ports["plain"])
            c.line()
            self.assertEqual(c.cmd("LOGIN carol@old.test wrong"), "-ERR login failed")
            c.close()

    def test_suspended_tenant_cannot_log_in(self):
        with Petreld([("p", "example", "none", None)]) as d:
            d.add_user("dan@example.test", "pw-dan", protocols="smtp")
            c = LineClient(d.ports["p"])
            c.line()
            # the example plugin logs in with PETREL_PROTO_NONE: no tenant protocol applies
            self.assertEqual(c.cmd("LOGIN dan@example.test pw-dan"),
                             "+OK logged in as dan@example.test")
            c.close()
            d.ctl("tenant", "set", "example.test", "--suspend")
            c = LineClient(d.ports["p"])
            c.line()
            self.assertEqual(c.cmd("LOGIN dan@example.test pw-dan"), "-ERR login failed")
            c.close()


class WatchTest(unittest.TestCase):
    def test_watchers_are_woken_by_their_own_users_changes_only(self):
        """Commits of one petreld wake only the watchers of the users they changed
        (users set up before the start: no other process writes meanwhile)."""
        d = Petreld([("p", "example", "none", None)])
        users = [f"u{k}@example.test" for k in range(24)]
        for u in users:
            d.add_user(u, "pw" + u[1:u.index("@")])
        with d:
            def login(u):
                c = LineClient(d.ports["p"])
                self.addCleanup(c.close)
                c.line()
                self.assertEqual(c.cmd(f"LOGIN {u} pw{u[1:u.index('@')]}"), f"+OK logged in as {u}")
                return c
            watchers = [login(u) for u in users[:12]]
            for w in watchers:
                self.assertEqual(w.cmd("WATCH"), "+OK watching INBOX")
            for u in users[12:]:  # other users' commits, through the same writer
                self.assertRegex(login(u).cmd("APPEND hello"), r"^\+OK appended uid \d+$")
            for w in watchers:
                self.assertEqual(w.cmd("ECHO quiet"), "+OK quiet")
            self.assertRegex(login(users[7]).cmd("APPEND for u7"), r"^\+OK appended uid \d+$")
            self.assertEqual(watchers[7].line(), "* INBOX changed")
            for k, w in enumerate(watchers):
                if k != 7:
                    self.assertEqual(w.cmd("ECHO still"), "+OK still")


class ThrottleBurstTest(unittest.TestCase):
    def test_a_burst_of_wrong_passwords_stops_costing_hashes_at_the_limit(self):
        """30 wrong-password logins for one account sent at once all pass the
        throttle when they are queued (nothing has failed yet). The pool asks
        again before hashing, so once the account's 10 failures are counted the
        rest are refused without a password check: at most the limit plus what
        was already being hashed fail as wrong passwords."""
        n = 30
        with Petreld([("p", "example", "none", None)],
                     extra_global="auth_scrypt_ln = 13\nmax_connections_per_ip = 100") as d:
            d.add_user("burst@example.test", "rightpass")
            clients = [LineClient(d.ports["p"], timeout=60) for _ in range(n)]
            try:
                for c in clients:
                    self.assertTrue(c.line().startswith("+OK"))
                for c in clients:
                    c.send("LOGIN burst@example.test wrong\r\n")
                answers = [c.line() for c in clients]
            finally:
                for c in clients:
                    c.close()
            failed = answers.count("-ERR login failed")
            later = answers.count("-ERR try again later")
            self.assertEqual(failed + later, n, answers)
            threads = os.cpu_count() or 1  # the login pool's size
            self.assertGreaterEqual(failed, 10)
            self.assertLessEqual(failed, 10 + threads, answers)
            log = d.read_log()
            self.assertIn("event=auth_throttle_block account=burst@example.test", log)
            # the right password is refused too now: the account is blocked
            c = LineClient(d.ports["p"])
            c.line()
            self.assertEqual(c.cmd("LOGIN burst@example.test rightpass"),
                             "-ERR try again later")
            c.close()


class ListenAddressTest(unittest.TestCase):
    def test_ipv6_and_dual_stack_listeners(self):
        d = Petreld([("v4", "example", "none", None)])
        v6, both = free_port(), free_port()
        with open(d.conf, "a") as f:
            f.write(f"\n[listener v6]\nplugin = example\naddress = [::1]:{v6}\n"
                    f"\n[listener both]\nplugin = example\naddress = *:{both}\n")
        try:
            d.start()
            wait_port(v6, "::1")
            for host, port in (("::1", v6), ("::1", both), ("127.0.0.1", both)):
                s = socket.create_connection((host, port), timeout=10)
                c = LineClient.__new__(LineClient)
                c.sock, c.buf = s, b""
                self.assertTrue(c.line().startswith("+OK"))
                peer = "::1" if ":" in host else "127.0.0.1"
                self.assertEqual(c.cmd("INFO"), f"+OK tls=none peer={peer}")
                c.close()
            # the IPv6-only listener takes no IPv4 client
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", v6), timeout=2)
        finally:
            d.cleanup()


class FrozenAbiTest(unittest.TestCase):
    def test_plugin_built_against_abi_1_0_serves(self):
        with Petreld([("old", "abi10", "none", {"motto": "stable forever"})]) as d:
            c = LineClient(d.ports["old"])
            self.assertEqual(c.line(), "+OK abi10 mail.test")
            self.assertEqual(c.cmd("PING"), "+OK PONG")
            self.assertEqual(c.cmd("CFG"), "+OK stable forever")
            self.assertEqual(c.cmd("PROBE write"), "+OK yes")
            self.assertEqual(c.cmd("PROBE frobnicate"), "+OK no")
            self.assertEqual(c.cmd("QUIT"), "+OK bye")
            c.close()
            self.assertIn("name=abi10", d.read_log())


class SignalTest(unittest.TestCase):
    def test_sigterm_says_goodbye_and_exits_zero(self):
        d = Petreld(EXAMPLE).start()
        try:
            c = LineClient(d.ports["plain"])
            c.line()
            d.signal(signal.SIGTERM)
            self.assertEqual(c.line(), "-ERR server shutting down, bye")
            self.assertTrue(c.closed())
            self.assertEqual(d.proc.wait(15), 0)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", d.ports["plain"]), timeout=2)
        finally:
            d.cleanup()

    def test_sighup_reloads_the_certificate(self):
        d = Petreld(EXAMPLE).start()
        try:
            def cn():
                raw = socket.create_connection(("127.0.0.1", d.ports["tls"]), timeout=10)
                s = tls_client_ctx().wrap_socket(raw)
                der = s.getpeercert(binary_form=True)
                s.close()
                pem = ssl.DER_cert_to_PEM_cert(der)
                r = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem,
                                   capture_output=True, text=True)
                return r.stdout.strip()
            self.assertIn("mail.test", cn())
            tmp = tempfile.mkdtemp()
            cert, key = make_cert(tmp, cn="renewed.test")
            shutil.copy(cert, d.cert)
            shutil.copy(key, d.key)
            shutil.rmtree(tmp)
            d.signal(signal.SIGHUP)
            deadline = time.time() + 10
            while "renewed.test" not in cn() and time.time() < deadline:
                time.sleep(0.1)
            self.assertIn("renewed.test", cn())
            self.assertIn("event=tls_reload ok=1", d.read_log())
        finally:
            d.cleanup()


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.cert, self.key = make_cert(self.tmp)

    def check(self, body):
        path = os.path.join(self.tmp, "p.conf")
        with open(path, "w") as f:
            f.write(body)
        r = subprocess.run([PETRELD, "-c", path, "--check-config"], capture_output=True,
                           text=True)
        return r.returncode, r.stdout + r.stderr, path

    def base(self, listener):
        return (f"data = {self.tmp}/data\ntls_cert = {self.cert}\ntls_key = {self.key}\n"
                f"[listener x]\nplugin = example\n{listener}")

    def test_valid(self):
        rc, out, _ = self.check(self.base("address = 127.0.0.1:2999\ntls = starttls\n"))
        self.assertEqual(rc, 0, out)
        self.assertIn("configuration OK", out)

    def test_unknown_key_names_file_and_line(self):
        rc, out, path = self.check(self.base("address = 127.0.0.1:2999\ntls_crt = x\n"))
        self.assertEqual(rc, 1)
        self.assertRegex(out, re.escape(path) + r":7: .*tls_crt")

    def test_plugin_key_unknown_to_the_plugin(self):
        rc, out, path = self.check(self.base("address = 127.0.0.1:2999\ncolour = blue\n"))
        self.assertEqual(rc, 1)
        self.assertIn("colour", out)
        self.assertIn(path + ":7:", out)

    def test_bad_address(self):
        rc, out, path = self.check(self.base("address = 1.2.3:99\n"))
        self.assertEqual(rc, 1)
        self.assertIn(path + ":6: bad address '1.2.3:99'", out)

    def test_missing_plugin(self):
        body = self.base("address = 127.0.0.1:2999\n").replace("plugin = example",
                                                               "plugin = nosuch")
        rc, out, _ = self.check(body)
        self.assertEqual(rc, 1)
        self.assertIn("nosuch.so", out)

    def test_unreadable_key_file(self):
        body = self.base("address = 127.0.0.1:2999\n").replace(self.key, self.tmp + "/nokey.pem")
        rc, out, path = self.check(body)
        self.assertEqual(rc, 1)
        self.assertIn("nokey.pem", out)
        self.assertIn(path + ":3:", out)

    def test_plugin_rejects_its_own_setting(self):
        rc, out, _ = self.check(self.base("address = 127.0.0.1:2999\ngreeting = " + "g" * 300 +
                                          "\n"))
        self.assertEqual(rc, 1)
        self.assertIn("greeting must be one line", out)

    def test_address_in_use_is_a_start_error(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        self.addCleanup(busy.close)
        port = busy.getsockname()[1]
        path = os.path.join(self.tmp, "busy.conf")
        with open(path, "w") as f:
            f.write(self.base(f"address = 127.0.0.1:{port}\n"))
        r = subprocess.run([PETRELD, "-c", path, "--foreground"], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("address in use", r.stderr)


class PrivilegeDropTest(unittest.TestCase):
    def test_drops_to_nobody_after_binding(self):
        d = Petreld([("p", "example", "none", None)], extra_global="user = nobody")
        os.chmod(d.tmp, 0o755)
        try:
            if os.geteuid() != 0:
                # not root: asking for another user is a clear start error
                r = subprocess.run([PETRELD, "-c", d.conf, "--foreground"],
                                   capture_output=True, text=True, timeout=20)
                self.assertEqual(r.returncode, 1)
                self.assertIn("nobody", r.stderr)
                return
            d.start()
            # the port listens from the bind on, before the drop; a greeting
            # comes only from the worker loops, which start after it
            c = LineClient(d.ports["p"])
            self.assertTrue(c.line().startswith("+OK"))
            c.close()
            with open(f"/proc/{d.proc.pid}/status") as f:
                status = f.read()
            uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
            import pwd
            nobody = str(pwd.getpwnam("nobody").pw_uid)
            self.assertEqual(set(uid), {nobody})
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
