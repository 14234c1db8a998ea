/*
 * addr.c - RFC 5322 address lists as IMAP ENVELOPE address structures:
 * ((name adl mailbox host) ...), groups as (NIL NIL "group" NIL) ... (NIL NIL
 * NIL NIL). Lenient, after Dovecot: a missing local part or domain becomes
 * "MISSING_MAILBOX" / "MISSING_DOMAIN" (host NIL would mean a group), and a
 * comment after an address without display name becomes its name.
 */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"

struct addr_ctx {
    const uint8_t *p, *end;
    buf_t name, route, local, domain, comment, tmp;
    buf_t *out;
    size_t count;
    bool in_group;
};

/* Words (atoms with dots, quoted strings) joined by one space. */
static int addr_phrase(struct addr_ctx *c, buf_t *out)
{
    int rc;
    for (;;) {
        mime_lex_cfws(&c->p, c->end, NULL);
        if (c->p >= c->end) return 0;
        const uint8_t *w = c->p;
        size_t before = out->len;
        if (*w == '"') {
            if (out->len && (rc = buf_append_byte(out, ' '))) return rc;
            if ((rc = mime_lex_quoted(&c->p, c->end, out))) return rc;
            continue;
        }
        size_t n = mime_lex_atom(&c->p, c->end, true);
        if (n == 0) return 0;
        if ((before && (rc = buf_append_byte(out, ' '))) || (rc = buf_append(out, w, n))) return rc;
    }
}

/* A dot-atom or quoted string, or a domain literal "[...]". */
static int addr_dotted(struct addr_ctx *c, buf_t *out, bool domain)
{
    int rc;
    for (;;) {
        mime_lex_cfws(&c->p, c->end, &c->comment);
        if (c->p >= c->end) return 0;
        const uint8_t *w = c->p;
        if (*w == '"') {
            if ((rc = mime_lex_quoted(&c->p, c->end, out))) return rc;
        } else if (domain && *w == '[') {
            const uint8_t *q = memchr(w, ']', (size_t)(c->end - w));
            c->p = q ? q + 1 : c->end;
            if ((rc = buf_append(out, w, (size_t)(c->p - w)))) return rc;
        } else {
            size_t n = mime_lex_atom(&c->p, c->end, true);
            if (n == 0) return 0;
            if ((rc = buf_append(out, w, n))) return rc;
        }
    }
}

static int addr_emit_str(struct addr_ctx *c, const buf_t *b, const char *dflt)
{
    if (b->len) return mime_imap_append_string(c->out, (const uint8_t *)b->data, b->len);
    if (dflt) return mime_imap_append_string(c->out, (const uint8_t *)dflt, strlen(dflt));
    return buf_append(c->out, "NIL", 3);
}

static int addr_emit(struct addr_ctx *c)
{
    if (c->count >= MIME_MAX_ADDRS) return 0;
    int rc;
    buf_reset(&c->tmp);
    const buf_t *name = c->name.len ? &c->name : &c->comment;
    if ((rc = mime_unfold((const uint8_t *)name->data, name->len, &c->tmp))) return rc;
    if ((rc = buf_append_byte(c->out, '(')) || (rc = addr_emit_str(c, &c->tmp, NULL)) ||
        (rc = buf_append_byte(c->out, ' ')) || (rc = addr_emit_str(c, &c->route, NULL)) ||
        (rc = buf_append_byte(c->out, ' ')) ||
        (rc = addr_emit_str(c, &c->local, "MISSING_MAILBOX")) ||
        (rc = buf_append_byte(c->out, ' ')) ||
        (rc = addr_emit_str(c, &c->domain, "MISSING_DOMAIN")))
        return rc;
    c->count++;
    return buf_append_byte(c->out, ')');
}

static int addr_emit_group(struct addr_ctx *c, bool start)
{
    if (c->count >= MIME_MAX_ADDRS) return 0;
    c->count++;
    if (!start) return buf_append(c->out, "(NIL NIL NIL NIL)", 17);
    int rc;
    if ((rc = buf_append(c->out, "(NIL NIL ", 9)) || (rc = addr_emit_str(c, &c->name, NULL)))
        return rc;
    return buf_append(c->out, " NIL)", 5);
}

/* "<[@route,@route:]local@domain>" with *p == '<'. */
static int addr_angle(struct addr_ctx *c)
{
    int rc;
    c->p++;
    mime_lex_cfws(&c->p, c->end, NULL);
    if (c->p < c->end && *c->p == '@') {
        const uint8_t *r = c->p;
        while (c->p < c->end && *c->p != ':' && *c->p != '>')
            c->p++;
        for (const uint8_t *q = r; q < c->p; q++) {
            if (!mime_is_wsp(*q) && (rc = buf_append_byte(&c->route, (char)*q))) return rc;
        }
        if (c->p < c->end && *c->p == ':') c->p++;
    }
    if ((rc = addr_dotted(c, &c->local, false))) return rc;
    mime_lex_cfws(&c->p, c->end, NULL);
    if (c->p < c->end && *c->p == '@') {
        c->p++;
        if ((rc = addr_dotted(c, &c->domain, true))) return rc;
    }
    while (c->p < c->end && *c->p != '>' && *c->p != ',' && *c->p != ';')
        c->p++;
    if (c->p < c->end && *c->p == '>') c->p++;
    return 0;
}

static void addr_reset(struct addr_ctx *c)
{
    buf_reset(&c->name);
    buf_reset(&c->route);
    buf_reset(&c->local);
    buf_reset(&c->domain);
    buf_reset(&c->comment);
}

/* One mailbox, group start or group end at c->p. */
static int addr_one(struct addr_ctx *c)
{
    int rc;
    const uint8_t *start = c->p;
    addr_reset(c);
    if ((rc = addr_phrase(c, &c->name))) return rc;
    if (c->p < c->end && *c->p == '<') {
        if ((rc = addr_angle(c))) return rc;
        mime_lex_cfws(&c->p, c->end, NULL);
        return addr_emit(c);
    }
    if (c->p < c->end && *c->p == ':' && !c->in_group && c->name.len > 0) {
        c->p++;
        c->in_group = true;
        return addr_emit_group(c, true);
    }
    /* an addr-spec: re-read the words as a local part */
    c->p = start;
    buf_reset(&c->name);
    if ((rc = addr_dotted(c, &c->local, false))) return rc;
    mime_lex_cfws(&c->p, c->end, NULL);
    if (c->p < c->end && *c->p == '@') {
        c->p++;
        if ((rc = addr_dotted(c, &c->domain, true))) return rc;
    }
    mime_lex_cfws(&c->p, c->end, &c->comment);
    if (c->local.len == 0 && c->domain.len == 0) {
        if (c->p < c->end && c->p == start) c->p++; /* a stray special: skip it */
        return 0;
    }
    return addr_emit(c);
}

static int addr_list(struct addr_ctx *c)
{
    int rc;
    while (c->p < c->end) {
        mime_lex_cfws(&c->p, c->end, NULL);
        if (c->p >= c->end) break;
        if (*c->p == ',') {
            c->p++;
        } else if (*c->p == ';') {
            c->p++;
            if (c->in_group) {
                c->in_group = false;
                if ((rc = addr_emit_group(c, false))) return rc;
            }
        } else if ((rc = addr_one(c))) {
            return rc;
        }
    }
    if (c->in_group) return addr_emit_group(c, false);
    return 0;
}

int mime_imap_addresses(const uint8_t *v, size_t n, buf_t *out, size_t *count_r)
{
    struct addr_ctx c = {.p = v, .end = v + n, .out = out};
    buf_t *bufs[] = {&c.name, &c.route, &c.local, &c.domain, &c.comment, &c.tmp};
    for (size_t i = 0; i < 6; i++)
        buf_init(bufs[i], n + 64);
    size_t start = out->len;
    int rc = buf_append_byte(out, '(');
    if (!rc) rc = addr_list(&c);
    if (!rc && c.count == 0) {
        out->len = start;
        rc = buf_append(out, "NIL", 3);
    } else if (!rc) {
        rc = buf_append_byte(out, ')');
    }
    for (size_t i = 0; i < 6; i++)
        buf_free(bufs[i]);
    *count_r = c.count;
    return rc;
}
