"""Helpers for integration tests: a petreld on free loopback ports in a temp
data dir, driven from the test itself; petrelctl in the same data dir."""
import imaplib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("PETREL_BUILD_DIR", "build"))
SOURCE = os.path.abspath(os.environ.get("PETREL_SOURCE_DIR", "."))
PETRELD = os.path.join(BUILD, "petreld")
PETRELCTL = os.path.join(BUILD, "petrelctl")


def free_port():
    """A port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0):
    deadline = time.time() + timeout
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.time() < deadline:
        try:
            with socket.socket(fam) as s:
                s.settimeout(0.5)
                s.connect((host, port))
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port}")


class Petreld:
    """petreld with the given listeners: [(name, plugin, tls, {extra keys})].
    Ports are picked free; self.ports[name] tells which."""

    def __init__(self, listeners, extra_global="", data=None, cert=True):
        self.tmp = tempfile.mkdtemp(prefix="petrel-test-")
        self.data = data or os.path.join(self.tmp, "data")
        self.ports = {}
        self.log = os.path.join(self.tmp, "petreld.log")
        lines = [f"data = {self.data}", "hostname = mail.test", "workers = 2",
                 "auth_scrypt_ln = 10", f"log_file = {self.log}", "log_level = debug"]
        # a key of extra_global replaces the default above (not data or log_file:
        # ctl() and read_log() use those)
        given = {ln.split("=", 1)[0].strip() for ln in extra_global.splitlines() if "=" in ln}
        assert not given & {"data", "log_file"}, "pass data= to Petreld; log_file is fixed"
        lines = [ln for ln in lines if ln.split("=", 1)[0].strip() not in given]
        if cert:
            self.cert, self.key = make_cert(self.tmp)
            lines += [f"tls_cert = {self.cert}", f"tls_key = {self.key}"]
        lines.append(extra_global)
        for name, plugin, tls, extra in listeners:
            port = free_port()
            self.ports[name] = port
            lines += ["", f"[listener {name}]", f"plugin = {plugin}",
                      f"address = 127.0.0.1:{port}", f"tls = {tls}"]
            lines += [f"{k} = {v}" for k, v in (extra or {}).items()]
        self.conf = os.path.join(self.tmp, "petrel.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self, timeout=30.0):
        """Run petreld and wait until every listener accepts. free_port() can
        race with another process taking the port before petreld binds it: a
        listener that finds its port in use is moved to a new one (the clash
        is printed, not hidden). Any other failure raises with petreld's exit
        status, its stderr and its log; one that is still running after
        `timeout` also gets its threads' stacks (gdb), so a hang is
        diagnosable from the CI output."""
        for attempt in range(3):
            self.stderr_path = os.path.join(self.tmp, f"petreld.stderr.{attempt}")
            with open(self.stderr_path, "wb") as err:
                self.proc = subprocess.Popen([PETRELD, "-c", self.conf, "--foreground"],
                                             stdout=err, stderr=err)
            state = self._wait_listening(timeout)
            if state == "up":
                return self
            stderr = self.read_stderr()
            clash = re.search(r"cannot listen on 127\.0\.0\.1:(\d+): address in use", stderr)
            if state == "exited" and clash and self._move_port(int(clash.group(1))):
                print(f"petrel_testlib: port {clash.group(1)} was taken before petreld "
                      "bound it; retrying on another port", file=sys.stderr)
                continue
            break
        stacks = self._stacks() if state == "running" else ""
        self.stop()
        why = (f"still not listening after {timeout:.0f} s" if state == "running"
               else f"exited with status {self.proc.returncode}")
        raise RuntimeError(f"petreld did not start: {why}\n--- stderr\n{self.read_stderr()}\n--- log\n{self.read_log()}"
                           + (f"\n--- stacks\n{stacks}" if stacks else ""))

    def _wait_listening(self, timeout):
        deadline = time.time() + timeout
        pending = list(self.ports.values())
        while pending:
            if self.proc.poll() is not None:
                return "exited"
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5):
                    pending.pop(0)
                    continue
            except OSError:
                pass
            if time.time() > deadline:
                return "running"
            time.sleep(0.05)
        return "up" if self.proc.poll() is None else "exited"

    def _move_port(self, port):
        for name, p in self.ports.items():
            if p == port:
                with open(self.conf) as f:
                    text = f.read()
                self.ports[name] = free_port()
                with open(self.conf, "w") as f:
                    f.write(text.replace(f"address = 127.0.0.1:{port}\n",
                                         f"address = 127.0.0.1:{self.ports[name]}\n"))
                return True
        return False

    def _stacks(self):
        try:
            r = subprocess.run(["gdb", "-batch", "-p", str(self.proc.pid),
                                "-ex", "thread apply all bt"],
                               capture_output=True, text=True, timeout=60)
            return r.stdout[-20000:]
        except (OSError, subprocess.SubprocessError) as e:
            return f"(no stacks: {e})"

    def read_stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-20000:]
        except (OSError, AttributeError):
            return ""

    def ctl(self, *args, input=None, check=True):
        r = subprocess.run([PETRELCTL, "-d", self.data, *args], input=input,
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"petrelctl {' '.join(args)}: {r.returncode} {r.stderr}")
        return r

    def add_user(self, address, password, protocols="smtp,pop3,imap"):
        domain = address.split("@", 1)[1]
        self.ctl("tenant", "add", domain, "--protocols", protocols, check=False)
        self.ctl("user", "add", address, "--password-stdin", input=password + "\n")

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        return rc

    def cleanup(self):
        self.stop()
        if self.proc:
            for p in (self.proc.stdout, self.proc.stderr):
                if p:
                    p.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def make_cert(directory, cn="mail.test"):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn},IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def imap_client(test, port, user=None, password=None, timeout=20):
    """An imaplib session on 127.0.0.1:port for a unittest test: logged in when user
    is given (asserting OK), logged out quietly at the test's cleanup."""
    m = imaplib.IMAP4("127.0.0.1", port)
    if timeout is not None:
        m.sock.settimeout(timeout)
    test.addCleanup(imap_logout, m)
    if user is not None:
        test.assertEqual(m.login(user, password)[0], "OK")
    return m


def imap_logout(m):
    try:
        m.logout()
    except Exception:
        pass


class LineClient:
    """A raw line client over a socket (optionally wrapped in TLS later)."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; had " + repr(self.buf))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def until_tagged(self, tag):
        """The lines up to and including the reply tagged `tag` (IMAP)."""
        out = []
        while True:
            out.append(self.line())
            if out[-1].startswith(tag + " "):
                return out

    def tagged(self, text):
        """Sends the IMAP command 'tag rest'; the lines up to and including its tagged reply."""
        self.send(text + "\r\n")
        return self.until_tagged(text.split(" ", 1)[0])

    def closed(self, timeout=5):
        """True when the server closed the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
