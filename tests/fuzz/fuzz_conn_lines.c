/*
 * fuzz_conn_lines.c - libFuzzer target for core/server/conn_frame.c, the
 * connection's input framing (lines with a maximum length, CRLF or bare LF,
 * overflowed lines discarded to their LF, raw byte counts).
 *
 * Input layout: byte 0 = max_line - 1 (1..256), byte 1 = the read size the
 * input arrives in (1..256; 0 = everything at once), the rest is the stream.
 * The harness plays conn.c's part: a buffer of max(max_line + 2, 64) bytes
 * filled read by read, units taken until MORE. It plays a protocol too: a
 * line "RAW n" asks for n raw bytes (as an IMAP literal or SMTP BDAT does),
 * a line "MAX n" changes max_line (as a login does).
 *
 * Checked: every unit lies in the buffered bytes; a line holds no LF and its
 * flags match the bytes (CR before the LF, length over max_line); an overflow
 * only after max_line + 2 bytes without an LF; raw chunks never exceed what
 * was asked; the buffer never stalls (a full buffer always makes progress);
 * every byte is used exactly once. And the stream framed read by read gives
 * the same units as the stream framed at once, unless a line was too long.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server/conn.h"
#include "server/conn_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BUF_MIN 64u
#define FUZZ_RAW_MAX 100000u
#define FUZZ_MAX_LINE_MAX 1024u

struct fuzz_run {
    uint64_t hash;       /* FNV-1a over the lines and the raw bytes */
    unsigned long units; /* lines */
    int long_line;       /* a TOO_LONG or OVERFLOW line was seen */
};

static void fuzz_hash(struct fuzz_run *r, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        r->hash ^= b[i];
        r->hash *= 1099511628211ull;
    }
}

/* "WORD n" at the start of a line: n, or 0 when the line is not that. */
static uint64_t fuzz_cmd_num(const char *line, size_t len, const char *word)
{
    size_t wl = strlen(word);
    if (len <= wl || memcmp(line, word, wl) != 0) return 0;
    uint64_t n = 0;
    for (size_t i = wl; i < len && line[i] >= '0' && line[i] <= '9' && n < FUZZ_RAW_MAX; i++)
        n = n * 10 + (uint64_t)(line[i] - '0');
    return n;
}

/* Checks one unit of buf[0..avail) against the state it was taken with (before). */
static void fuzz_check_unit(const struct srv_frame *before, const struct srv_frame *after,
                            const char *buf, size_t avail, const struct srv_frame_unit *u)
{
    if (u->used > avail) __builtin_trap();
    const char *lf = avail ? memchr(buf, '\n', avail) : NULL;
    switch (u->kind) {
    case SRV_FRAME_RAW:
        if (before->raw_left == 0 || u->len == 0 || u->len != u->used ||
            u->len > before->raw_left || after->raw_left != before->raw_left - u->len ||
            (u->len < before->raw_left && u->len != avail))
            __builtin_trap();
        break;
    case SRV_FRAME_SKIP:
        if (!before->discarding || after->discarding || !lf || u->used != (size_t)(lf - buf) + 1)
            __builtin_trap();
        break;
    case SRV_FRAME_MORE:
        if (before->raw_left && avail) __builtin_trap();
        if (before->discarding) {
            if (lf || u->used != avail || !after->discarding) __builtin_trap();
        } else if (u->used != 0 || (avail >= before->max_line + 2 && !lf)) {
            __builtin_trap(); /* a stall: the buffer could fill up without progress */
        }
        break;
    case SRV_FRAME_LINE:
        if (before->raw_left || before->discarding || u->len > before->max_line ||
            memchr(buf, '\n', u->len))
            __builtin_trap();
        if (u->flags & SRV_LINE_OVERFLOW) {
            if (lf || avail < before->max_line + 2 || u->used != avail ||
                u->len != before->max_line || !after->discarding || u->flags != SRV_LINE_OVERFLOW)
                __builtin_trap();
            break;
        }
        if (!lf || u->used != (size_t)(lf - buf) + 1 || after->discarding) __builtin_trap();
        size_t full = u->used - 1;
        int crlf = full > 0 && buf[full - 1] == '\r';
        if (!!(u->flags & SRV_LINE_CRLF) != crlf) __builtin_trap();
        full -= (size_t)crlf;
        int too_long = full > before->max_line;
        if (!!(u->flags & SRV_LINE_TOO_LONG) != too_long) __builtin_trap();
        if (u->len != (too_long ? before->max_line : full)) __builtin_trap();
        break;
    default:
        __builtin_trap();
    }
}

/* Frames stream[0..n) arriving `step` bytes a read (0: all at once). */
static void fuzz_frame(const uint8_t *stream, size_t n, size_t max_line, size_t step,
                       struct fuzz_run *r)
{
    static char buf[FUZZ_MAX_LINE_MAX + 2 > FUZZ_BUF_MIN ? FUZZ_MAX_LINE_MAX + 2 : FUZZ_BUF_MIN];
    static char all[1 << 20];
    struct srv_frame f = {.raw_left = 0, .max_line = max_line, .discarding = false};
    size_t len = 0, in = 0, used_total = 0;
    int eof = 0;
    memset(r, 0, sizeof(*r));
    r->hash = 14695981039346656037ull;
    char *b = step ? buf : all;
    size_t cap_fixed = step ? 0 : sizeof(all);
    if (!step && n > sizeof(all)) return;
    for (;;) {
        /* conn.c's buffer: at least max_line + 2 bytes */
        size_t cap =
            cap_fixed ? cap_fixed : (f.max_line + 2 > FUZZ_BUF_MIN ? f.max_line + 2 : FUZZ_BUF_MIN);
        if (!eof && len < cap) {
            size_t want = step ? step : n;
            if (want > cap - len) want = cap - len;
            if (want > n - in) want = n - in;
            memcpy(b + len, stream + in, want);
            len += want;
            in += want;
            eof = in == n;
        }
        size_t off = 0;
        for (;;) {
            struct srv_frame before = f;
            struct srv_frame_unit u;
            srv_frame_next(&f, b + off, len - off, &u);
            fuzz_check_unit(&before, &f, b + off, len - off, &u);
            used_total += u.used;
            if (u.kind == SRV_FRAME_LINE) {
                r->units++;
                size_t hdr[2] = {u.flags, u.len};
                fuzz_hash(r, "L", 1);
                fuzz_hash(r, hdr, sizeof(hdr));
                fuzz_hash(r, b + off, u.len);
                if (u.flags & (SRV_LINE_TOO_LONG | SRV_LINE_OVERFLOW)) r->long_line = 1;
            } else if (u.kind == SRV_FRAME_RAW) { /* raw bytes hash alike however chunked */
                for (size_t i = 0; i < u.len; i++) {
                    fuzz_hash(r, "R", 1);
                    fuzz_hash(r, b + off + i, 1);
                }
            }
            const char *unit = b + off;
            off += u.used;
            if (u.kind == SRV_FRAME_MORE) break;
            if (u.kind == SRV_FRAME_LINE) { /* the protocol's part, as from on_line */
                uint64_t raw = fuzz_cmd_num(unit, u.len, "RAW ");
                uint64_t max = fuzz_cmd_num(unit, u.len, "MAX ");
                if (raw) f.raw_left = raw;
                if (max) f.max_line = max > FUZZ_MAX_LINE_MAX ? FUZZ_MAX_LINE_MAX : (size_t)max;
            }
        }
        memmove(b, b + off, len - off); /* conn_in_compact */
        len -= off;
        if (eof) break;
        /* a full buffer must have made room */
        size_t cap_now = f.max_line + 2 > FUZZ_BUF_MIN ? f.max_line + 2 : FUZZ_BUF_MIN;
        if (step && len >= cap_now && len >= cap) __builtin_trap();
    }
    /* what is left in the buffer at EOF is an unfinished line; everything else was used */
    if (used_total + len != n) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t max_line = (size_t)data[0] + 1;
    size_t step = data[1];
    struct fuzz_run chunked, whole;
    fuzz_frame(data + 2, size - 2, max_line, step ? step : 1, &chunked);
    fuzz_frame(data + 2, size - 2, max_line, 0, &whole);
    if (!chunked.long_line && !whole.long_line &&
        (chunked.units != whole.units || chunked.hash != whole.hash))
        __builtin_trap();
    return 0;
}
