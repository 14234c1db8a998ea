"""IMAP SEARCH inside decoded MIME parts and UTF8=ACCEPT (RFC 6855 / RFC 9755), with python3
imaplib and raw sockets, on messages delivered with `petrelctl deliver`:

- BODY/TEXT match inside every text part after undoing base64 / quoted-printable and the
  part's charset (UTF-8, ISO-8859-1, windows-1252), case-insensitively also for non-ASCII
  letters (Latin-1, Greek, Cyrillic); attachments (non-text parts) are not searched;
- SUBJECT/FROM/HEADER match RFC 2047 encoded words decoded;
- CHARSET UTF-8 with literal search strings; other charsets: NO [BADCHARSET (US-ASCII UTF-8)];
- a 200,000-hit result is streamed (it is larger than the host's 1 MiB output limit);
- UTF8=ACCEPT: ENABLE, UTF-8 quoted strings (invalid UTF-8 is BAD), UTF-8 mailbox names
  (modified UTF-7 for a rev1 session), SEARCH CHARSET is BAD after it, APPEND UTF8 (~{n})."""
import base64
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import PETRELCTL, LineClient, Petreld, imap_client  # noqa: E402

USER, PASS = "finder@example.test", "pw for finder"


def b64(data):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76))


# 1: multipart/mixed: a base64 UTF-8 text part, a base64 attachment holding QUOKKA, an
#    RFC 2047 (UTF-8, B) subject
M1 = ("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.test>\r\n"
      "To: finder@example.test\r\n"
      "Subject: =?UTF-8?B?" + base64.b64encode("Grüße aus Köln".encode()).decode() + "?=\r\n"
      "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      "preamble\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n"
      + b64("Das Wetter ist schön.\nTreffpunkt: Bahnhof ZEBRAFINK.\nПРИВЕТ мир\n".encode())
      + "\r\n--b1\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
      "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n"
      + b64(b"\x00\x01binary QUOKKA secret\x02\x03") + "\r\n--b1--\r\n").encode()

# 2: multipart/alternative: plain 7bit, and a quoted-printable ISO-8859-1 HTML part;
#    an RFC 2047 (ISO-8859-1, Q) subject
M2 = ("From: Anne <anne@example.test>\r\nTo: finder@example.test\r\n"
      "Subject: =?ISO-8859-1?Q?=C9t=E9_=E0_Paris?=\r\n"
      "Date: Thu, 26 Nov 2026 13:00:00 +0000\r\nMessage-ID: <m2@example.test>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
      "--b2\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain words only\r\n"
      "--b2\r\nContent-Type: text/html; charset=ISO-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<p>Caf=E9 in M=DCNCHEN, kein =C4rger. Sehr lange Zeile die weich umbrochen=\r\n"
      " wird: KOLIBRI</p>\r\n--b2--\r\n").encode()

# 3: single part text/plain in windows-1252 (8bit: the euro sign is 0x80); a Greek subject
M3 = (b"From: Sofia <sofia@example.test>\r\nTo: finder@example.test\r\n"
      b"Subject: =?UTF-8?B?" + base64.b64encode("ΣΟΦΙΑ ΚΑΙ ΦΙΛΟΙ".encode()) + b"?=\r\n"
      b"Date: Thu, 26 Nov 2026 14:00:00 +0000\r\nMessage-ID: <m3@example.test>\r\n"
      b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1252\r\n"
      b"Content-Transfer-Encoding: 8bit\r\n\r\n"
      b"Preis: 5 \x80, \x93Angebot\x94 f\xfcr STRA\xdfE\r\n")

# 4: plain ASCII, nothing special
M4 = (b"From: Plain <plain@example.test>\r\nTo: finder@example.test\r\nSubject: hello\r\n"
      b"Date: Thu, 26 Nov 2026 15:00:00 +0000\r\nMessage-ID: <m4@example.test>\r\n\r\n"
      b"just a note about zebras\r\n")

# 5: a forwarded message (message/rfc822) whose own text part is base64
M5 = ("From: Fwd <fwd@example.test>\r\nTo: finder@example.test\r\nSubject: fwd\r\n"
      "Date: Thu, 26 Nov 2026 16:00:00 +0000\r\nMessage-ID: <m5@example.test>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b5\"\r\n\r\n"
      "--b5\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
      "--b5\r\nContent-Type: message/rfc822\r\n\r\n"
      "From: inner@example.test\r\nSubject: =?UTF-8?Q?Inneres_=C3=84pfelchen?=\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      + b64("versteckter NASHORN text".encode()) + "\r\n--b5--\r\n").encode()


class ImapSearchMimeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {})])
        cls.d.start()
        cls.d.add_user(USER, PASS)
        for msg in (M1, M2, M3, M4, M5):
            r = subprocess.run([PETRELCTL, "-d", cls.d.data, "deliver", USER], input=msg,
                               capture_output=True)
            if r.returncode != 0:
                raise RuntimeError(f"deliver: {r.returncode} {r.stderr!r}")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def imap(self, mailbox="INBOX"):
        m = imap_client(self, self.d.ports["imap"], USER, PASS, timeout=60)
        if mailbox:
            self.assertEqual(m.select(mailbox)[0], "OK")
        return m

    def raw(self):
        c = LineClient(self.d.ports["imap"], timeout=60)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK "))
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        return c

    def search(self, m, *criteria, literal=None):
        """SEARCH [CHARSET UTF-8 ...] -> the list of numbers."""
        if literal is not None:
            m.literal = literal.encode()
            typ, dat = m.search("UTF-8", *criteria)
        else:
            typ, dat = m.search(None, *criteria)
        self.assertEqual(typ, "OK")
        return [int(x) for x in dat[0].split()]

    # ------------------------------------------------------------ decoded parts
    def test_body_in_base64_part_not_in_attachment(self):
        m = self.imap()
        self.assertEqual(self.search(m, "BODY", "zebrafink"), [1])
        self.assertEqual(self.search(m, "TEXT", "ZebraFink"), [1])
        self.assertEqual(self.search(m, "BODY", "QUOKKA"), [])  # only in the attachment
        self.assertEqual(self.search(m, "TEXT", "quokka"), [])
        self.assertEqual(self.search(m, "BODY", "zebra"), [1, 4])
        self.assertEqual(self.search(m, "BODY", '"Bahnhof ZEBRAFINK"'), [1])

    def test_body_in_qp_latin1_html_part(self):
        m = self.imap()
        self.assertEqual(self.search(m, "BODY", literal="münchen"), [2])
        self.assertEqual(self.search(m, "BODY", literal="ÄRGER"), [2])
        self.assertEqual(self.search(m, "BODY", literal="CAFÉ"), [2])
        self.assertEqual(self.search(m, "BODY", '"umbrochen wird"'), [2])  # soft line break
        self.assertEqual(self.search(m, "TEXT", "kolibri"), [2])
        self.assertEqual(self.search(m, "BODY", '"plain words"'), [2])

    def test_body_windows_1252_and_cyrillic(self):
        m = self.imap()
        self.assertEqual(self.search(m, "BODY", literal="5 €"), [3])
        self.assertEqual(self.search(m, "BODY", literal="“angebot” FÜR"), [3])
        self.assertEqual(self.search(m, "BODY", literal="straße"), [3])
        self.assertEqual(self.search(m, "BODY", literal="привет МИР"), [1])
        self.assertEqual(self.search(m, "BODY", literal="SCHÖN"), [1])

    def test_forwarded_message_parts(self):
        m = self.imap()
        self.assertEqual(self.search(m, "BODY", "nashorn"), [5])
        self.assertEqual(self.search(m, "TEXT", literal="äpfelchen"), [5])
        self.assertEqual(self.search(m, "SUBJECT", literal="äpfelchen"), [])  # not the top's

    def test_header_keys_decode_rfc2047(self):
        m = self.imap()
        self.assertEqual(self.search(m, "SUBJECT", literal="KÖLN"), [1])
        self.assertEqual(self.search(m, "SUBJECT", literal="grüße"), [1])
        self.assertEqual(self.search(m, "SUBJECT", literal="ÉTÉ À paris"), [2])
        self.assertEqual(self.search(m, "SUBJECT", literal="σοφια και"), [3])
        self.assertEqual(self.search(m, "FROM", literal="jürgen müller"), [1])
        self.assertEqual(self.search(m, "HEADER", "Message-ID", "M3@EXAMPLE"), [3])
        self.assertEqual(self.search(m, "TEXT", literal="köln"), [1])
        self.assertEqual(self.search(m, "SUBJECT", "hello"), [4])
        self.assertEqual(self.search(m, "NOT", "SUBJECT", "hello", "BODY", "zebra"), [1])
        # UID SEARCH with a literal, and OR of two decoded keys
        m.literal = "KÖLN".encode()
        typ, dat = m.uid("SEARCH", "CHARSET", "UTF-8", "OR", "BODY", "nashorn", "SUBJECT")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(dat[0].split()), 2)

    def test_badcharset(self):
        m = self.imap()
        typ, dat = m.search("ISO-8859-1", "BODY", "x")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET (US-ASCII UTF-8)]", dat[0])
        typ, dat = m.search("US-ASCII", "BODY", "zebrafink")
        self.assertEqual((typ, dat[0]), ("OK", b"1"))

    def test_esearch_of_text_keys(self):
        c = self.raw()
        self.assertEqual(c.tagged("s SELECT INBOX")[-1][:4], "s OK")
        out = c.tagged("e SEARCH RETURN (MIN MAX COUNT ALL) BODY zebra")
        self.assertEqual(out[0], '* ESEARCH (TAG "e") MIN 1 MAX 4 COUNT 2 ALL 1,4')
        out = c.tagged("f UID SEARCH RETURN (COUNT) TEXT nomatchanywhere")
        self.assertEqual(out[0], '* ESEARCH (TAG "f") UID COUNT 0')

    # ------------------------------------------------------------ a big result, streamed
    def test_large_result_is_streamed(self):
        n = 200000
        path = os.path.join(self.d.tmp, "big.mbox")
        with open(path, "wb") as f:
            for k in range(n):
                f.write(b"From MAILER-DAEMON Thu Nov 26 12:00:00 2026\n"
                        b"Subject: m%d\n\nx\n\n" % k)
        self.d.ctl("import", USER, "mbox", path, "--mailbox", "Big")
        c = self.raw()
        self.assertEqual(c.tagged("s EXAMINE Big")[-1][:4], "s OK")
        # "* SEARCH 1 .. 200000" is 1.3 MB: more than the host's 1 MiB output limit, so it
        # only arrives whole when streamed; a command pipelined behind it waits for it
        c.send("a SEARCH ALL\r\nb NOOP\r\n")
        first = c.line()
        self.assertTrue(first.startswith("* SEARCH 1 2 3 "), first[:40])
        nums = first.split()[2:]
        self.assertEqual(len(nums), n)
        self.assertEqual(nums[-1], str(n))
        self.assertEqual(c.line(), "a OK SEARCH completed")
        self.assertEqual(c.line(), "b OK NOOP completed")
        # every other message: ESEARCH ALL cannot compress it into ranges
        hits = [k + 1 for k in range(n) if "0" not in str(k)]
        runs, k = [], 0
        while k < len(hits):
            j = k
            while j + 1 < len(hits) and hits[j + 1] == hits[j] + 1:
                j += 1
            runs.append(str(hits[k]) if j == k else f"{hits[k]}:{hits[j]}")
            k = j + 1
        out = c.tagged("e SEARCH RETURN (ALL COUNT) NOT SUBJECT 0")
        self.assertEqual(out[0], f'* ESEARCH (TAG "e") COUNT {len(hits)} ALL ' + ",".join(runs))
        self.assertEqual(out[-1], "e OK SEARCH completed")

    # ------------------------------------------------------------ UTF8=ACCEPT
    def test_utf8_accept(self):
        c = self.raw()
        caps = c.tagged("c CAPABILITY")[0].split()
        self.assertIn("UTF8=ACCEPT", caps)
        # before ENABLE: the UTF8 APPEND form is refused
        c.send("a0 APPEND INBOX UTF8 (~{6}\r\n")
        self.assertEqual(c.line(), "+ OK")
        c.send("hi\r\n\r\n)\r\n")
        self.assertEqual(c.line(), "a0 NO APPEND UTF8 needs ENABLE UTF8=ACCEPT")
        self.assertEqual(c.tagged("e ENABLE UTF8=ACCEPT"),
                         ["* ENABLED UTF8=ACCEPT", "e OK ENABLE completed"])
        self.assertEqual(c.tagged("e2 ENABLE UTF8=ACCEPT"), ["* ENABLED", "e2 OK ENABLE completed"])
        name = "Prüfung/Übersicht €"
        self.assertEqual(c.tagged(f'k CREATE "{name}"')[-1], "k OK CREATE completed")
        lines = c.tagged('l LIST "" "Pr*"')
        self.assertIn(f'* LIST (\\HasNoChildren) "/" "{name}"', lines)
        self.assertEqual(lines[-1], "l OK LIST completed")
        # invalid UTF-8 in a quoted string: BAD (RFC 6855 3)
        c.send(b'x LIST "" "\xc3\x28"\r\n')
        self.assertTrue(c.line().startswith("x BAD Invalid UTF-8"))
        # APPEND UTF8 (~{n}): stored as it is
        body = "Subject: Grüße\r\n\r\nÜberraschung\r\n".encode()
        c.send(f'a APPEND "{name}" UTF8 (~{{{len(body)}}}\r\n'.encode())
        self.assertEqual(c.line(), "+ OK")
        c.send(body + b")\r\n")
        self.assertTrue(c.line().startswith("a OK [APPENDUID "))
        self.assertEqual(c.tagged(f's SELECT "{name}"')[-1][:4], "s OK")
        c.send("f FETCH 1 BODY.PEEK[]\r\n")
        self.assertEqual(c.line(), f"* 1 FETCH (BODY[] {{{len(body)}}}")
        got = b""
        while len(got) < len(body):
            while not c.buf:
                c.buf += c.sock.recv(65536)
            take = min(len(body) - len(got), len(c.buf))
            got, c.buf = got + c.buf[:take], c.buf[take:]
        self.assertEqual(got, body)
        self.assertEqual(c.line(), ")")
        self.assertEqual(c.line(), "f OK FETCH completed")
        # SEARCH: UTF-8 quoted strings; CHARSET is BAD after ENABLE UTF8=ACCEPT
        self.assertEqual(c.tagged('q SEARCH BODY "ÜBERRASCHUNG"'),
                         ["* SEARCH 1", "q OK SEARCH completed"])
        self.assertEqual(c.tagged('q2 SEARCH SUBJECT "grüße"')[0], "* SEARCH 1")
        self.assertTrue(c.tagged('r SEARCH CHARSET UTF-8 BODY "x"')[0].startswith("r BAD "))
        # a rev1 session sees the name in modified UTF-7, and can select it that way
        m = self.imap(mailbox=None)
        typ, dat = m.list('""', "Pr*")
        self.assertEqual(typ, "OK")
        self.assertIn(b'(\\HasNoChildren) "/" "Pr&APw-fung/&ANw-bersicht &IKw-"', dat)
        self.assertEqual(m.select('"Pr&APw-fung/&ANw-bersicht &IKw-"')[0], "OK")
        # and gets no UTF-8 in quoted strings it would not understand
        typ, dat = m.fetch("1", "(ENVELOPE)")
        self.assertEqual(typ, "OK")


if __name__ == "__main__":
    unittest.main()
