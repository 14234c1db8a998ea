/*
 * search_text.c - one message's text for SEARCH's HEADER/FROM/.../BODY/TEXT
 * keys, read from the store's cache: the parts come from the cached
 * BODYSTRUCTURE (never a re-parse), each text/ * part is cut out with
 * msg_section, its Content-Transfer-Encoding undone by the host (decode) and
 * its charset converted and case-folded here (search_fold.c). Attachments
 * (parts that are not text/ *) are not read. A message/rfc822 part adds its
 * header block. The folded body is built once per message, only when a BODY
 * or TEXT key is evaluated, and at most IMAP_SEARCH_TEXT_MAX bytes of it
 * (the rest of a bigger message is not searched).
 */
#include "imap_int.h"
#include "search.h"

#include <stdlib.h>
#include <string.h>

void imap_search_msg_init(struct imap_search_msg *m, petrel_read *r, uint32_t mailbox, uint32_t uid)
{
    memset(m, 0, sizeof(*m));
    m->r = r;
    m->mailbox = mailbox;
    m->uid = uid;
}

void imap_search_msg_clear(struct imap_search_msg *m)
{
    free(m->hdr);
    free(m->body);
    memset(m, 0, sizeof(*m));
}

/* A growable folded-text buffer bounded by IMAP_SEARCH_TEXT_MAX. */
struct fold_buf {
    char *p;
    size_t n, cap;
    int full;
};

/* Appends in (charset cs) folded, after a NUL separator when not first. 0 or -1 (no memory). */
static int fold_append(struct fold_buf *b, int cs, const char *in, size_t n)
{
    size_t room = IMAP_SEARCH_TEXT_MAX - b->n;
    if (room < 4) {
        b->full = 1;
        return 0;
    }
    room -= 1; /* the separator */
    if (IMAP_FOLD_MAX(n) > room || n > room) {
        n = room / 3;
        b->full = 1;
    }
    size_t need = b->n + 1 + IMAP_FOLD_MAX(n);
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        if (cap < need) cap = need;
        if (cap > IMAP_SEARCH_TEXT_MAX) cap = IMAP_SEARCH_TEXT_MAX;
        char *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    if (b->n) b->p[b->n++] = '\0';
    b->n += imap_fold(cs, in, n, b->p + b->n);
    return 0;
}

/* Section spec/kind of the message in one block; NULL when it has none. */
static const char *msg_part(struct imap_search_msg *m, const struct petrel_view *v,
                            const char *spec, int kind, size_t *len_r, int *enc_r, char **tmp_r)
{
    uint64_t off, len;
    *tmp_r = NULL;
    if (imap_host->msg_section(m->r, m->mailbox, m->uid, spec, strlen(spec), kind, &off, &len,
                               enc_r))
        return NULL;
    *len_r = (size_t)len;
    return imap_view_bytes(v, off, len, tmp_r);
}

/* A header block: encoded words decoded (RFC 2047), folded. */
static int fold_header(struct imap_search_msg *m, struct fold_buf *b, const char *h, size_t n)
{
    const char *d;
    size_t dn;
    if (imap_host->decode(m->r, PETREL_DECODE_RFC2047, h, n, &d, &dn) != 0) d = h, dn = n;
    return fold_append(b, IMAP_CS_UTF8, d, dn);
}

struct body_walk {
    struct imap_search_msg *m;
    struct petrel_view v;
    struct fold_buf b;
    int failed;
};

static int body_part_cb(const struct imap_bs_part *pt, void *arg)
{
    struct body_walk *w = arg;
    size_t len;
    int enc = PETREL_ENC_7BIT;
    int text = imap_bs_ieq(pt->type, pt->type_len, "text");
    char *tmp;
    if (!text && !pt->message) return 0; /* an attachment */
    const char *p =
        msg_part(w->m, &w->v, pt->spec, pt->message ? PETREL_SECTION_HEADER : PETREL_SECTION_BODY,
                 &len, &enc, &tmp);
    if (!p) return 0;
    int rc;
    if (pt->message) {
        rc = fold_header(w->m, &w->b, p, len);
    } else {
        const char *d = p;
        size_t dn = len, room = IMAP_SEARCH_TEXT_MAX - w->b.n;
        if (dn > room * 2) dn = len = room * 2; /* what can still be kept, decoded */
        if ((enc == PETREL_ENC_QP || enc == PETREL_ENC_BASE64) &&
            imap_host->decode(w->m->r, enc, p, len, &d, &dn) != 0)
            d = p, dn = len;
        int cs = pt->charset_len ? imap_charset_find(pt->charset, pt->charset_len) : IMAP_CS_UTF8;
        rc = fold_append(&w->b, cs, d, dn);
    }
    free(tmp);
    if (rc) {
        w->failed = 1;
        return 1;
    }
    return w->b.full ? 1 : 0;
}

/* The folded text parts, once per message. 0 or -1. */
static int msg_body_build(struct imap_search_msg *m)
{
    struct body_walk w;
    memset(&w, 0, sizeof(w));
    w.m = m;
    m->body_done = 1;
    const char *bs;
    size_t bn;
    if (imap_host->msg_view(m->r, m->mailbox, m->uid, &w.v)) return -1;
    if (imap_host->msg_bodystructure(m->r, m->mailbox, m->uid, 1, &bs, &bn) == 0) {
        (void)imap_bs_walk(bs, bn, body_part_cb, &w); /* malformed / capped: what was read */
    } else {                                          /* no structure: the raw body */
        size_t len;
        char *tmp;
        const char *p = msg_part(m, &w.v, "", PETREL_SECTION_TEXT, &len, NULL, &tmp);
        if (p && fold_append(&w.b, IMAP_CS_UTF8, p, len)) w.failed = 1;
        free(tmp);
    }
    m->body = w.b.p;
    m->body_len = w.b.n;
    return w.failed ? -1 : 0;
}

static int msg_hdr_build(struct imap_search_msg *m)
{
    struct petrel_view v;
    struct fold_buf b = {0};
    size_t len;
    char *tmp;
    m->hdr_done = 1;
    if (imap_host->msg_view(m->r, m->mailbox, m->uid, &v)) return -1;
    const char *h = msg_part(m, &v, "", PETREL_SECTION_HEADER, &len, NULL, &tmp);
    int rc = h ? fold_header(m, &b, h, len) : -1;
    free(tmp);
    m->hdr = b.p;
    m->hdr_len = b.n;
    return rc;
}

int imap_search_msg_text(struct imap_search_msg *m, int with_header, const char *needle, size_t nn)
{
    if (with_header) {
        if (!m->hdr_done) (void)msg_hdr_build(m);
        if (m->hdr && imap_memmem(m->hdr, m->hdr_len, needle, nn)) return 1;
    }
    if (!m->body_done) (void)msg_body_build(m);
    return m->body && imap_memmem(m->body, m->body_len, needle, nn) != NULL;
}

/* One field value (after the colon, folded lines included) holds needle. */
static int value_has(struct imap_search_msg *m, const char *v, size_t vn, const char *needle,
                     size_t nn)
{
    const char *d;
    size_t dn;
    if (nn == 0) return 1;
    if (imap_host->decode(m->r, PETREL_DECODE_RFC2047, v, vn, &d, &dn) != 0) d = v, dn = vn;
    char *f = malloc(IMAP_FOLD_MAX(dn) + 1);
    if (!f) return 0;
    size_t fn = imap_fold(IMAP_CS_UTF8, d, dn, f);
    int found = imap_memmem(f, fn, needle, nn) != NULL;
    free(f);
    return found;
}

int imap_search_msg_header(struct imap_search_msg *m, const char *name, const char *needle,
                           size_t nn)
{
    struct petrel_view v;
    size_t len, fn;
    char *tmp;
    const char *names[1] = {name}, *f;
    if (imap_host->msg_view(m->r, m->mailbox, m->uid, &v)) return 0;
    const char *h = msg_part(m, &v, "", PETREL_SECTION_HEADER, &len, NULL, &tmp);
    int found = 0;
    if (h && imap_host->header_fields(m->r, h, len, names, 1, 0, &f, &fn) == 0) {
        /* each field: "Name: value\r\n( continuation)*" */
        size_t i = 0;
        while (i < fn && !found) {
            const char *colon = memchr(f + i, ':', fn - i);
            if (!colon) break;
            size_t vs = (size_t)(colon - f) + 1, ve = vs;
            while (ve < fn &&
                   !(f[ve] == '\n' && (ve + 1 >= fn || (f[ve + 1] != ' ' && f[ve + 1] != '\t'))))
                ve++;
            found = value_has(m, f + vs, ve - vs, needle, nn);
            i = ve + 1;
        }
    }
    free(tmp);
    return found;
}
