"""Reverse DNS for Received: (host->peer_name): the client's name, forward-
confirmed, looked up before the greeting; `reverse_dns = no` turns it off."""
import os
import smtplib
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petrel_testlib as T  # noqa: E402
from smtp_util import client_tls_context, split_trace, stored  # noqa: E402


def loopback_name():
    """What the resolver says 127.0.0.1 is, when the name leads back to it (else None)."""
    try:
        name = socket.gethostbyaddr("127.0.0.1")[0]
        addrs = {a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)}
        return name if "127.0.0.1" in addrs else None
    except OSError:
        return None


class SmtpReverseDns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = T.Petreld([("mx", "smtp", "none", {"mode": "mx"}),
                           ("mxtls", "smtp", "implicit", {"mode": "mx"}),
                           ("norev", "smtp", "none", {"mode": "mx", "reverse_dns": "no"}),
                           ("lmtp", "smtp", "none", {"mode": "lmtp"})])
        cls.d.start()
        cls.d.add_user("alice@example.org", "pw")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def received(self, port, tls=False):
        n0 = len(stored(self.d, "alice@example.org"))
        cls = smtplib.SMTP_SSL if tls else smtplib.SMTP
        kw = {"context": client_tls_context()} if tls else {}
        with cls("127.0.0.1", self.d.ports[port], **kw) as s:
            if port == "lmtp":
                self.assertEqual(s.docmd("LHLO", "client.test")[0], 250)
                s.does_esmtp = False
                self.assertEqual(s.mail("x@remote.test")[0], 250)
                self.assertEqual(s.rcpt("alice@example.org")[0], 250)
                self.assertEqual(s.data(b"Subject: r\r\n\r\nbody\r\n")[0], 250)
            else:
                s.ehlo("client.test")
                s.sendmail("x@remote.test", ["alice@example.org"], b"Subject: r\r\n\r\nbody\r\n")
        msgs = stored(self.d, "alice@example.org")
        self.assertEqual(len(msgs), n0 + 1)
        return split_trace(msgs[-1])[0]

    def test_localhost_name(self):
        # /etc/hosts here: 127.0.0.1 localhost (the test checks the resolver agrees)
        self.assertEqual(loopback_name(), "localhost")
        self.assertIn(b"Received: from client.test (localhost [127.0.0.1])",
                      self.received("mx"))

    def test_implicit_tls_waits_for_both(self):
        trace = self.received("mxtls", tls=True)
        self.assertIn(b"Received: from client.test (localhost [127.0.0.1])", trace)
        self.assertIn(b"with ESMTPS", trace)

    def test_lmtp_too(self):
        self.assertIn(b"Received: from client.test (localhost [127.0.0.1])",
                      self.received("lmtp"))

    def test_reverse_dns_no(self):
        self.assertIn(b"Received: from client.test (unknown [127.0.0.1])",
                      self.received("norev"))

    def test_early_talker_keeps_its_bytes(self):
        # everything sent at once, before the greeting: answered in order, nothing lost
        c = T.LineClient(self.d.ports["mx"])
        c.send("EHLO early.test\r\nNOOP\r\nQUIT\r\n")
        lines = []
        while True:
            line = c.line()
            lines.append(line)
            if line.startswith("221"):
                break
        self.assertTrue(lines[0].startswith("220"), lines)
        self.assertTrue(any(l.startswith("250 ") for l in lines), lines)
        c.close()
        log = self.d.read_log()
        self.assertIn("event=rdns", log)
        self.assertIn("name=localhost result=confirmed", log)


if __name__ == "__main__":
    unittest.main()
