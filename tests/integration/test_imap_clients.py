"""Real IMAP clients against the imap plugin: mbsync (isync) syncing to a local
Maildir and back (new messages, flags both ways, new folders, expunges)."""
import glob
import imaplib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import Petreld, make_cert  # noqa: E402

USER, PASS = "dave@example.test", "dave's pass"
TLS_USER = "erin@example.test"  # test_sync_over_tls's own account


class MbsyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="petrel-mbsync-")
        # mbsync checks the certificate against the host name it connects to: "localhost"
        cls.cert, key = make_cert(cls.tmp, cn="localhost")
        cls.d = Petreld([("imap", "imap", "none", None), ("imaps", "imap", "implicit", None),
                         ("imap_starttls", "imap", "starttls", None)], cert=False,
                        extra_global=f"tls_cert = {cls.cert}\ntls_key = {key}")
        cls.d.start()
        cls.d.add_user(USER, PASS)
        cls.d.add_user(TLS_USER, PASS)
        cls.mail = os.path.join(cls.tmp, "mail")
        os.makedirs(cls.mail)
        cls.rc = os.path.join(cls.tmp, "mbsyncrc")
        with open(cls.rc, "w") as f:
            f.write(f"""IMAPAccount petrel
Host 127.0.0.1
Port {cls.d.ports['imap']}
User {USER}
Pass "{PASS}"
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account petrel

MaildirStore local
Path {cls.mail}/
Inbox {cls.mail}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def mbsync(self, rc=None):
        r = subprocess.run(["mbsync", "-c", rc or self.rc, "-a"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.d.ports["imap"])
        self.addCleanup(m.logout)
        m.login(USER, PASS)
        return m

    def files(self, box):
        return sorted(glob.glob(os.path.join(self.mail, box, "cur", "*")) +
                      glob.glob(os.path.join(self.mail, box, "new", "*")))

    def test_sync_both_ways(self):
        for i in range(3):
            self.d.ctl("deliver", USER, input=f"Subject: m{i}\r\nFrom: x@example.test\r\n\r\n"
                                              f"body {i}\r\n")
        m = self.imap()
        m.create("Work")
        m.append("Work", r"(\Flagged)", None, b"Subject: w\r\n\r\nwork\r\n")
        self.mbsync()
        self.assertEqual(len(self.files("INBOX")), 3)
        work = self.files("Work")
        self.assertEqual(len(work), 1)
        self.assertTrue(work[0].endswith("F"), work[0])  # \Flagged came down
        with open(work[0], "rb") as f:
            self.assertIn(b"work", f.read())
        # local changes: mark one INBOX message seen, delete another, new folder with a message
        inbox = self.files("INBOX")
        cur = os.path.join(self.mail, "INBOX", "cur")
        seen = os.path.join(cur, os.path.basename(inbox[0]).split(":2,")[0] + ":2,S")
        os.rename(inbox[0], seen)
        os.unlink(inbox[1])
        os.makedirs(os.path.join(self.mail, "Local", "cur"))
        os.makedirs(os.path.join(self.mail, "Local", "new"))
        os.makedirs(os.path.join(self.mail, "Local", "tmp"))
        with open(os.path.join(self.mail, "Local", "new", "1.local.host"), "wb") as f:
            f.write(b"Subject: from local\r\n\r\nmade here\r\n")
        self.mbsync()
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(UID FLAGS)")
        self.assertEqual(len(data), 2, data)
        self.assertIn(b"\\Seen", data[0])
        self.assertEqual(m.status("Local", "(MESSAGES)")[1], [b'"Local" (MESSAGES 1)'])
        # a server-side flag change and expunge come down on the next run
        m.store("1", "+FLAGS", r"(\Answered)")
        m.store("2", "+FLAGS", r"(\Deleted)")
        m.expunge()
        self.mbsync()
        inbox = self.files("INBOX")
        self.assertEqual(len(inbox), 1)
        self.assertTrue(inbox[0].endswith(":2,RS"), inbox[0])

    def test_sync_over_tls(self):
        """The same account over IMAPS and over STARTTLS, each into its own Maildir."""
        for name, ssl_type in (("imaps", "IMAPS"), ("imap_starttls", "STARTTLS")):
            mail = os.path.join(self.tmp, "tls-" + name)
            os.makedirs(mail)
            rc = os.path.join(self.tmp, "rc-" + name)
            with open(rc, "w") as f:
                f.write(f"""IMAPAccount petrel
Host localhost
Port {self.d.ports[name]}
User {TLS_USER}
Pass "{PASS}"
SSLType {ssl_type}
CertificateFile {self.cert}

IMAPStore remote
Account petrel

MaildirStore local
Path {mail}/
Inbox {mail}/INBOX

Channel sync
Far :remote:INBOX
Near :local:INBOX
Create Near
SyncState *
""")
            self.d.ctl("deliver", TLS_USER, input=f"Subject: over {name}\r\n\r\nhello\r\n")
            self.mbsync(rc)
            got = glob.glob(os.path.join(mail, "INBOX", "new", "*")) + \
                glob.glob(os.path.join(mail, "INBOX", "cur", "*"))
            subjects = []
            for p in got:
                with open(p, "rb") as f:
                    subjects.append(f.read().split(b"\n", 1)[0].rstrip(b"\r"))
            self.assertIn(b"Subject: over " + name.encode(), subjects)
            self.assertEqual(len(subjects), 1 if name == "imaps" else 2)


if __name__ == "__main__":
    unittest.main()
