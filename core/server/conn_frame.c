/* conn_frame.c - a connection's input framing as a pure function. See conn_frame.h. */
#include "server/conn_frame.h"

#include <string.h>

#include "server/conn.h" /* SRV_LINE_* */

void srv_frame_next(struct srv_frame *f, const char *p, size_t avail, struct srv_frame_unit *u_r)
{
    memset(u_r, 0, sizeof(*u_r));
    u_r->kind = SRV_FRAME_MORE;
    if (avail == 0) return;
    if (f->raw_left > 0) {
        size_t n = avail < f->raw_left ? avail : (size_t)f->raw_left;
        f->raw_left -= n;
        u_r->kind = SRV_FRAME_RAW;
        u_r->len = u_r->used = n;
        return;
    }
    const char *lf = memchr(p, '\n', avail);
    if (f->discarding) {
        u_r->used = lf ? (size_t)(lf - p) + 1 : avail;
        f->discarding = lf == NULL;
        if (lf) u_r->kind = SRV_FRAME_SKIP;
        return;
    }
    if (!lf) {
        if (avail < f->max_line + 2) return;
        f->discarding = true;
        u_r->kind = SRV_FRAME_LINE;
        u_r->len = f->max_line;
        u_r->used = avail;
        u_r->flags = SRV_LINE_OVERFLOW;
        return;
    }
    size_t len = (size_t)(lf - p);
    u_r->kind = SRV_FRAME_LINE;
    u_r->used = len + 1;
    if (len > 0 && p[len - 1] == '\r') {
        len--;
        u_r->flags |= SRV_LINE_CRLF;
    }
    if (len > f->max_line) {
        len = f->max_line;
        u_r->flags |= SRV_LINE_TOO_LONG;
    }
    u_r->len = len;
}
