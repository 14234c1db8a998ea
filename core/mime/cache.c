/*
 * cache.c - the serialized structure cache the store keeps next to a message.
 *
 * Layout, version 1 (all integers LEB128 varints):
 *   "PMC" version
 *   size virtual_size flags hdr_lines
 *   envelope_len envelope  bodystructure_len bodystructure
 *   cuts_len cuts: pairs (gap from the previous cut's end, length) of
 *     BODYSTRUCTURE bytes that are extension data; BODY is BODYSTRUCTURE
 *     without them (rebuilt on read: BODY is rarely fetched, and storing it
 *     whole would cost ~70 bytes per message)
 *   nparts, then per part in preorder:
 *     kind | encoding << 2 | flags << 5, nchildren,
 *     hdr_off - previous hdr_off, hdr_len, body_len, body_lines
 *     (body_off is hdr_off + hdr_len)
 *   FNV-1a 32 of everything before it, big-endian.
 * A one-part text message costs about 25 bytes plus ENVELOPE and BODYSTRUCTURE.
 * Readers check the checksum, every length against the bytes left, every
 * part against its parent's extent and the message size: corrupt bytes give
 * PETREL_ECORRUPT, never a read out of bounds.
 */
#include "mime/mime_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/str.h"

#define CACHE_MAGIC "PMC"
#define CACHE_MIN_LEN 8u
/* Smallest encoding of one part record: six one-byte varints. */
#define CACHE_PART_MIN 6u
#define CACHE_STACK_PARTS 16

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static int put_varint(buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        tmp[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    return buf_append(b, tmp, n);
}

static int put_blob(buf_t *b, const buf_t *s)
{
    int rc = put_varint(b, s->len);
    return rc ? rc : buf_append(b, s->data, s->len);
}

static int cache_put_parts(const struct mime_tree *t, buf_t *out)
{
    int rc = put_varint(out, t->nparts);
    size_t prev = 0;
    for (uint32_t i = 0; i < t->nparts && !rc; i++) {
        const struct mime_part *p = &t->parts[i];
        unsigned kf = p->kind | (unsigned)(p->encoding << 2) | (unsigned)(p->flags << 5);
        if ((rc = put_varint(out, kf)) || (rc = put_varint(out, p->nchildren)) ||
            (rc = put_varint(out, p->hdr_off - prev)) || (rc = put_varint(out, p->hdr_len)) ||
            (rc = put_varint(out, p->body_len)))
            return rc;
        rc = put_varint(out, p->body_lines);
        prev = p->hdr_off;
    }
    return rc;
}

/* The (start, end) size_t pairs from bodystruct.c as varint (gap, length). */
static int put_cuts(buf_t *c, const buf_t *spans)
{
    buf_t enc;
    size_t prev = 0, se[2];
    int rc = 0;
    buf_init(&enc, spans->len + 16);
    for (size_t i = 0; !rc && i + sizeof(se) <= spans->len; i += sizeof(se)) {
        memcpy(se, spans->data + i, sizeof(se));
        if (!(rc = put_varint(&enc, se[0] - prev))) rc = put_varint(&enc, se[1] - se[0]);
        prev = se[1];
    }
    if (!rc) rc = put_blob(c, &enc);
    buf_free(&enc);
    return rc;
}

static int cache_put(const struct mime_tree *t, const buf_t *env, const buf_t *spans,
                     const buf_t *bs, buf_t *c)
{
    int rc;
    const struct mime_facts *f = &t->facts;
    if ((rc = buf_append(c, CACHE_MAGIC, 3)) || (rc = buf_append_byte(c, MIME_CACHE_VERSION)) ||
        (rc = put_varint(c, f->size)) || (rc = put_varint(c, f->virtual_size)) ||
        (rc = put_varint(c, f->flags)) || (rc = put_varint(c, f->hdr_lines)) ||
        (rc = put_blob(c, env)) || (rc = put_blob(c, bs)) || (rc = put_cuts(c, spans)) ||
        (rc = cache_put_parts(t, c)))
        return rc;
    uint8_t sum[4];
    be32_put(sum, fnv1a((const uint8_t *)c->data, c->len));
    return buf_append(c, sum, 4);
}

/* When the IMAP strings outgrow their bounds (a megabyte Subject, thousands
 * of parts with long names), the message must still be stored: the cache
 * then describes it as one text/plain part with an empty ENVELOPE, and
 * mime_facts.flags says MIME_MF_DEGRADED. */
static int cache_degraded(struct mime_tree *t, buf_t *env, buf_t *spans, buf_t *bs, buf_t *c)
{
    struct mime_part *r = &t->parts[0];
    int rc;
    buf_reset(env);
    buf_reset(spans);
    buf_reset(bs);
    buf_reset(c);
    t->nparts = 1;
    r->kind = MIME_PART_LEAF;
    r->nchildren = 0;
    r->first_child = MIME_NONE;
    r->flags = MIME_PF_TEXT | MIME_PF_DEMOTED;
    t->facts.nparts = 1;
    t->facts.flags |= MIME_MF_DEGRADED;
    if ((rc = buf_append_str(env, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")) ||
        (rc = buf_printf(bs,
                         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" %zu %zu",
                         r->body_len, r->body_lines)))
        return rc;
    size_t se[2] = {bs->len, bs->len + 16};
    if ((rc = buf_append_str(bs, " NIL NIL NIL NIL)")) || (rc = buf_append(spans, se, sizeof(se))))
        return rc;
    return cache_put(t, env, spans, bs, c);
}

int mime_cache_build_ex(const uint8_t *msg, size_t len, const struct mime_limits *lim, buf_t *out)
{
    struct mime_tree *t = NULL;
    int rc = mime_parse(msg, len, lim, &t);
    if (rc) return rc;
    buf_t env, spans, bs, c;
    buf_init(&env, t->lim.max_imap);
    buf_init(&spans, ((size_t)t->nparts + 1) * 4 * sizeof(size_t)); /* <= 2 cuts a part */
    buf_init(&bs, t->lim.max_imap);
    buf_init(&c, MIME_CACHE_MAX);
    rc = mime_imap_envelope_part(t, 0, &env);
    if (!rc) rc = mime_imap_bodystructure_spans(t, &bs, &spans);
    if (!rc) rc = cache_put(t, &env, &spans, &bs, &c);
    if (rc == PETREL_ENOMEM) rc = cache_degraded(t, &env, &spans, &bs, &c);
    if (!rc) rc = buf_append(out, c.data, c.len);
    buf_free(&env);
    buf_free(&spans);
    buf_free(&bs);
    buf_free(&c);
    mime_tree_free(&t);
    return rc;
}

int mime_cache_build(const uint8_t *msg, size_t len, buf_t *out)
{
    return mime_cache_build_ex(msg, len, NULL, out);
}

/* ------------------------------------------------------------ reading */

struct rd {
    const uint8_t *p, *end;
};

static int rd_varint(struct rd *r, uint64_t *v_r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return PETREL_ECORRUPT;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1) return PETREL_ECORRUPT;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v_r = v;
            return 0;
        }
    }
    return PETREL_ECORRUPT;
}

static int rd_blob(struct rd *r, const uint8_t **p_r, size_t *n_r)
{
    uint64_t n;
    int rc = rd_varint(r, &n);
    if (rc) return rc;
    if (n > (uint64_t)(r->end - r->p)) return PETREL_ECORRUPT;
    *p_r = r->p;
    *n_r = (size_t)n;
    r->p += n;
    return 0;
}

struct view {
    uint64_t size, vsize, flags, hdr_lines, nparts;
    const uint8_t *env, *bs, *cuts;
    size_t env_len, bs_len, cuts_len;
    struct rd parts; /* the part records */
};

static int cache_open(const uint8_t *cache, size_t len, struct view *v)
{
    if (!cache || len < CACHE_MIN_LEN || memcmp(cache, CACHE_MAGIC, 3) != 0) return PETREL_ECORRUPT;
    if (cache[3] != MIME_CACHE_VERSION) return PETREL_EVERSION;
    if (be32_get(cache + len - 4) != fnv1a(cache, len - 4)) return PETREL_ECORRUPT;
    struct rd r = {cache + 4, cache + len - 4};
    int rc;
    if ((rc = rd_varint(&r, &v->size)) || (rc = rd_varint(&r, &v->vsize)) ||
        (rc = rd_varint(&r, &v->flags)) || (rc = rd_varint(&r, &v->hdr_lines)) ||
        (rc = rd_blob(&r, &v->env, &v->env_len)) || (rc = rd_blob(&r, &v->bs, &v->bs_len)) ||
        (rc = rd_blob(&r, &v->cuts, &v->cuts_len)) || (rc = rd_varint(&r, &v->nparts)))
        return rc;
    if (v->nparts == 0 || v->nparts > (uint64_t)(r.end - r.p) / CACHE_PART_MIN ||
        v->vsize < v->size || v->hdr_lines > v->size)
        return PETREL_ECORRUPT;
    v->parts = r;
    return 0;
}

/* One part record; checks it against the message size. */
static int rd_part(struct rd *r, uint64_t *prev, uint64_t size, struct mime_part *p)
{
    uint64_t kf, nch, delta, hlen, blen, lines;
    int rc;
    if ((rc = rd_varint(r, &kf)) || (rc = rd_varint(r, &nch)) || (rc = rd_varint(r, &delta)) ||
        (rc = rd_varint(r, &hlen)) || (rc = rd_varint(r, &blen)) || (rc = rd_varint(r, &lines)))
        return rc;
    if ((kf & 3) > MIME_PART_MESSAGE || ((kf >> 2) & 7) > MIME_ENC_OTHER || kf >> 7 ||
        delta > size - *prev || hlen > size - *prev - delta || blen > size - *prev - delta - hlen ||
        lines > blen || nch > UINT32_MAX)
        return PETREL_ECORRUPT;
    memset(p, 0, sizeof(*p));
    *prev += delta;
    p->hdr_off = (size_t)*prev;
    p->hdr_len = (size_t)hlen;
    p->body_off = (size_t)(*prev + hlen);
    p->body_len = (size_t)blen;
    p->body_lines = (size_t)lines;
    p->kind = (uint8_t)(kf & 3);
    p->encoding = (uint8_t)((kf >> 2) & 7);
    p->flags = (uint8_t)(kf >> 5);
    p->nchildren = (uint32_t)nch;
    p->parent = p->first_child = p->next_sibling = MIME_NONE;
    return 0;
}

/* Links part i under the deepest part still expecting children. */
static int link_part(struct mime_part *parts, uint32_t *rem, uint32_t *last, uint32_t *cur,
                     uint32_t i)
{
    while (*cur != MIME_NONE && rem[*cur] == 0)
        *cur = parts[*cur].parent;
    if (*cur == MIME_NONE) return PETREL_ECORRUPT; /* more records than the tree has room for */
    struct mime_part *par = &parts[*cur], *p = &parts[i];
    uint64_t pend = (uint64_t)par->body_off + par->body_len;
    if (p->hdr_off < par->body_off || (uint64_t)p->body_off + p->body_len > pend)
        return PETREL_ECORRUPT;
    if (last[*cur] == MIME_NONE)
        par->first_child = i;
    else
        parts[last[*cur]].next_sibling = i;
    last[*cur] = i;
    rem[*cur]--;
    p->parent = *cur;
    *cur = i;
    return 0;
}

static int parts_check_kind(const struct mime_part *p)
{
    if (p->kind == MIME_PART_LEAF && p->nchildren != 0) return PETREL_ECORRUPT;
    if (p->kind == MIME_PART_MESSAGE && p->nchildren != 1) return PETREL_ECORRUPT;
    return 0;
}

/* Decodes the part table into parts[nparts] (rem and last: scratch). */
static int parts_decode(struct view *v, struct mime_part *parts, uint32_t *rem, uint32_t *last)
{
    struct rd r = v->parts;
    uint64_t prev = 0;
    uint32_t n = (uint32_t)v->nparts, cur = MIME_NONE;
    int rc;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = rd_part(&r, &prev, v->size, &parts[i])) || (rc = parts_check_kind(&parts[i])))
            return rc;
        rem[i] = parts[i].nchildren;
        last[i] = MIME_NONE;
        if (i == 0) {
            if (parts[0].hdr_off != 0) return PETREL_ECORRUPT;
            cur = 0;
        } else if ((rc = link_part(parts, rem, last, &cur, i))) {
            return rc;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (rem[i]) return PETREL_ECORRUPT;
    }
    return r.p == r.end ? 0 : PETREL_ECORRUPT;
}

/* Runs fn over the decoded part table (on the stack when small). */
static int with_parts(struct view *v,
                      int (*fn)(const struct mime_part *, uint32_t, const struct view *, void *),
                      void *arg)
{
    struct mime_part sp[CACHE_STACK_PARTS];
    uint32_t srem[CACHE_STACK_PARTS], slast[CACHE_STACK_PARTS];
    uint32_t n = (uint32_t)v->nparts;
    struct mime_part *parts = sp;
    uint32_t *rem = srem, *last = slast;
    void *heap = NULL;
    if (n > CACHE_STACK_PARTS) {
        heap = malloc((size_t)n * (sizeof(*parts) + 2 * sizeof(uint32_t)));
        if (!heap) return PETREL_ENOMEM;
        parts = heap;
        rem = (uint32_t *)(parts + n);
        last = rem + n;
    }
    int rc = parts_decode(v, parts, rem, last);
    if (!rc && fn) rc = fn(parts, n, v, arg);
    free(heap);
    return rc;
}

int mime_cache_validate(const uint8_t *cache, size_t len)
{
    struct view v;
    int rc = cache_open(cache, len, &v);
    return rc ? rc : with_parts(&v, NULL, NULL);
}

int mime_cache_envelope(const uint8_t *cache, size_t len, const uint8_t **p_r, size_t *n_r)
{
    struct view v;
    int rc = cache_open(cache, len, &v);
    if (rc) return rc;
    *p_r = v.env;
    *n_r = v.env_len;
    return 0;
}

int mime_cache_bodystructure(const uint8_t *cache, size_t len, const uint8_t **p_r, size_t *n_r)
{
    struct view v;
    int rc = cache_open(cache, len, &v);
    if (rc) return rc;
    *p_r = v.bs;
    *n_r = v.bs_len;
    return 0;
}

/* BODYSTRUCTURE without the cuts; every cut checked against its bounds. */
static int body_rebuild(const struct view *v, buf_t *out)
{
    struct rd r = {v->cuts, v->cuts + v->cuts_len};
    uint64_t pos = 0, gap, n;
    int rc;
    while (r.p < r.end) {
        if ((rc = rd_varint(&r, &gap)) || (rc = rd_varint(&r, &n))) return rc;
        if (gap > v->bs_len - pos || n > v->bs_len - pos - gap) return PETREL_ECORRUPT;
        if ((rc = buf_append(out, v->bs + pos, (size_t)gap))) return rc;
        pos += gap + n;
    }
    return buf_append(out, v->bs + pos, (size_t)(v->bs_len - pos));
}

int mime_cache_body(const uint8_t *cache, size_t len, buf_t *out)
{
    struct view v;
    size_t start = out->len;
    int rc = cache_open(cache, len, &v);
    if (!rc && (rc = body_rebuild(&v, out)) != 0) {
        out->len = start; /* leave out as it was */
        if (out->data) out->data[start] = '\0';
    }
    return rc;
}

static int facts_fn(const struct mime_part *parts, uint32_t n, const struct view *v, void *arg)
{
    struct mime_facts *f = arg;
    memset(f, 0, sizeof(*f));
    f->size = v->size;
    f->virtual_size = v->vsize;
    f->flags = (uint32_t)v->flags;
    f->hdr_lines = v->hdr_lines;
    f->hdr_len = parts[0].hdr_len;
    f->body_off = parts[0].body_off;
    f->body_len = parts[0].body_len;
    f->body_lines = parts[0].body_lines;
    f->nparts = n;
    return 0;
}

int mime_cache_facts(const uint8_t *cache, size_t len, struct mime_facts *facts_r)
{
    struct view v;
    int rc = cache_open(cache, len, &v);
    return rc ? rc : with_parts(&v, facts_fn, facts_r);
}

struct section_arg {
    const char *spec;
    size_t spec_len;
    enum mime_section_kind kind;
    struct mime_section *sec;
};

static int section_fn(const struct mime_part *parts, uint32_t n, const struct view *v, void *arg)
{
    struct section_arg *a = arg;
    return mime_section_resolve(parts, n, v->size, a->spec, a->spec_len, a->kind, a->sec);
}

int mime_cache_section_info(const uint8_t *cache, size_t len, const char *spec, size_t spec_len,
                            enum mime_section_kind kind, struct mime_section *sec_r)
{
    struct view v;
    struct section_arg a = {spec, spec_len, kind, sec_r};
    int rc = cache_open(cache, len, &v);
    return rc ? rc : with_parts(&v, section_fn, &a);
}

int mime_cache_section(const uint8_t *cache, size_t len, const char *spec, size_t spec_len,
                       enum mime_section_kind kind, uint64_t *off_r, uint64_t *len_r)
{
    struct mime_section sec;
    int rc = mime_cache_section_info(cache, len, spec, spec_len, kind, &sec);
    if (rc) return rc;
    *off_r = sec.off;
    *len_r = sec.len;
    return 0;
}
