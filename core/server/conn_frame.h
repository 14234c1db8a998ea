/*
 * conn_frame.h - the input framing of a connection (conn.c), as a pure
 * function: which unit the buffered input holds next (a line, a chunk of raw
 * bytes asked for by srv_conn_read_raw(), or nothing complete yet) and how
 * many bytes it uses. No I/O, no allocation, no callbacks; fuzzed by
 * tests/fuzz/fuzz_conn_lines.c.
 *
 * Rules (the SRV_LINE_* flags are conn.h's):
 *  - raw_left > 0: the next min(avail, raw_left) bytes are a RAW unit.
 *  - a line ends at LF; a CR before the LF is not part of it (SRV_LINE_CRLF);
 *    a line longer than max_line is cut to max_line bytes (SRV_LINE_TOO_LONG).
 *  - max_line + 2 bytes without an LF: the first max_line bytes are a line
 *    flagged SRV_LINE_OVERFLOW, all avail bytes are used, and the frame
 *    discards input up to and including the next LF (SKIP units, or MORE
 *    units that use every byte), without another line.
 *  - otherwise MORE: nothing complete; used is 0 (the bytes stay buffered),
 *    which happens only while avail < max_line + 2, so a buffer of at least
 *    max_line + 2 bytes always makes progress.
 */
#ifndef PETREL_SERVER_CONN_FRAME_H
#define PETREL_SERVER_CONN_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The framing state a connection keeps between units. */
struct srv_frame {
    uint64_t raw_left; /* bytes still to pass raw (srv_conn_read_raw) */
    size_t max_line;   /* >= 1 */
    bool discarding;   /* dropping the rest of an overflowed line, to its LF */
};

enum srv_frame_kind {
    SRV_FRAME_MORE = 0, /* nothing complete: read more (used bytes were dropped) */
    SRV_FRAME_LINE,     /* a line: p[0..len), flags SRV_LINE_* */
    SRV_FRAME_RAW,      /* raw bytes: p[0..len), f->raw_left is what remains after */
    SRV_FRAME_SKIP      /* the end of a discarded line: nothing to deliver, go on */
};

struct srv_frame_unit {
    enum srv_frame_kind kind;
    size_t len;     /* LINE/RAW: the unit's bytes, from the start of the input */
    size_t used;    /* input bytes the unit consumes (<= avail) */
    unsigned flags; /* LINE: SRV_LINE_* */
};

/*
 * The next unit of p[0..avail) (p may be NULL when avail is 0). Updates
 * f->raw_left and f->discarding; reads p only.
 */
void srv_frame_next(struct srv_frame *f, const char *p, size_t avail, struct srv_frame_unit *u_r);

#endif
