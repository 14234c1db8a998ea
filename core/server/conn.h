/*
 * conn.h - one client connection on one event loop: fd + optional SSL, line
 * framing, raw byte counts, bounded chunked output with back-pressure,
 * timeouts, STARTTLS.
 *
 * Threading: a connection belongs to the loop it was created on; every
 * srv_conn_* call must be made on that loop's thread (another thread uses
 * srv_loop_post() and finds the session again by id). Callbacks of one
 * connection never run concurrently, and never nest: they are all called
 * from the loop's top level (event, timer or defer dispatch); srv_conn_*
 * calls made inside a callback only record state and queue work.
 *
 * Lifetime: the loop frees the connection after on_close() returned, which
 * is always the last callback. Closing from inside a callback is safe; the
 * conn pointer stays valid until on_close() returns. Never use it after.
 *
 * Memory: an idle connection holds only its struct (see srv_conn_sizeof();
 * 304 bytes on x86-64) plus its timer slot in the loop's heap; the input
 * buffer is allocated on read and freed whenever it is empty, output chunks
 * (16 KiB) are freed as they drain. Measured (tests/unit/test_server_conn.c,
 * test_idle_footprint): ~650 bytes of heap per idle plain connection
 * including the test protocol's 320-byte session. An idle TLS connection
 * adds OpenSSL's SSL object: ~15 KiB measured (TLS 1.3, buffers released).
 *
 * The process must ignore SIGPIPE (OpenSSL writes with write(2)).
 */
#ifndef PETREL_SERVER_CONN_H
#define PETREL_SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/config.h" /* enum srv_tls_mode */
#include "server/limits.h"
#include "server/loop.h"
#include "server/tls.h"

typedef struct srv_conn srv_conn_t;

/* on_line flags */
#define SRV_LINE_CRLF 0x1u /* the line ended in CRLF (otherwise a bare LF) */
#define SRV_LINE_TOO_LONG                                                                          \
    0x2u /* complete line longer than max_line: its first max_line bytes                           \
            are passed, the rest was dropped */
#define SRV_LINE_OVERFLOW                                                                          \
    0x4u /* max_line+2 bytes and no LF yet: the first max_line bytes are                           \
            passed; everything up to and including the next LF is                                  \
            discarded without another callback */

enum srv_close_reason {
    SRV_CLOSE_LOCAL = 0,    /* srv_conn_close() by the protocol/host */
    SRV_CLOSE_EOF,          /* the client closed */
    SRV_CLOSE_ERROR,        /* socket or I/O error */
    SRV_CLOSE_TLS,          /* TLS handshake or record error */
    SRV_CLOSE_IDLE,         /* idle timeout */
    SRV_CLOSE_SESSION,      /* total session timeout */
    SRV_CLOSE_OVERFLOW,     /* output above out_max */
    SRV_CLOSE_FLUSH_TIMEOUT /* a flushing close did not drain in flush_ms */
};
const char *srv_close_reason_str(enum srv_close_reason r);

enum srv_timeout_kind { SRV_TIMEOUT_IDLE = 0, SRV_TIMEOUT_SESSION = 1 };

typedef struct srv_conn_cbs {
    /* A complete line without its line ending (see SRV_LINE_*). `line` is
     * valid during the call only and is not NUL-terminated. Required. */
    void (*on_line)(srv_conn_t *c, void *ud, const char *line, size_t len, unsigned flags);
    /* A chunk of the bytes asked for by srv_conn_read_raw(); `remaining`
     * bytes are still to come (0: this was the last, LINE mode is back). */
    void (*on_raw)(srv_conn_t *c, void *ud, const char *p, size_t n, uint64_t remaining);
    /* Output fell to out_low after having reached out_high: produce more. */
    void (*on_writable)(srv_conn_t *c, void *ud);
    /* The TLS handshake (implicit or STARTTLS) finished: rc 0, or
     * PETREL_EIO (the connection then closes with SRV_CLOSE_TLS). */
    void (*on_tls)(srv_conn_t *c, void *ud, int rc);
    /* Idle or session timeout of an open connection: write a goodbye
     * ("* BYE", "421") if wanted; the connection then closes with a flush
     * (at most flush_ms). A timeout during a TLS handshake just closes. */
    void (*on_timeout)(srv_conn_t *c, void *ud, enum srv_timeout_kind kind);
    /* Last callback; the connection is freed when it returns. */
    void (*on_close)(srv_conn_t *c, void *ud, enum srv_close_reason why);
} srv_conn_cbs_t;

typedef struct srv_conn_settings {
    size_t max_line;     /* line length limit, line ending excluded (default 8192) */
    size_t out_high;     /* output at/above this: not writable, input paused (256 KiB) */
    size_t out_low;      /* drained to/below this: on_writable, input resumes (64 KiB) */
    size_t out_max;      /* a write past this fails: PETREL_ENOMEM and close (1 MiB) */
    uint32_t idle_ms;    /* no bytes read or written for this long (0: none; 10 min) */
    uint32_t session_ms; /* total lifetime (0: none; default 0) */
    uint32_t flush_ms;   /* srv_conn_close(c, true) waits at most this (5 s) */
} srv_conn_settings_t;

void srv_conn_settings_default(srv_conn_settings_t *s);

/* What the listener hands to the accept callback. */
typedef struct srv_accept {
    int fd; /* non-blocking, close-on-exec */
    struct sockaddr_storage peer;
    enum srv_tls_mode tls_mode;
    srv_limits_t *limits; /* a slot is held for limits_key (NULL: none) */
    srv_limits_key_t limits_key;
} srv_accept_t;

/* Creates the connection on `loop` (the loop the accept callback runs on) and
 * starts reading (implicit TLS: starts the handshake). Takes ownership of
 * a->fd and of the limits slot in every case, also on failure (closed and
 * released). `set`, `cbs` and `tls` are borrowed and must outlive the
 * connection (they belong to the listener / host). `tls` may be NULL when
 * tls_mode is NONE. 0, PETREL_ENOMEM, PETREL_EINVAL (IMPLICIT/STARTTLS
 * without tls), PETREL_EIO. */
int srv_conn_new(srv_loop_t *loop, const srv_accept_t *a, const srv_conn_settings_t *set,
                 const srv_conn_cbs_t *cbs, void *ud, srv_tls_t *tls, srv_conn_t **conn_r);

void srv_conn_set_ud(srv_conn_t *c, void *ud);
void *srv_conn_ud(const srv_conn_t *c);
uint64_t srv_conn_id(const srv_conn_t *c); /* process-unique, never 0 */
srv_loop_t *srv_conn_loop(const srv_conn_t *c);

/* ---------------------------------------------------------------- output */
/* Appends to the output buffer (copied); flushed after the current callback,
 * in one syscall for many small writes. Allowed before an implicit-TLS
 * handshake ends (sent encrypted after it). 0; PETREL_ENOMEM when out_max
 * would be exceeded (nothing appended, the connection is closed with
 * SRV_CLOSE_OVERFLOW); PETREL_ECLOSED when closing; PETREL_EINVAL between
 * srv_conn_starttls() and on_tls (it would go out in plaintext). */
int srv_conn_write(srv_conn_t *c, const void *p, size_t n);
int srv_conn_writef(srv_conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* False once output reached out_high, true again when on_writable fires. */
bool srv_conn_writable(const srv_conn_t *c);
size_t srv_conn_out_pending(const srv_conn_t *c);
/* Input bytes received and not yet delivered (after the line being handled). */
size_t srv_conn_in_pending(const srv_conn_t *c);

/* ---------------------------------------------------------------- input */
/* The next n bytes (n > 0) go to on_raw in chunks (replacing any count still
 * pending), then LINE mode resumes with the bytes after them, also those
 * already buffered. Usually called from on_line. 0 or PETREL_EINVAL. */
int srv_conn_read_raw(srv_conn_t *c, uint64_t n);
/* Changes the line limit (e.g. big for SMTP DATA). Must be >= 1. */
void srv_conn_set_max_line(srv_conn_t *c, size_t max_line);
/* No input is delivered (and no more is read) until resume; lines already
 * buffered are kept and delivered after srv_conn_resume_input(). Nestable:
 * no (one flag). */
void srv_conn_pause_input(srv_conn_t *c);
void srv_conn_resume_input(srv_conn_t *c);

/* ---------------------------------------------------------------- control */
/* Call after queueing the protocol's "go ahead" reply. All input already
 * buffered, and any arriving until that reply is flushed, is discarded; then
 * the handshake runs and on_tls reports the result. 0; PETREL_EINVAL when
 * already TLS, no TLS context, or not open; PETREL_ENOMEM. */
int srv_conn_starttls(srv_conn_t *c);
/* Closes: with flush, pending output is sent first (at most flush_ms), input
 * is ignored meanwhile. Idempotent. on_close follows (later, not nested). */
void srv_conn_close(srv_conn_t *c, bool flush);
/* Changes the timeouts (ms, 0 = none); the session one counts from accept. */
void srv_conn_set_timeouts(srv_conn_t *c, uint32_t idle_ms, uint32_t session_ms);

/* ---------------------------------------------------------------- info */
bool srv_conn_is_tls(const srv_conn_t *c); /* handshake completed */
/* "TLSv1.3" / "TLS_AES_256_GCM_SHA384"; NULL without TLS. Static strings
 * owned by OpenSSL, valid for the connection's lifetime. */
const char *srv_conn_tls_version(const srv_conn_t *c);
const char *srv_conn_tls_cipher(const srv_conn_t *c);
const struct sockaddr *srv_conn_peer(const srv_conn_t *c);
/* The peer address as text ("127.0.0.1", "::1") into buf; returns buf. */
const char *srv_conn_peer_str(const srv_conn_t *c, char *buf, size_t len);
bool srv_conn_is_loopback(const srv_conn_t *c);
bool srv_addr_is_loopback(const struct sockaddr *sa);
/* sizeof(struct srv_conn), for the memory budget. */
size_t srv_conn_sizeof(void);

#endif
