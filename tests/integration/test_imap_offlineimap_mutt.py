"""Two more real IMAP clients against the imap plugin.

offlineimap (Debian's offlineimap3): a seeded account (several folders, one nested, one
with a UTF-8 name, flags) synced to a local Maildir; flags changed, messages deleted and
added and a folder created locally, synced back; a server-side delivery, flag change and
expunge synced down again. What the server holds is checked through imaplib and
`petrelctl mailbox list`.

mutt: driven through a pseudo-terminal with `push` in its muttrc (mutt needs a terminal,
but no key is typed): it opens INBOX, flags one message, reads one (\Seen), deletes one,
saves one to another folder, expunges (sync-mailbox), opens that folder and quits."""
import glob
import imaplib
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import Petreld  # noqa: E402

USER, PASS = "olive@example.test", "olive's pass"
DRAFTS = "Entwürfe"           # stored UTF-8; a rev1 client sees modified UTF-7
DRAFTS_UTF7 = "Entw&APw-rfe"


def msg(subject, body):
    return (f"From: Sender <sender@example.test>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@example.test>\r\n\r\n{body}\r\n").encode()


class OfflineimapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="petrel-offlineimap-")
        cls.d = Petreld([("imap", "imap", "none", None)])
        cls.d.start()
        cls.d.add_user(USER, PASS)
        cls.mail = os.path.join(cls.tmp, "mail")
        cls.rc = os.path.join(cls.tmp, "offlineimaprc")
        # utf8foldernames: local folder names in UTF-8 (offlineimap decodes modified UTF-7)
        with open(cls.rc, "w") as f:
            f.write(f"""[general]
accounts = petrel
metadata = {cls.tmp}/meta
ui = basic

[Account petrel]
localrepository = local
remoterepository = remote
utf8foldernames = yes

[Repository local]
type = Maildir
localfolders = {cls.mail}

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = {cls.d.ports['imap']}
remoteuser = {USER}
remotepass = {PASS.replace('%', '%%')}
ssl = no
starttls = no
maxconnections = 1
""")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def offlineimap(self):
        r = subprocess.run(["offlineimap", "-c", self.rc, "-o"], capture_output=True,
                           text=True, timeout=120)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        self.assertNotIn("ERROR", out)
        self.assertNotIn("WARNING", out)
        return out

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        m.sock.settimeout(20)
        self.addCleanup(m.logout)
        self.assertEqual(m.login(USER, PASS)[0], "OK")
        return m

    def files(self, folder):
        """{uid: (path, maildir flags)} of one local folder."""
        got = {}
        for p in glob.glob(os.path.join(self.mail, folder, "cur", "*")) + \
                glob.glob(os.path.join(self.mail, folder, "new", "*")):
            name = os.path.basename(p)
            uid = int(name.split(",U=")[1].split(",")[0]) if ",U=" in name else None
            got[uid] = (p, name.split(":2,")[1] if ":2," in name else "")
        return got

    @staticmethod
    def set_flags(path, flags):
        base = os.path.basename(path).split(":2,")[0]
        new = os.path.join(os.path.dirname(os.path.dirname(path)), "cur", base + ":2," + flags)
        os.rename(path, new)

    def server_flags(self, m, mailbox):
        """{uid: set of flags} of a mailbox, through imaplib."""
        typ, _ = m.select(f'"{mailbox}"')
        self.assertEqual(typ, "OK", mailbox)
        typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
        self.assertEqual(typ, "OK")
        got = {}
        for item in data:
            if item is None:
                continue
            text = item.decode()
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            flags = text.split("FLAGS (")[1].split(")")[0].split()
            got[uid] = set(flags) - {"\\Recent"}
        return got

    def test_sync_down_and_back(self):
        m = self.imap()
        self.assertEqual(m.append("INBOX", r"(\Seen)", None, msg("in1", "first"))[0], "OK")
        self.assertEqual(m.append("INBOX", None, None, msg("in2", "second"))[0], "OK")
        self.assertEqual(m.append("INBOX", r"(\Answered \Seen)", None, msg("in3", "third"))[0],
                         "OK")
        for box in ("Work", "Work/Reports", DRAFTS_UTF7):
            self.assertEqual(m.create(box)[0], "OK", box)
        m.append("Work", r"(\Flagged)", None, msg("w1", "work"))
        m.append("Work/Reports", None, None, msg("r1", "report"))
        m.append(DRAFTS_UTF7, r"(\Draft)", None, msg("d1", "draft"))

        # 1. down: every folder, flags as Maildir info, the UTF-8 name as a UTF-8 directory
        self.offlineimap()
        inbox = self.files("INBOX")
        self.assertEqual({u: f for u, (_, f) in inbox.items()}, {1: "S", 2: "", 3: "RS"})
        with open(inbox[2][0], "rb") as f:
            # offlineimap keeps local files with LF line ends
            self.assertEqual(f.read(), msg("in2", "second").replace(b"\r\n", b"\n"))
        self.assertEqual({u: f for u, (_, f) in self.files("Work").items()}, {1: "F"})
        self.assertEqual(len(self.files("Work.Reports")), 1)  # local separator "."
        drafts = self.files(DRAFTS)
        self.assertEqual({u: f for u, (_, f) in drafts.items()}, {1: "D"})
        with open(drafts[1][0], "rb") as f:
            self.assertIn(b"Subject: d1", f.read())

        # 2. local changes: flags both added and removed, a deletion, a new message in the
        # UTF-8 folder, a new folder with a message
        self.set_flags(inbox[2][0], "FS")
        self.set_flags(inbox[1][0], "")
        os.unlink(inbox[3][0])
        self.set_flags(self.files("Work")[1][0], "S")
        with open(os.path.join(self.mail, DRAFTS, "new", "100.local.host"), "wb") as f:
            f.write(msg("d2", "written offline"))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.mail, "Local", sub))
        with open(os.path.join(self.mail, "Local", "new", "101.local.host"), "wb") as f:
            f.write(msg("l1", "local folder"))
        self.offlineimap()

        self.assertEqual(self.server_flags(m, "INBOX"), {1: set(), 2: {"\\Flagged", "\\Seen"}})
        self.assertEqual(self.server_flags(m, "Work"), {1: {"\\Seen"}})
        self.assertEqual(self.server_flags(m, DRAFTS_UTF7), {1: {"\\Draft"}, 2: set()})
        typ, data = m.uid("FETCH", "2", "(BODY.PEEK[TEXT])")
        self.assertEqual(data[0][1], b"written offline\r\n")
        self.assertEqual(self.server_flags(m, "Local"), {1: set()})
        # the new message got its server UID in the local file name (APPENDUID)
        self.assertEqual(sorted(self.files(DRAFTS)), [1, 2])
        self.assertEqual(sorted(self.files("Local")), [1])
        listing = self.d.ctl("mailbox", "list", USER).stdout
        for name in ("INBOX", "Work", "Work/Reports", DRAFTS, "Local"):
            self.assertRegex(listing, rf"(?m)^{name}\s", listing)

        # 3. server-side changes come down: a delivery, a flag change, an expunge
        self.d.ctl("deliver", USER, input=msg("in4", "delivered").decode())
        m.select("INBOX")
        m.uid("STORE", "1", "+FLAGS", r"(\Answered)")
        m.select("Work/Reports")
        m.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
        m.expunge()
        self.offlineimap()
        inbox = self.files("INBOX")
        self.assertEqual({u: f for u, (_, f) in inbox.items()}, {1: "R", 2: "FS", 4: ""})
        with open(inbox[4][0], "rb") as f:
            self.assertIn(b"delivered", f.read())
        self.assertEqual(self.files("Work.Reports"), {})

        # 4. a run with nothing to do changes nothing on either side
        before = {b: self.files(b) for b in ("INBOX", "Work", DRAFTS, "Local")}
        self.offlineimap()
        self.assertEqual({b: self.files(b) for b in before}, before)
        self.assertEqual(self.server_flags(m, "INBOX"),
                         {1: {"\\Answered"}, 2: {"\\Flagged", "\\Seen"}, 4: set()})


MUTT_USER = "mutt@example.test"


class MuttTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", None)])
        cls.d.start()
        cls.d.add_user(MUTT_USER, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def mutt(self, keys):
        """Runs mutt on INBOX in a pseudo-terminal; `keys` are pushed as typed input and
        must end in <quit>. Returns what mutt drew on the screen."""
        rc = os.path.join(self.d.tmp, "muttrc")
        with open(rc, "w") as f:
            f.write(f"""set imap_user="{MUTT_USER}"
set imap_pass="{PASS}"
set ssl_starttls=no
set ssl_force_tls=no
set folder="imap://127.0.0.1:{self.d.ports['imap']}/"
set spoolfile="+INBOX"
set header_cache=""
set message_cachedir=""
set sort=mailbox-order
set confirmappend=no
set delete=yes
set quit=yes
set move=no
set mark_old=no
set wait_key=no
set pager_stop=yes
push "{keys}"
""")
        pid, fd = pty.fork()
        if pid == 0:  # the child: mutt on the pty
            os.environ["TERM"] = "vt100"
            try:
                os.execvp("mutt", ["mutt", "-n", "-F", rc])
            finally:
                os._exit(127)
        screen = b""
        deadline = time.time() + 60
        closed = False
        try:
            while not closed and time.time() < deadline:
                ready, _, _ = select.select([fd], [], [], 1)
                if not ready:
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: mutt closed the terminal (it is exiting)
                    chunk = b""
                closed = not chunk
                screen += chunk
        finally:
            if not closed:  # mutt hangs: end it (our own child, by pid)
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        text = screen.decode(errors="replace")
        self.assertTrue(closed, "mutt did not quit: " + text[-2000:])
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, text[-2000:])
        return text

    def test_read_flag_delete_save(self):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        m.sock.settimeout(20)
        self.addCleanup(m.logout)
        m.login(MUTT_USER, PASS)
        for i in range(1, 5):
            self.assertEqual(m.append("INBOX", None, None, msg(f"m{i}", f"text {i}"))[0], "OK")
        self.assertEqual(m.create("Archive")[0], "OK")
        # 1: flag (moves on to 2); 2: read it in the pager and back; 3: delete; 4: save to
        # Archive (marks it deleted); sync = EXPUNGE; open Archive; quit
        screen = self.mutt("<flag-message><display-message><exit><next-entry><delete-message>"
                           "<save-message>=Archive<enter><sync-mailbox>"
                           "<change-folder>=Archive<enter><quit>")
        # the screens mutt drew once the pushed keys were done (status lines)
        self.assertIn("=INBOX [Msgs:2 New:1 Flag:1 ", screen)
        self.assertIn("Archive [Msgs:1 New:1 ", screen)
        self.assertIn("Closing connection to 127.0.0.1", screen)
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"2"])
        typ, data = m.fetch("1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        got = [(d[0].decode(), d[1]) for d in data if isinstance(d, tuple)]
        self.assertEqual(len(got), 2, data)
        self.assertIn("UID 1 FLAGS (\\Flagged)", got[0][0])
        self.assertEqual(got[0][1], b"Subject: m1\r\n\r\n")
        self.assertIn("UID 2 FLAGS (\\Seen)", got[1][0])
        self.assertEqual(got[1][1], b"Subject: m2\r\n\r\n")
        m.select("Archive")
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[TEXT])")
        self.assertEqual(data[0][1], b"text 4\r\n")
        self.assertEqual(len([d for d in data if isinstance(d, tuple)]), 1)


if __name__ == "__main__":
    unittest.main()
