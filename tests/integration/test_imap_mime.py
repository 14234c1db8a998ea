"""Golden ENVELOPE / BODYSTRUCTURE / BODY through IMAP: messages of core/mime's golden
corpus (tests/unit/data/mime/NAME.eml, checked against Dovecot, see tests/unit/test_mime.c)
go in by APPEND and come back by FETCH byte for byte: multipart/alternative inside
multipart/related, attachments with RFC 2231 filenames, a forwarded message/rfc822, broken
MIME (no boundary, no close delimiter, garbage headers) and raw 8-bit headers (a literal)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import SOURCE, LineClient, Petreld  # noqa: E402

USER, PASS = "golden@example.test", "golden pw"
CORPUS = os.path.join(SOURCE, "tests", "unit", "data", "mime")

# name: (ENVELOPE, BODYSTRUCTURE) exactly as FETCH must send them
GOLDEN = {
    "related": (
        b'("Wed, 4 Sep 2024 08:30:00 +0200" "Autumn sale" (("Newsletter Team" NIL "news" '
        b'"shop.example")) (("Newsletter Team" NIL "news" "shop.example")) (("Newsletter Team" '
        b'NIL "news" "shop.example")) ((NIL NIL "customer" "example.net")) NIL NIL NIL '
        b'"<sale-2024@shop.example>")',
        b'((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 59 2 NIL NIL NIL '
        b'NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 81 1 NIL NIL NIL '
        b'NIL) "alternative" ("boundary" "alt-boundary") NIL NIL NIL)("image" "png" ("name" '
        b'"logo.png") "<logo@shop.example>" NIL "base64" 166 NIL ("inline" ("filename" '
        b'"logo.png")) NIL NIL) "related" ("boundary" "rel-boundary" "type" '
        b'"multipart/alternative") NIL NIL NIL)'),
    "attach2231": (
        b'("Thu, 5 Sep 2024 12:00:00 +0200" "Invoice attached" '
        b'(("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.de")) '
        b'(("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.de")) '
        b'(("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=" NIL "juergen" "example.de")) (("Accounts, '
        b'Payable" NIL "ap" "example.com")) ((NIL NIL "boss" "example.com")) NIL NIL '
        b'"<inv-77@example.de>")',
        b'(("text" "plain" ("charset" "ISO-8859-1") NIL NIL "8bit" 21 1 NIL NIL ("de") '
        b'NIL)("application" "pdf" ("name*" "UTF-8\'\'Rechnung%20f%C3%BCr%20M%C3%A4rz.pdf") '
        b'"<part2.inv77@example.de>" "Invoice March" "base64" 20 "Q2hlY2sgSW50ZWdyaXR5IQ==" '
        b'("attachment" ("size" "12" "filename*" '
        b'"UTF-8\'\'Rechnung%20f%C3%BCr%20M%C3%A4rz.pdf")) ("de" "en-GB") '
        b'"http://example.de/rechnung.pdf")("text" "plain" ("name" "notes.txt" "charset" '
        b'"us-ascii") NIL NIL "7bit" 11 0 NIL ("attachment" ("filename*" '
        b'"us-ascii\'en\'notes%20v2.txt")) NIL NIL) "mixed" ("boundary" "----=_Part_0_1") NIL '
        b'NIL NIL)'),
    "forward": (
        b'("Fri, 6 Sep 2024 09:15:00 -0400" "Fwd: Meeting notes" (("Carol" NIL "carol" '
        b'"example.com")) (("Carol" NIL "carol" "example.com")) (("Carol" NIL "carol" '
        b'"example.com")) (("Dave" NIL "dave" "example.com")) NIL NIL NIL "<fwd-1@example.com>")',
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 34 1 NIL NIL NIL '
        b'NIL)("message" "rfc822" NIL NIL NIL "7bit" 428 ("Thu, 5 Sep 2024 17:00:00 -0400" '
        b'"Meeting notes" (("Eve" NIL "eve" "example.org")) (("Eve" NIL "eve" "example.org")) '
        b'(("Eve" NIL "eve" "example.org")) (("Carol" NIL "carol" "example.com")("Frank" NIL '
        b'"frank" "example.org")) NIL NIL "<agenda-4@example.org>" "<notes-5@example.org>") '
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 17 1 NIL NIL NIL NIL)("text" '
        b'"html" ("charset" "us-ascii") NIL NIL "7bit" 24 1 NIL NIL NIL NIL) "alternative" '
        b'("boundary" "inner") NIL NIL NIL) 20 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" '
        b'"outer") NIL NIL NIL)'),
    "noboundary": (
        b'(NIL "multipart without boundary" ((NIL NIL "broken" "example.com")) ((NIL NIL '
        b'"broken" "example.com")) ((NIL NIL "broken" "example.com")) ((NIL NIL "victim" '
        b'"example.com")) NIL NIL NIL NIL)',
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" '
        b'NIL NIL NIL NIL)'),
    "noend": (
        b'(NIL "no close delimiter" ((NIL NIL "broken" "example.com")) ((NIL NIL "broken" '
        b'"example.com")) ((NIL NIL "broken" "example.com")) ((NIL NIL "victim" "example.com")) '
        b'NIL NIL NIL NIL)',
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)("text" '
        b'"plain" ("charset" "us-ascii") NIL NIL "7bit" 63 2 NIL NIL NIL NIL) "mixed" '
        b'("boundary" "b1") NIL NIL NIL)'),
    "garbage": (
        b'(NIL "garbage headers" ((NIL NIL "garbage" "example.com")) ((NIL NIL "garbage" '
        b'"example.com")) ((NIL NIL "garbage" "example.com")) ((NIL NIL "victim" '
        b'"example.com")) NIL NIL NIL NIL)',
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "x-uuencode" 20 1 NIL NIL NIL NIL)'),
    "8bit": (
        # the subject's raw 8-bit bytes cannot be quoted: a literal
        b'(NIL {23}\r\n\xc3\x83\xc2\xa9t\xc3\x83\xc2\xa9 sans encodage '
        b'(("=?iso-8859-1?q?Andr=E9?=" NIL "andre" '
        b'"example.fr")) (("=?iso-8859-1?q?Andr=E9?=" NIL "andre" "example.fr")) '
        b'(("=?iso-8859-1?q?Andr=E9?=" NIL "andre" "example.fr")) ((NIL NIL "claire" '
        b'"example.fr")) NIL NIL NIL NIL)',
        b'("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 47 2 NIL NIL NIL NIL)'),
}


def corpus(name, ext="eml"):
    with open(os.path.join(CORPUS, f"{name}.{ext}"), "rb") as f:
        return f.read()


class ImapMimeGoldenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Petreld([("imap", "imap", "none", {})])
        cls.d.start()
        cls.d.add_user(USER, PASS)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def session(self, mailbox, names):
        """A logged-in raw session with `names` appended (as they are, by LITERAL+) to a
        new `mailbox`, selected: message i+1 is names[i]."""
        c = LineClient(self.d.ports["imap"], timeout=20)
        self.addCleanup(c.close)
        self.assertTrue(c.line().startswith("* OK "))
        self.assertTrue(c.cmd(f'l LOGIN {USER} "{PASS}"').startswith("l OK "))
        self.assertTrue(c.cmd(f"c CREATE {mailbox}").startswith("c OK"))
        for n in names:
            data = corpus(n)
            c.send(b"a APPEND %s {%d+}\r\n" % (mailbox.encode(), len(data)) + data + b"\r\n")
            self.assertTrue(self.response(c, b"a").startswith(b"a OK [APPENDUID "), n)
        self.assertIn(b"s OK [READ-WRITE]", self.response(c, b"s", f"s SELECT {mailbox}"))
        return c

    @staticmethod
    def response(c, tag, command=None):
        """The raw bytes up to and including the tagged reply (literals included)."""
        if command is not None:
            c.send(command + "\r\n")
        while (b"\r\n" + tag + b" ") not in (b"\r\n" + c.buf) or \
                not c.buf.endswith(b"\r\n"):
            chunk = c.sock.recv(65536)
            if not chunk:
                raise EOFError(repr(c.buf))
            c.buf += chunk
        start = (b"\r\n" + c.buf).index(b"\r\n" + tag + b" ")
        end = c.buf.index(b"\r\n", start) + 2
        out, c.buf = c.buf[:end], c.buf[end:]
        return out

    def test_golden_envelope_bodystructure(self):
        names = list(GOLDEN)
        c = self.session("Golden", names)
        for i, n in enumerate(names, 1):
            env, bs = GOLDEN[n]
            got = self.response(c, b"f", f"f FETCH {i} (ENVELOPE BODYSTRUCTURE)")
            want = b"* %d FETCH (ENVELOPE %s BODYSTRUCTURE %s)\r\nf OK FETCH completed\r\n" \
                % (i, env, bs)
            self.assertEqual(got, want, n)
        # a part inside the forwarded message/rfc822 (2 = the message, 2.2 its html part)
        got = self.response(c, b"f", "f FETCH 3 (BODY.PEEK[2.2] "
                                     "BODY.PEEK[2.HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(got, b"* 3 FETCH (BODY[2.2] {24}\r\n<p>Notes: ship it.</p>\r\n "
                              b"BODY[2.HEADER.FIELDS (SUBJECT)] {26}\r\n"
                              b"Subject: Meeting notes\r\n\r\n)\r\nf OK FETCH completed\r\n")

    def test_whole_corpus_matches_core_goldens(self):
        """Every message of the core/mime corpus: what FETCH sends is what the golden
        files hold (ENVELOPE, BODYSTRUCTURE, and BODY without extension data)."""
        names = sorted(f[:-4] for f in os.listdir(CORPUS) if f.endswith(".eml"))
        self.assertGreaterEqual(len(names), 14)
        c = self.session("Corpus", names)
        for i, n in enumerate(names, 1):
            for item, ext in (("ENVELOPE", "envelope"), ("BODYSTRUCTURE", "bodystructure"),
                              ("BODY", "body")):
                got = self.response(c, b"f", f"f FETCH {i} ({item})")
                want = b"* %d FETCH (%s %s)\r\nf OK FETCH completed\r\n" \
                    % (i, item.encode(), corpus(n, ext))
                self.assertEqual(got, want, f"{n}.{ext}")


if __name__ == "__main__":
    unittest.main()
