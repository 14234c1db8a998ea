/*
 * bodystruct.c - IMAP BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051 7.5.2)
 * from a parse tree, in Dovecot's shape: types and parameter names as the
 * message writes them; "charset" "us-ascii" added to text/ * parts without
 * one; all four extension fields written for every part.
 */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"

#define EMPTY_PART "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

struct bs_ctx {
    const struct mime_tree *t;
    buf_t *out;
    buf_t tmp;
    bool ext;
    size_t base;  /* out->len when the string started */
    buf_t *spans; /* NULL, or receives (start, end) pairs of extension data */
};

/* Notes that out[start, end) is extension data (absent from BODY). */
static int bs_span(struct bs_ctx *c, size_t start)
{
    if (!c->spans) return 0;
    size_t se[2] = {start - c->base, c->out->len - c->base};
    return buf_append(c->spans, se, sizeof(se));
}

static int sp(buf_t *out)
{
    return buf_append_byte(out, ' ');
}

static bool field_get(const struct mime_part *p, const uint8_t *msg, const char *name,
                      struct mime_field *f)
{
    return mime_hdr_find(msg + p->hdr_off, p->hdr_len, name, strlen(name), f) == 0;
}

/* A field's value unfolded, or NIL. */
static int bs_text_field(struct bs_ctx *c, const struct mime_part *p, const char *name)
{
    struct mime_field f;
    if (!field_get(p, c->t->msg, name, &f)) return buf_append(c->out, "NIL", 3);
    buf_reset(&c->tmp);
    int rc = mime_unfold(f.value, f.value_len, &c->tmp);
    if (rc) return rc;
    return mime_imap_append_string(c->out, (const uint8_t *)c->tmp.data, c->tmp.len);
}

/* ("name" "value" ...) or NIL; add_charset appends the text default. */
static int bs_params(struct bs_ctx *c, const struct mime_params *ps, bool add_charset)
{
    int rc;
    size_t n = 0;
    uint8_t *s = (uint8_t *)ps->store.data;
    if (add_charset && mime_params_get(ps, "charset", &n) != NULL) add_charset = false;
    if (ps->n == 0 && !add_charset) return buf_append(c->out, "NIL", 3);
    if ((rc = buf_append_byte(c->out, '('))) return rc;
    for (uint32_t i = 0; i < ps->n; i++) {
        const struct mime_param *p = &ps->p[i];
        if ((i && (rc = sp(c->out))) ||
            (rc = mime_imap_append_string(c->out, s + p->name_off, p->name_len)) ||
            (rc = sp(c->out)) || (rc = mime_imap_append_string(c->out, s + p->val_off, p->val_len)))
            return rc;
    }
    if (add_charset && (rc = buf_append_str(c->out, ps->n ? " \"charset\" \"us-ascii\""
                                                          : "\"charset\" \"us-ascii\"")))
        return rc;
    return buf_append_byte(c->out, ')');
}

/* ("type" params) of Content-Disposition, or NIL. */
static int bs_disposition(struct bs_ctx *c, const struct mime_part *p)
{
    struct mime_field f;
    if (!field_get(p, c->t->msg, "Content-Disposition", &f)) return buf_append(c->out, "NIL", 3);
    const uint8_t *q = f.value, *end = f.value + f.value_len;
    mime_lex_cfws(&q, end, NULL);
    const uint8_t *tok = q;
    size_t tl = mime_lex_token(&q, end);
    if (tl == 0) return buf_append(c->out, "NIL", 3);
    struct mime_params ps;
    mime_params_init(&ps);
    int rc = mime_params_parse(q, end, &ps);
    if (!rc && !(rc = buf_append_byte(c->out, '(')) &&
        !(rc = mime_imap_append_string(c->out, tok, tl)) && !(rc = sp(c->out)) &&
        !(rc = bs_params(c, &ps, false)))
        rc = buf_append_byte(c->out, ')');
    mime_params_free(&ps);
    return rc;
}

/* ("en" "de") of Content-Language, or NIL. */
static int bs_language(struct bs_ctx *c, const struct mime_part *p)
{
    struct mime_field f;
    if (!field_get(p, c->t->msg, "Content-Language", &f)) return buf_append(c->out, "NIL", 3);
    const uint8_t *q = f.value, *end = f.value + f.value_len;
    size_t start = c->out->len, count = 0;
    int rc = buf_append_byte(c->out, '(');
    while (!rc && q < end) {
        mime_lex_cfws(&q, end, NULL);
        const uint8_t *tok = q;
        size_t tl = mime_lex_token(&q, end);
        if (tl == 0) {
            if (q < end) q++; /* ',' or a stray special */
            continue;
        }
        if ((count++ && (rc = sp(c->out))) || (rc = mime_imap_append_string(c->out, tok, tl)))
            return rc;
    }
    if (rc) return rc;
    if (count == 0) {
        c->out->len = start;
        return buf_append(c->out, "NIL", 3);
    }
    return buf_append_byte(c->out, ')');
}

/* md5, disposition, language, location */
static int bs_ext_common(struct bs_ctx *c, const struct mime_part *p, bool md5)
{
    int rc;
    if (md5 && ((rc = sp(c->out)) || (rc = bs_text_field(c, p, "Content-MD5")))) return rc;
    if ((rc = sp(c->out)) || (rc = bs_disposition(c, p)) || (rc = sp(c->out)) ||
        (rc = bs_language(c, p)) || (rc = sp(c->out)))
        return rc;
    return bs_text_field(c, p, "Content-Location");
}

static int bs_part(struct bs_ctx *c, uint32_t idx);

static int bs_multipart(struct bs_ctx *c, uint32_t idx, const struct mime_ctype *ct,
                        const struct mime_params *ps)
{
    const struct mime_part *p = &c->t->parts[idx];
    int rc = buf_append_byte(c->out, '(');
    if (rc) return rc;
    if (p->nchildren == 0) {
        size_t at;
        if ((rc = buf_append_str(c->out, EMPTY_PART))) return rc;
        at = c->out->len;
        if (c->ext && ((rc = buf_append_str(c->out, " NIL NIL NIL NIL")) || (rc = bs_span(c, at))))
            return rc;
        if ((rc = buf_append_byte(c->out, ')'))) return rc;
    }
    for (uint32_t ch = p->first_child; ch != MIME_NONE; ch = c->t->parts[ch].next_sibling) {
        if ((rc = bs_part(c, ch))) return rc;
    }
    if ((rc = sp(c->out)) || (rc = mime_imap_append_string(c->out, ct->subtype, ct->subtype_len)))
        return rc;
    size_t at = c->out->len;
    if (c->ext && ((rc = sp(c->out)) || (rc = bs_params(c, ps, false)) ||
                   (rc = bs_ext_common(c, p, false)) || (rc = bs_span(c, at))))
        return rc;
    return buf_append_byte(c->out, ')');
}

static int bs_leaf_type(struct bs_ctx *c, const struct mime_part *p, const struct mime_ctype *ct,
                        const struct mime_params *ps, bool have_ct)
{
    int rc;
    if (!have_ct) {
        if (p->kind == MIME_PART_MESSAGE)
            return buf_append_str(c->out, "\"message\" \"rfc822\" NIL");
        return buf_append_str(c->out, "\"text\" \"plain\" (\"charset\" \"us-ascii\")");
    }
    if ((rc = mime_imap_append_string(c->out, ct->type, ct->type_len)) || (rc = sp(c->out)) ||
        (rc = mime_imap_append_string(c->out, ct->subtype, ct->subtype_len)) || (rc = sp(c->out)))
        return rc;
    return bs_params(c, ps, (p->flags & MIME_PF_TEXT) != 0);
}

static int bs_leaf(struct bs_ctx *c, uint32_t idx, const struct mime_ctype *ct,
                   const struct mime_params *ps, bool have_ct)
{
    const struct mime_part *p = &c->t->parts[idx];
    struct mime_field f;
    int rc;
    if ((rc = buf_append_byte(c->out, '(')) || (rc = bs_leaf_type(c, p, ct, ps, have_ct)) ||
        (rc = sp(c->out)) || (rc = bs_text_field(c, p, "Content-ID")) || (rc = sp(c->out)) ||
        (rc = bs_text_field(c, p, "Content-Description")) || (rc = sp(c->out)))
        return rc;
    if (field_get(p, c->t->msg, "Content-Transfer-Encoding", &f)) {
        const uint8_t *q = f.value, *end = f.value + f.value_len;
        mime_lex_cfws(&q, end, NULL);
        const uint8_t *tok = q;
        size_t tl = mime_lex_token(&q, end);
        rc = tl ? mime_imap_append_string(c->out, tok, tl) : buf_append_str(c->out, "\"7bit\"");
    } else {
        rc = buf_append_str(c->out, "\"7bit\"");
    }
    if (rc || (rc = buf_printf(c->out, " %zu", p->body_len))) return rc;
    if (p->kind == MIME_PART_MESSAGE) {
        uint32_t ch = p->first_child;
        if ((rc = sp(c->out)) || (rc = mime_imap_envelope_part(c->t, ch, c->out)) ||
            (rc = sp(c->out)) || (rc = bs_part(c, ch)) ||
            (rc = buf_printf(c->out, " %zu", c->t->parts[idx].body_lines)))
            return rc;
    } else if ((p->flags & MIME_PF_TEXT) && (rc = buf_printf(c->out, " %zu", p->body_lines))) {
        return rc;
    }
    size_t at = c->out->len;
    if (c->ext && ((rc = bs_ext_common(c, &c->t->parts[idx], true)) || (rc = bs_span(c, at))))
        return rc;
    return buf_append_byte(c->out, ')');
}

static int bs_part(struct bs_ctx *c, uint32_t idx)
{
    const struct mime_part *p = &c->t->parts[idx];
    struct mime_field f;
    struct mime_ctype ct;
    struct mime_params ps;
    bool have_ct = !(p->flags & MIME_PF_DEMOTED) && field_get(p, c->t->msg, "Content-Type", &f) &&
                   mime_ctype_parse(f.value, f.value_len, &ct) == 0;
    mime_params_init(&ps);
    int rc = have_ct ? mime_params_parse(ct.params_at, f.value + f.value_len, &ps) : 0;
    if (!rc) {
        if (p->kind == MIME_PART_MULTIPART)
            rc = bs_multipart(c, idx, &ct, &ps);
        else
            rc = bs_leaf(c, idx, &ct, &ps, have_ct);
    }
    mime_params_free(&ps);
    return rc;
}

int mime_imap_bodystructure_spans(const struct mime_tree *t, buf_t *out, buf_t *spans)
{
    struct bs_ctx c = {.t = t, .out = out, .ext = true, .base = out->len, .spans = spans};
    buf_init(&c.tmp, out->max);
    int rc = bs_part(&c, 0);
    buf_free(&c.tmp);
    return rc;
}

int mime_imap_bodystructure(const struct mime_tree *t, int extended, buf_t *out)
{
    struct bs_ctx c = {.t = t, .out = out, .ext = extended != 0, .base = out->len};
    buf_init(&c.tmp, out->max);
    int rc = bs_part(&c, 0);
    buf_free(&c.tmp);
    return rc;
}
