#!/usr/bin/env python3
"""A TLS client for test_server_tls (python3's ssl module, stdlib only).

usage: server_tls_client.py MODE PORT [MAXVER]
  MODE implicit: TLS from the first byte, then "INFO", "QUIT"
  MODE starttls: plaintext "STARTTLS\\r\\nINJECT\\r\\n" in ONE packet, then the
                 handshake, then "INFO", "QUIT" over TLS
  MODE hold:     PORT then N: N TLS connections, one line each, "READY", idle 1.5 s
  MAXVER: 1.1 | 1.2 | 1.3 (the highest version offered; 1.1 also sets it as minimum)
Prints every line received, "PEERCERT <sha256 of DER>" and finally
"HANDSHAKE OK" or "HANDSHAKE FAIL <reason>". Exit status 0 in both cases.
"""
import hashlib
import socket
import ssl
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

VERSIONS = {
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def context(maxver):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maxver:
        ctx.maximum_version = VERSIONS[maxver]
        if maxver == "1.1":
            # let the client really offer TLS 1.1: the server must be the one refusing
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def read_lines(f):
    for line in f:
        print(line.rstrip("\r\n"), flush=True)


def hold(port, n):
    conns = []
    for _ in range(n):
        tls = context(None).wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
        tls.sendall(b"x\r\n")
        f = tls.makefile("r", encoding="ascii", newline="\n")
        assert f.readline().startswith("L 1 x")
        conns.append((tls, f))
    print("READY", flush=True)
    time.sleep(1.5)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    maxver = sys.argv[3] if len(sys.argv) > 3 else None
    if mode == "hold":
        hold(port, int(sys.argv[3]))
        return
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    if mode == "starttls":
        raw.sendall(b"STARTTLS\r\nINJECT\r\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = raw.recv(1)
            if not chunk:
                print("HANDSHAKE FAIL eof-before-reply")
                return
            buf += chunk
        print(buf.decode().rstrip("\r\n"), flush=True)
    try:
        tls = context(maxver).wrap_socket(raw)
    except (ssl.SSLError, OSError) as e:
        print("HANDSHAKE FAIL %s" % e.__class__.__name__, flush=True)
        return
    der = tls.getpeercert(binary_form=True)
    print("PEERCERT %s" % hashlib.sha256(der).hexdigest(), flush=True)
    tls.sendall(b"INFO\r\nQUIT\r\n")
    try:
        read_lines(tls.makefile("r", encoding="ascii", newline="\n"))
    except (ssl.SSLError, OSError):
        pass
    print("HANDSHAKE OK", flush=True)


if __name__ == "__main__":
    main()
