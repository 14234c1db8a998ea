"""The SMTP plugin's edge cases over raw sockets: dot-stuffing byte for byte,
bare LF/CR, long lines, too many recipients, an oversized message, NUL bytes,
garbage before EHLO, too many errors, STARTTLS command injection. Each checks
what the store holds afterwards."""
import os
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import petrel_testlib as T  # noqa: E402
from smtp_util import body_of, client_tls_context, reply, stored  # noqa: E402

RCPT = "alice@example.org"


def cmd(c, line):
    c.send(line + "\r\n")
    return reply(c)


class SmtpEdge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = T.Petreld([
            ("mx", "smtp", "none", {"mode": "mx", "max_message_size": "32M"}),
            ("tls", "smtp", "starttls", {"mode": "mx"}),
            ("lax", "smtp", "none", {"mode": "mx", "reject_bare_eol": "no", "max_errors": "3"}),
            ("idle", "smtp", "none", {"mode": "mx", "idle_timeout": "10"}),
        ])
        cls.d.start()
        cls.d.add_user(RCPT, "pw")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def count(self):
        return len(stored(self.d, RCPT))

    def open(self, name="mx"):
        c = T.LineClient(self.d.ports[name], timeout=30)
        self.assertEqual(reply(c)[0], 220)
        self.assertEqual(cmd(c, "EHLO edge.example")[0], 250)
        return c

    def envelope(self, c, n=1):
        self.assertEqual(cmd(c, "MAIL FROM:<e@remote.test>")[0], 250)
        for _ in range(n):
            self.assertEqual(cmd(c, "RCPT TO:<%s>" % RCPT)[0], 250)
        self.assertEqual(cmd(c, "DATA")[0], 354)

    def test_dot_stuffing_round_trip(self):
        body = (b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n..double\r\n"
                b"middle . dot\r\n. \r\n\r\n.\r\n...\r\nlast")
        # what a client sends: every line starting with '.' gets one more
        wire = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln
                            for ln in body.split(b"\r\n"))
        c = self.open()
        self.envelope(c)
        c.send(wire + b"\r\n.\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.close()
        self.assertEqual(body_of(stored(self.d, RCPT)[-1]), body + b"\r\n")

    def test_bare_lf_refused_and_closed(self):
        n0 = self.count()
        c = self.open()
        self.envelope(c)
        # SMTP smuggling shape: "\n.\r\n" must not end this message and start another
        c.send(b"Subject: bare\r\n\r\nline\n.\r\nMAIL FROM:<spoof@remote.test>\r\n"
               b"RCPT TO:<alice@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n")
        code, lines = reply(c)
        self.assertEqual(code, 550, lines)
        self.assertIn("5.6.0", lines[0])
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(self.count(), n0)

    def test_bare_cr_refused(self):
        n0 = self.count()
        c = self.open()
        self.envelope(c)
        c.send(b"Subject: cr\r\n\r\nline\rwith CR\r\n.\r\n")
        self.assertEqual(reply(c)[0], 550)
        c.close()
        self.assertEqual(self.count(), n0)

    def test_bare_lf_accepted_when_configured(self):
        n0 = self.count()
        c = self.open("lax")
        self.envelope(c)
        c.send(b"Subject: lax\n\nunix\nline\r\n.\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.close()
        msgs = stored(self.d, RCPT)
        self.assertEqual(len(msgs), n0 + 1)
        self.assertEqual(body_of(msgs[-1]), b"Subject: lax\r\n\r\nunix\r\nline\r\n")

    def test_line_too_long(self):
        n0 = self.count()
        c = self.open()
        code, lines = cmd(c, "NOOP " + "x" * 1200)
        self.assertEqual(code, 500)
        self.assertIn("5.5.2", lines[0])
        self.assertEqual(cmd(c, "NOOP")[0], 250)  # the session goes on
        self.envelope(c)
        c.send(b"Subject: long\r\n\r\n" + b"y" * 998 + b"\r\n" + b"z" * 999 + b"\r\nend\r\n.\r\n")
        code, lines = reply(c)
        self.assertEqual(code, 500, lines)
        self.assertEqual(cmd(c, "NOOP")[0], 250)
        c.close()
        self.assertEqual(self.count(), n0)
        c = self.open()  # 998 bytes is the limit, not over it
        self.envelope(c)
        c.send(b"Subject: ok\r\n\r\n" + b"y" * 998 + b"\r\n.\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.close()
        self.assertEqual(self.count(), n0 + 1)

    def test_1001_recipients(self):
        n0 = self.count()
        c = self.open()
        self.assertEqual(cmd(c, "MAIL FROM:<e@remote.test>")[0], 250)
        c.send("RCPT TO:<%s>\r\n" % RCPT * 1001)
        codes = [reply(c) for _ in range(1001)]
        self.assertTrue(all(code == 250 for code, _ in codes[:1000]))
        self.assertTrue(codes[1000][1][0].startswith("452 4.5.3"), codes[1000])
        self.assertEqual(cmd(c, "DATA")[0], 354)
        c.send(b"Subject: many\r\n\r\nonce\r\n.\r\n")
        self.assertEqual(reply(c)[0], 250)
        c.close()
        self.assertEqual(self.count(), n0 + 1)  # one user: one copy

    def test_message_over_the_limit(self):
        n0 = self.count()
        c = self.open()
        self.envelope(c)
        line = b"x" * 78 + b"\r\n"
        chunk = line * 8192  # 640 KB
        c.send(b"Subject: big\r\n\r\n")
        for _ in range(64):  # 40 MB, over the listener's 32M
            c.send(chunk)
        c.send(b".\r\n")
        code, lines = reply(c)
        self.assertEqual(code, 552, lines)
        self.assertIn("5.3.4", lines[0])
        self.assertEqual(cmd(c, "NOOP")[0], 250)  # the session goes on
        c.close()
        self.assertEqual(self.count(), n0)

    def test_nul_bytes(self):
        n0 = self.count()
        c = self.open()
        c.send(b"NOOP \x00\r\n")
        self.assertEqual(reply(c)[0], 500)
        self.envelope(c)
        c.send(b"Subject: nul\r\n\r\na\x00b\r\n.\r\n")
        code, lines = reply(c)
        self.assertEqual(code, 550, lines)
        self.assertEqual(cmd(c, "NOOP")[0], 250)
        c.close()
        self.assertEqual(self.count(), n0)

    def test_garbage_before_ehlo(self):
        c = T.LineClient(self.d.ports["mx"])
        self.assertEqual(reply(c)[0], 220)
        c.send(b"GET / HTTP/1.0\r\n\x16\x03\x01\x02\x00\x01\x00\r\n")
        self.assertEqual(reply(c)[0], 500)
        self.assertEqual(reply(c)[0], 500)
        self.assertEqual(cmd(c, "EHLO fine.example")[0], 250)
        c.close()

    def test_too_many_errors_closes(self):
        c = T.LineClient(self.d.ports["lax"])
        self.assertEqual(reply(c)[0], 220)
        c.send(b"BOGUS\r\nBOGUS\r\nBOGUS\r\nNOOP\r\n")
        self.assertEqual([reply(c)[0] for _ in range(3)], [500, 500, 500])
        code, lines = reply(c)  # the third error is the last: NOOP is never answered
        self.assertEqual(code, 421, lines)
        self.assertTrue(c.closed())
        c.close()

    def test_idle_timeout(self):
        c = T.LineClient(self.d.ports["idle"], timeout=30)
        self.assertEqual(reply(c)[0], 220)
        self.assertEqual(cmd(c, "EHLO idle.example")[0], 250)
        code, lines = reply(c)  # nothing sent for idle_timeout (10 s): 421, then closed
        self.assertTrue(lines[0].startswith("421 4.4.2 "), lines)
        self.assertTrue(c.closed())
        c.close()

    def test_starttls_injection(self):
        n0 = self.count()
        raw = socket.create_connection(("127.0.0.1", self.d.ports["tls"]), timeout=10)
        f = raw.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 "))
        raw.sendall(b"EHLO inj.example\r\n")
        feats = []
        while True:
            ln = f.readline()
            feats.append(ln)
            if ln[3:4] == b" ":
                break
        self.assertIn(b"250-STARTTLS\r\n", feats)
        # commands after STARTTLS in the same packet must be discarded
        raw.sendall(b"STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<alice@example.org>\r\n")
        self.assertTrue(f.readline().startswith(b"220 2.0.0"))
        tls = client_tls_context().wrap_socket(raw, server_hostname="mail.test")
        c = T.LineClient.__new__(T.LineClient)
        c.sock, c.buf = tls, b""
        code, lines = cmd(c, "EHLO inj.example")
        self.assertEqual(code, 250)
        self.assertNotIn("250-STARTTLS", lines)
        # MAIL was never accepted: RCPT is out of sequence
        self.assertEqual(cmd(c, "RCPT TO:<alice@example.org>")[0], 503)
        self.assertEqual(cmd(c, "MAIL FROM:<ok@remote.test>")[0], 250)
        self.assertEqual(cmd(c, "RCPT TO:<alice@example.org>")[0], 250)
        self.assertEqual(cmd(c, "DATA")[0], 354)
        c.send(b"Subject: tls\r\n\r\nsecret\r\n.\r\n")
        self.assertEqual(reply(c)[0], 250)
        tls.close()
        msgs = stored(self.d, RCPT)
        self.assertEqual(len(msgs), n0 + 1)
        self.assertIn(b"with ESMTPS id", msgs[-1])
        self.assertIn(b"(using TLSv1.3 with cipher ", msgs[-1])
        self.assertIn(b"Return-Path: <ok@remote.test>", msgs[-1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
