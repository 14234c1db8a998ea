/*
 * params.c - Content-Type "type/subtype" and "; name=value" parameters.
 *
 * RFC 2231 (as Dovecot): "name*0", "name*1"... are merged in index order;
 * when the first segment is extended ("name*0*") the result is called
 * "name*" and its value stays encoded ("utf-8''%C3%A9..."); a lone "name*"
 * stays as it is. Plain parameters come first, merged ones after them.
 */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"
#include "util/str.h"

struct seg {
    size_t name_off, name_len, val_off, val_len;
    int idx;   /* continuation index, -1 when none */
    bool ext;  /* trailing '*' */
    bool used; /* merged already */
};

void mime_params_init(struct mime_params *ps)
{
    ps->n = 0;
    buf_init(&ps->store, MIME_MAX_PARAM_BYTES);
}

void mime_params_free(struct mime_params *ps)
{
    buf_free(&ps->store);
    ps->n = 0;
}

int mime_ctype_parse(const uint8_t *v, size_t n, struct mime_ctype *ct_r)
{
    const uint8_t *p = v, *end = v + n;
    memset(ct_r, 0, sizeof(*ct_r));
    mime_lex_cfws(&p, end, NULL);
    const uint8_t *t = p;
    size_t tl = mime_lex_token(&p, end);
    mime_lex_cfws(&p, end, NULL);
    if (tl == 0 || p >= end || *p != '/') return PETREL_EINVAL;
    p++;
    mime_lex_cfws(&p, end, NULL);
    const uint8_t *s = p;
    size_t sl = mime_lex_token(&p, end);
    if (sl == 0) return PETREL_EINVAL;
    ct_r->type = t;
    ct_r->type_len = tl;
    ct_r->subtype = s;
    ct_r->subtype_len = sl;
    ct_r->params_at = p;
    return 0;
}

/* A value: a quoted string, or (lenient) everything up to ';' or blank. */
static int param_value(const uint8_t **pp, const uint8_t *end, buf_t *store)
{
    if (*pp < end && **pp == '"') return mime_lex_quoted(pp, end, store);
    const uint8_t *p = *pp;
    while (p < end && *p != ';' && !mime_is_wsp(*p) && *p != '"')
        p++;
    int rc = buf_append(store, *pp, (size_t)(p - *pp));
    *pp = p;
    return rc;
}

/* Splits "name*3*" into base length, index and extended flag. */
static void seg_classify(const uint8_t *name, struct seg *s)
{
    size_t n = s->name_len;
    s->idx = -1;
    s->ext = false;
    if (n > 1 && name[n - 1] == '*') {
        s->ext = true;
        n--;
    }
    size_t d = n;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    if (d < n && d > 1 && name[d - 1] == '*' && n - d <= 4) {
        int idx = 0;
        for (size_t i = d; i < n; i++)
            idx = idx * 10 + (name[i] - '0');
        s->idx = idx;
        n = d - 1;
    }
    s->name_len = n;
}

static int params_add(struct mime_params *ps, size_t name_off, size_t name_len, size_t val_off,
                      size_t val_len)
{
    if (ps->n >= MIME_MAX_PARAMS) return 0; /* extra parameters are dropped */
    struct mime_param *p = &ps->p[ps->n++];
    p->name_off = name_off;
    p->name_len = name_len;
    p->val_off = val_off;
    p->val_len = val_len;
    return 0;
}

static bool seg_same_name(const struct mime_params *ps, const struct seg *a, const struct seg *b)
{
    const char *d = ps->store.data;
    return a->name_len == b->name_len &&
           str_ncasecmp(d + a->name_off, d + b->name_off, a->name_len) == 0;
}

/* Appends a copy of bytes already in the store (reserving first: the
 * append must not read from a block that realloc moved). */
static int store_dup(struct mime_params *ps, size_t off, size_t len)
{
    int rc = buf_reserve(&ps->store, len);
    if (rc) return rc;
    return buf_append(&ps->store, ps->store.data + off, len);
}

/* Merges the continuation segments whose base is segs[first]. */
static int params_merge(struct mime_params *ps, struct seg *segs, uint32_t nseg, uint32_t first)
{
    int rc;
    size_t name_off = ps->store.len;
    struct seg *f = &segs[first];
    bool ext = false;
    for (uint32_t j = 0; j < nseg; j++) {
        if (segs[j].idx == 0 && seg_same_name(ps, &segs[j], f)) ext = segs[j].ext;
    }
    if ((rc = store_dup(ps, f->name_off, f->name_len)) ||
        (ext && (rc = buf_append_byte(&ps->store, '*'))))
        return rc;
    size_t name_len = ps->store.len - name_off, val_off = ps->store.len;
    for (int want = 0;; want++) {
        uint32_t j = 0;
        while (j < nseg && !(segs[j].idx == want && seg_same_name(ps, &segs[j], f)))
            j++;
        if (j == nseg) break;
        if ((rc = store_dup(ps, segs[j].val_off, segs[j].val_len))) return rc;
    }
    for (uint32_t j = 0; j < nseg; j++) {
        if (segs[j].idx >= 0 && seg_same_name(ps, &segs[j], f)) segs[j].used = true;
    }
    return params_add(ps, name_off, name_len, val_off, ps->store.len - val_off);
}

static int params_collect(const uint8_t *p, const uint8_t *end, struct mime_params *ps,
                          struct seg *segs, uint32_t *nseg_r)
{
    uint32_t nseg = 0;
    int rc;
    while (p < end) {
        mime_lex_cfws(&p, end, NULL);
        if (p >= end) break;
        if (*p != ';') {
            while (p < end && *p != ';')
                p++; /* garbage up to the next parameter */
            continue;
        }
        p++;
        mime_lex_cfws(&p, end, NULL);
        const uint8_t *name = p;
        size_t nl = mime_lex_token(&p, end);
        mime_lex_cfws(&p, end, NULL);
        if (nl == 0 || p >= end || *p != '=') continue;
        p++;
        mime_lex_cfws(&p, end, NULL);
        struct seg s = {.name_off = ps->store.len, .name_len = nl};
        if ((rc = buf_append(&ps->store, name, nl))) return rc;
        s.val_off = ps->store.len;
        if ((rc = param_value(&p, end, &ps->store))) return rc;
        s.val_len = ps->store.len - s.val_off;
        seg_classify(name, &s);
        if (nseg < MIME_MAX_PARAMS) segs[nseg++] = s;
    }
    *nseg_r = nseg;
    return 0;
}

int mime_params_parse(const uint8_t *p, const uint8_t *end, struct mime_params *ps)
{
    struct seg segs[MIME_MAX_PARAMS];
    uint32_t nseg = 0;
    int rc = params_collect(p, end, ps, segs, &nseg);
    if (rc) return rc;
    for (uint32_t i = 0; i < nseg; i++) {
        if (segs[i].idx < 0) {
            size_t nl = segs[i].name_len + (segs[i].ext ? 1 : 0);
            if ((rc = params_add(ps, segs[i].name_off, nl, segs[i].val_off, segs[i].val_len)))
                return rc;
        }
    }
    for (uint32_t i = 0; i < nseg; i++) {
        if (segs[i].idx >= 0 && !segs[i].used && (rc = params_merge(ps, segs, nseg, i))) return rc;
    }
    return 0;
}

const uint8_t *mime_params_get(const struct mime_params *ps, const char *name, size_t *len_r)
{
    for (uint32_t i = 0; i < ps->n; i++) {
        const struct mime_param *p = &ps->p[i];
        if (mime_bytes_ieq((const uint8_t *)ps->store.data + p->name_off, p->name_len, name)) {
            *len_r = p->val_len;
            return (const uint8_t *)ps->store.data + p->val_off;
        }
    }
    return NULL;
}
