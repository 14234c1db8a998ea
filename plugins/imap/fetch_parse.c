/*
 * fetch_parse.c - FETCH attribute parsing: macros, simple items,
 * BODY[section]<partial> / BODY.PEEK / RFC822* and BINARY[.PEEK|.SIZE]
 * (RFC 3516) into struct imap_fetch.
 */
#include "fetch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fetch_simple(struct imap_fetch *f, const char *s)
{
    static const struct {
        const char *name;
        uint32_t bits;
    } items[] = {
        {"FLAGS", FETCH_FLAGS},
        {"UID", FETCH_UID},
        {"INTERNALDATE", FETCH_DATE},
        {"RFC822.SIZE", FETCH_SIZE},
        {"ENVELOPE", FETCH_ENVELOPE},
        {"BODY", FETCH_BODY},
        {"BODYSTRUCTURE", FETCH_BODYSTRUCTURE},
        {"MODSEQ", FETCH_MODSEQ},
        {"ALL", FETCH_FLAGS | FETCH_DATE | FETCH_SIZE | FETCH_ENVELOPE},
        {"FAST", FETCH_FLAGS | FETCH_DATE | FETCH_SIZE},
        {"FULL", FETCH_FLAGS | FETCH_DATE | FETCH_SIZE | FETCH_ENVELOPE | FETCH_BODY},
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        if (strcasecmp(s, items[i].name) == 0) {
            f->items |= items[i].bits;
            return 0;
        }
    }
    return -1;
}

/* HEADER.FIELDS names "(A B C)" into b->names. */
static int fetch_field_names(struct fetch_body *b, const char *s, size_t n)
{
    if (n < 3 || s[0] != '(' || s[n - 1] != ')' || n - 2 >= sizeof(b->namebuf)) return -1;
    memcpy(b->namebuf, s + 1, n - 2);
    b->namebuf[n - 2] = '\0';
    char *save = NULL;
    for (char *t = strtok_r(b->namebuf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (b->nnames >= FETCH_MAX_FIELDS) return -1;
        for (const char *c = t; *c; c++)
            if (*c <= ' ' || *c >= 0x7f || *c == ':' || *c == '(' || *c == ')' || *c == '"')
                return -1;
        b->names[b->nnames++] = t;
    }
    return b->nnames ? 0 : -1;
}

/* The text between '[' and ']': part number, then HEADER / TEXT / MIME / HEADER.FIELDS[.NOT]. */
static int fetch_section(struct fetch_body *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (s[i] == '0' && (i == 0 || s[i - 1] == '.')) return -1;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i < n && s[i] == '.')
            i++;
        else
            break;
    }
    size_t partlen = i;
    if (partlen && s[partlen - 1] == '.') partlen--;
    if (partlen >= sizeof(b->part)) return -1;
    memcpy(b->part, s, partlen);
    b->part[partlen] = '\0';
    const char *rest = s + i;
    size_t rn = n - i;
    if (rn == 0 && (i == partlen)) {
        b->kind = PETREL_SECTION_BODY;
        return 0;
    }
    if (rn == 6 && strncasecmp(rest, "HEADER", 6) == 0) {
        b->kind = PETREL_SECTION_HEADER;
    } else if (rn == 4 && strncasecmp(rest, "TEXT", 4) == 0) {
        b->kind = PETREL_SECTION_TEXT;
    } else if (rn == 4 && strncasecmp(rest, "MIME", 4) == 0 && partlen) {
        b->kind = PETREL_SECTION_MIME;
    } else if (rn > 18 && strncasecmp(rest, "HEADER.FIELDS.NOT ", 18) == 0) {
        b->kind = PETREL_SECTION_HEADER;
        b->fields = 2;
        return fetch_field_names(b, rest + 18, rn - 18);
    } else if (rn > 14 && strncasecmp(rest, "HEADER.FIELDS ", 14) == 0) {
        b->kind = PETREL_SECTION_HEADER;
        b->fields = 1;
        return fetch_field_names(b, rest + 14, rn - 14);
    } else {
        return -1;
    }
    return 0;
}

/* "<origin.length>" */
static int fetch_partial(struct fetch_body *b, const char *s, size_t n)
{
    uint64_t v[2] = {0, 0};
    int k = 0;
    if (n < 5 || s[0] != '<' || s[n - 1] != '>') return -1;
    for (size_t i = 1; i < n - 1; i++) {
        if (s[i] == '.' && k == 0) {
            k = 1;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || v[k] > (UINT32_MAX - 9) / 10) return -1;
        v[k] = v[k] * 10 + (uint64_t)(s[i] - '0');
    }
    if (k != 1 || v[1] == 0) return -1;
    b->partial = 1;
    b->p_off = v[0];
    b->p_len = v[1];
    return 0;
}

/*
 * RFC 3516: BINARY[part]<partial>, BINARY.PEEK[part]<partial>, BINARY.SIZE[part].
 * The section is a part number only ("" for the whole message).
 */
static int fetch_binary_item(struct imap_fetch *f, const char *s, size_t n)
{
    struct fetch_body *b = &f->bodies[f->nbodies];
    const char *name = "BINARY";
    size_t pre = 7;
    b->binary = FETCH_BINARY;
    if (strncasecmp(s, "BINARY.PEEK[", 12) == 0) {
        pre = 12;
        b->peek = 1;
    } else if (strncasecmp(s, "BINARY.SIZE[", 12) == 0) {
        pre = 12;
        b->peek = 1;
        b->binary = FETCH_BINARY_SIZE;
        name = "BINARY.SIZE";
    }
    const char *close = memchr(s + pre, ']', n - pre);
    if (!close) return -1;
    size_t seclen = (size_t)(close - (s + pre));
    if (fetch_section(b, s + pre, seclen) || b->kind != PETREL_SECTION_BODY) return -1;
    size_t after = (size_t)(close + 1 - s);
    if (after < n && (b->binary == FETCH_BINARY_SIZE || fetch_partial(b, close + 1, n - after)))
        return -1;
    int w = snprintf(b->label, sizeof(b->label), "%s[%.*s]", name, (int)seclen, s + pre);
    if (w < 0 || (size_t)w >= sizeof(b->label)) return -1;
    if (b->partial)
        snprintf(b->label + w, sizeof(b->label) - (size_t)w, "<%llu>",
                 (unsigned long long)b->p_off);
    f->nbodies++;
    return 0;
}

int imap_fetch_has_binary(const struct imap_fetch *f)
{
    for (unsigned i = 0; i < f->nbodies; i++)
        if (f->bodies[i].binary) return 1;
    return 0;
}

static int fetch_body_item(struct imap_fetch *f, const char *s, size_t n)
{
    if (f->nbodies >= FETCH_MAX_BODIES) return -1;
    struct fetch_body *b = &f->bodies[f->nbodies];
    memset(b, 0, sizeof(*b));
    size_t pre;
    if (strncasecmp(s, "BINARY", 6) == 0 && (s[6] == '[' || s[6] == '.'))
        return fetch_binary_item(f, s, n);
    if (strncasecmp(s, "BODY[", 5) == 0)
        pre = 5;
    else if (strncasecmp(s, "BODY.PEEK[", 10) == 0) {
        pre = 10;
        b->peek = 1;
    } else if (strcasecmp(s, "RFC822") == 0 || strcasecmp(s, "RFC822.HEADER") == 0 ||
               strcasecmp(s, "RFC822.TEXT") == 0) {
        b->kind = n == 6                       ? PETREL_SECTION_BODY
                  : s[7] == 'H' || s[7] == 'h' ? PETREL_SECTION_HEADER
                                               : PETREL_SECTION_TEXT;
        b->peek = b->kind == PETREL_SECTION_HEADER;
        snprintf(b->label, sizeof(b->label), "%s",
                 n == 6                             ? "RFC822"
                 : b->kind == PETREL_SECTION_HEADER ? "RFC822.HEADER"
                                                    : "RFC822.TEXT");
        f->nbodies++;
        return 0;
    } else {
        return -1;
    }
    const char *close = memchr(s + pre, ']', n - pre);
    if (!close) return -1;
    size_t seclen = (size_t)(close - (s + pre));
    if (fetch_section(b, s + pre, seclen)) return -1;
    size_t after = (size_t)(close + 1 - s);
    if (after < n && fetch_partial(b, close + 1, n - after)) return -1;
    int w = snprintf(b->label, sizeof(b->label), "BODY[%.*s]", (int)seclen, s + pre);
    if (w < 0 || (size_t)w >= sizeof(b->label)) return -1;
    if (b->partial)
        snprintf(b->label + w, sizeof(b->label) - (size_t)w, "<%llu>",
                 (unsigned long long)b->p_off);
    f->nbodies++;
    return 0;
}

static int fetch_item(struct imap_fetch *f, const char *s, size_t n)
{
    if (fetch_simple(f, s) == 0) return 0;
    return fetch_body_item(f, s, n);
}

/* "(CHANGEDSINCE n [VANISHED])" at args[i] to the end (RFC 7162 3.1.4.1, 3.2.6). */
static int fetch_modifiers(struct imap_parser *p, uint32_t i, struct imap_fetch *f)
{
    if (i == p->nargs) return 0;
    const struct imap_arg *a = &p->args[i];
    if (a->type != IMAP_ARG_LIST || a->end != p->nargs || a->end == i + 1) return -1;
    for (uint32_t j = i + 1; j < a->end;) {
        if (imap_arg_is_atom(p, &p->args[j], "VANISHED") && !f->vanished) {
            f->vanished = 1;
            j++;
            continue;
        }
        if (!imap_arg_is_atom(p, &p->args[j], "CHANGEDSINCE") || f->has_changedsince ||
            j + 1 >= a->end || p->args[j + 1].type != IMAP_ARG_ATOM || p->args[j + 1].len == 0)
            return -1;
        const char *s = imap_arg_str(p, &p->args[j + 1]);
        uint64_t v = 0;
        for (; *s; s++) {
            if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) return -1;
            v = v * 10 + (uint64_t)(*s - '0');
        }
        f->changedsince = v;
        f->has_changedsince = 1;
        f->items |= FETCH_MODSEQ;
        j += 2;
    }
    return 0;
}

int imap_fetch_parse(struct imap_parser *p, uint32_t i, struct imap_fetch *f)
{
    const struct imap_arg *a = &p->args[i];
    if (a->type == IMAP_ARG_ATOM)
        return fetch_item(f, imap_arg_str(p, a), a->len) ? -1 : fetch_modifiers(p, i + 1, f);
    if (a->type != IMAP_ARG_LIST || a->end == i + 1) return -1;
    for (uint32_t j = i + 1; j < a->end; j = p->args[j].end) {
        const struct imap_arg *x = &p->args[j];
        if (x->type != IMAP_ARG_ATOM) return -1;
        const char *s = imap_arg_str(p, x);
        /* macros only stand alone */
        if (strcasecmp(s, "ALL") == 0 || strcasecmp(s, "FAST") == 0 || strcasecmp(s, "FULL") == 0)
            return -1;
        if (fetch_item(f, s, x->len)) return -1;
    }
    return fetch_modifiers(p, a->end, f);
}
