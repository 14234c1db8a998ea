"""Helpers shared by the test_smtp_*.py integration tests: reading what the
store holds (through `petrelctl export`), raw SMTP replies, trace headers."""
import os
import shutil
import ssl
import tempfile


def stored(d, address, mailbox="INBOX"):
    """The messages of one mailbox, as bytes, oldest first (petrelctl export)."""
    out = tempfile.mkdtemp(prefix="petrel-export-")
    try:
        shutil.rmtree(out)
        d.ctl("export", address, "--mailbox", mailbox, "maildir", out)
        msgs = []
        for sub in ("new", "cur"):
            p = os.path.join(out, sub)
            if os.path.isdir(p):
                for f in os.listdir(p):
                    with open(os.path.join(p, f), "rb") as fh:
                        msgs.append((f, fh.read()))
        msgs.sort()
        return [m for _, m in msgs]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def split_trace(msg):
    """(trace header block, rest): the Return-Path: and Received: Petrel prepends."""
    lines = msg.split(b"\r\n")
    assert lines[0].startswith(b"Return-Path: <"), lines[0]
    assert lines[1].startswith(b"Received: from "), lines[1]
    i = 2
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\r\n".join(lines[:i]) + b"\r\n", b"\r\n".join(lines[i:])


def body_of(msg):
    return split_trace(msg)[1]


def reply(c):
    """One full (maybe multi-line) reply from a LineClient: (code, [lines])."""
    lines = []
    while True:
        line = c.line()
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), lines


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
