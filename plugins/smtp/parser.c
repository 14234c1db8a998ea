/*
 * parser.c - pure SMTP parsers: command lines, MAIL/RCPT paths and their
 * ESMTP parameters, and the DATA/BDAT message state machine (see parser.h).
 */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ helpers */

static int smtp_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive: does p[0..n) start with the NUL-terminated word w? */
static int smtp_prefix(const char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n < wl)
        return 0;
    for (size_t i = 0; i < wl; i++)
        if (smtp_lower((unsigned char)p[i]) != smtp_lower((unsigned char)w[i]))
            return 0;
    return 1;
}

static int smtp_eq(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && smtp_prefix(p, n, w);
}

/* ------------------------------------------------------------ commands */

static const char *const smtp_verb_names[SMTP_V_COUNT] = {
    [SMTP_V_HELO] = "HELO", [SMTP_V_EHLO] = "EHLO", [SMTP_V_LHLO] = "LHLO",
    [SMTP_V_MAIL] = "MAIL", [SMTP_V_RCPT] = "RCPT", [SMTP_V_DATA] = "DATA",
    [SMTP_V_BDAT] = "BDAT", [SMTP_V_RSET] = "RSET", [SMTP_V_NOOP] = "NOOP",
    [SMTP_V_QUIT] = "QUIT", [SMTP_V_VRFY] = "VRFY", [SMTP_V_EXPN] = "EXPN",
    [SMTP_V_HELP] = "HELP", [SMTP_V_STARTTLS] = "STARTTLS", [SMTP_V_AUTH] = "AUTH",
};

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd_r)
{
    memset(cmd_r, 0, sizeof(*cmd_r));
    if (len == 0)
        return PETREL_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == 0 || c == '\r' || c == '\n')
            return PETREL_EINVAL;
    }
    size_t w = 0;
    while (w < len && line[w] != ' ')
        w++;
    for (int v = 1; v < SMTP_V_COUNT; v++) {
        if (smtp_eq(line, w, smtp_verb_names[v])) {
            cmd_r->verb = (enum smtp_verb)v;
            break;
        }
    }
    cmd_r->arg = w < len ? line + w + 1 : line + len;
    cmd_r->arglen = w < len ? len - w - 1 : 0;
    /* trailing spaces are tolerated (many clients send them) */
    while (cmd_r->arglen > 0 && cmd_r->arg[cmd_r->arglen - 1] == ' ')
        cmd_r->arglen--;
    return 0;
}

/* ------------------------------------------------------------ paths */

/* Characters allowed in an address (outside quotes): printable, no specials. */
static int smtp_addr_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != '(' && c != ')' &&
           c != ',' && c != ';' && c != '\\' && c != '[' && c != ']';
}

/* Checks local@domain (a quoted local part allowed) and copies it to p. */
static int smtp_addr_check(const char *a, size_t n, int is_mail, struct smtp_path *p)
{
    if (n == 0) {
        if (!is_mail)
            return PETREL_EINVAL;
        p->addr[0] = '\0';
        p->addrlen = 0;
        return 0;
    }
    if (n > SMTP_PATH_MAX - 2)
        return PETREL_ETOOBIG;
    size_t i = 0, at = 0;
    int has_at = 0;
    if (a[0] == '"') {
        for (i = 1; i < n && a[i] != '"'; i++) {
            if (a[i] == '\\' && i + 1 < n)
                i++;
            if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
                return PETREL_EINVAL;
        }
        if (i >= n)
            return PETREL_EINVAL;
        i++;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c >= 0x80)
            p->non_ascii = 1;
        if (c == '@') {
            if (has_at)
                return PETREL_EINVAL;
            has_at = 1;
            at = i;
        } else if (!smtp_addr_char(c) && !(c == '[' || c == ']' || c == ':')) {
            return PETREL_EINVAL;
        }
    }
    if (!has_at) {
        /* RFC 5321 4.1.1.3: RCPT TO:<Postmaster> without a domain */
        if (is_mail || !smtp_eq(a, n, "postmaster"))
            return PETREL_EINVAL;
    } else if (at == 0 || at + 1 == n || n - at - 1 > SMTP_DOMAIN_MAX) {
        return PETREL_EINVAL;
    }
    memcpy(p->addr, a, n);
    p->addr[n] = '\0';
    p->addrlen = n;
    return 0;
}

/* Parses a decimal number of at most 20 digits, checking overflow first. */
static int smtp_u64(const char *p, size_t n, uint64_t *v_r)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return PETREL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return PETREL_EINVAL;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return PETREL_EINVAL;
        v = v * 10 + d;
    }
    *v_r = v;
    return 0;
}

/* Copies an xtext/printable parameter value (DSN ENVID, ORCPT) into a bounded field. */
static int smtp_copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    if (n == 0 || n >= cap)
        return PETREL_ENOTSUP;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
            return PETREL_ENOTSUP;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

static int smtp_notify_parse(const char *v, size_t n, unsigned *bits_r)
{
    unsigned bits = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        if (smtp_eq(v + i, j - i, "NEVER"))
            bits |= SMTP_NOTIFY_NEVER;
        else if (smtp_eq(v + i, j - i, "SUCCESS"))
            bits |= SMTP_NOTIFY_SUCCESS;
        else if (smtp_eq(v + i, j - i, "FAILURE"))
            bits |= SMTP_NOTIFY_FAILURE;
        else if (smtp_eq(v + i, j - i, "DELAY"))
            bits |= SMTP_NOTIFY_DELAY;
        else
            return PETREL_ENOTSUP;
        i = j + 1;
    }
    /* NEVER excludes the others (RFC 3461 4.1) */
    if (bits == 0 || ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER))
        return PETREL_ENOTSUP;
    *bits_r = bits;
    return 0;
}

static int smtp_param_mail(struct smtp_path *p, const char *k, size_t kn, const char *v,
                           size_t vn, int has_v)
{
    if (smtp_eq(k, kn, "SIZE"))
        return has_v && smtp_u64(v, vn, &p->size) == 0 ? (p->has_size = 1, 0) : PETREL_ENOTSUP;
    if (smtp_eq(k, kn, "BODY")) {
        if (has_v && smtp_eq(v, vn, "7BIT"))
            p->body = SMTP_BODY_7BIT;
        else if (has_v && smtp_eq(v, vn, "8BITMIME"))
            p->body = SMTP_BODY_8BITMIME;
        else if (has_v && smtp_eq(v, vn, "BINARYMIME"))
            p->body = SMTP_BODY_BINARYMIME;
        else
            return PETREL_ENOTSUP;
        return 0;
    }
    if (smtp_eq(k, kn, "SMTPUTF8"))
        return has_v ? PETREL_ENOTSUP : (p->smtputf8 = 1, 0);
    if (smtp_eq(k, kn, "RET")) {
        if (has_v && smtp_eq(v, vn, "FULL"))
            p->ret = SMTP_RET_FULL;
        else if (has_v && smtp_eq(v, vn, "HDRS"))
            p->ret = SMTP_RET_HDRS;
        else
            return PETREL_ENOTSUP;
        return 0;
    }
    if (smtp_eq(k, kn, "ENVID"))
        return has_v ? smtp_copy_value(p->envid, sizeof(p->envid), v, vn) : PETREL_ENOTSUP;
    if (smtp_eq(k, kn, "AUTH")) /* RFC 4954 5: accepted, not trusted */
        return has_v ? 0 : PETREL_ENOTSUP;
    return PETREL_ENOTSUP;
}

static int smtp_param_rcpt(struct smtp_path *p, const char *k, size_t kn, const char *v,
                           size_t vn, int has_v)
{
    if (!has_v)
        return PETREL_ENOTSUP;
    if (smtp_eq(k, kn, "NOTIFY"))
        return smtp_notify_parse(v, vn, &p->notify);
    if (smtp_eq(k, kn, "ORCPT"))
        return smtp_copy_value(p->orcpt, sizeof(p->orcpt), v, vn);
    return PETREL_ENOTSUP;
}

static int smtp_params_parse(const char *s, size_t n, int is_mail, struct smtp_path *p)
{
    size_t i = 0;
    unsigned count = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        if (i == n)
            break;
        if (++count > SMTP_PARAMS_MAX)
            return PETREL_ENOTSUP;
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        size_t kn = eq ? (size_t)(eq - (s + i)) : j - i;
        const char *v = eq ? eq + 1 : s + j;
        size_t vn = eq ? (size_t)(s + j - v) : 0;
        int rc = is_mail ? smtp_param_mail(p, s + i, kn, v, vn, eq != NULL)
                         : smtp_param_rcpt(p, s + i, kn, v, vn, eq != NULL);
        if (rc)
            return rc;
        i = j;
    }
    return 0;
}

int smtp_path_parse(const char *arg, size_t len, int is_mail, struct smtp_path *p_r)
{
    memset(p_r, 0, sizeof(*p_r));
    const char *kw = is_mail ? "FROM:" : "TO:";
    if (!smtp_prefix(arg, len, kw))
        return PETREL_EINVAL;
    size_t i = strlen(kw);
    while (i < len && arg[i] == ' ') /* "MAIL FROM: <a@b>" is common enough */
        i++;
    if (i >= len || arg[i] != '<')
        return PETREL_EINVAL;
    const char *end = memchr(arg + i, '>', len - i);
    if (!end)
        return PETREL_EINVAL;
    const char *a = arg + i + 1;
    size_t an = (size_t)(end - a);
    /* a quoted local part may hold '>': find the closing one after the quotes */
    if (an > 0 && a[0] == '"') {
        const char *q = a + 1;
        while (q < arg + len && *q != '"') {
            if (*q == '\\')
                q++;
            q++;
        }
        if (q >= arg + len)
            return PETREL_EINVAL;
        end = memchr(q, '>', (size_t)(arg + len - q));
        if (!end)
            return PETREL_EINVAL;
        an = (size_t)(end - a);
    }
    /* an obsolete source route "@a,@b:user@d" is accepted and ignored (RFC 5321 4.1.2) */
    if (an > 0 && a[0] == '@') {
        const char *colon = memchr(a, ':', an);
        if (!colon)
            return PETREL_EINVAL;
        an -= (size_t)(colon + 1 - a);
        a = colon + 1;
    }
    int rc = smtp_addr_check(a, an, is_mail, p_r);
    if (rc)
        return rc;
    size_t rest = (size_t)(arg + len - (end + 1));
    if (rest > 0 && end[1] != ' ')
        return PETREL_EINVAL;
    return smtp_params_parse(end + 1, rest, is_mail, p_r);
}

const char *smtp_addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

/* ------------------------------------------------------------ buffer */

int smtp_buf_append(struct smtp_buf *b, const void *p, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return PETREL_ENOMEM;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap = cap > b->max / 2 ? b->max : cap * 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return PETREL_ENOMEM;
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void smtp_buf_reset(struct smtp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------ DATA */

void smtp_data_begin(struct smtp_data *d, uint64_t max, int reject_bare_eol)
{
    smtp_buf_reset(&d->buf);
    d->buf.max = max > SIZE_MAX ? SIZE_MAX : (size_t)max;
    d->max = max;
    d->size = 0;
    d->reject_bare_eol = reject_bare_eol;
    d->err = SMTP_DERR_NONE;
}

static void smtp_data_fail(struct smtp_data *d, int err)
{
    if (d->err == SMTP_DERR_NONE)
        d->err = err;
}

/* Stores n bytes, or only counts them once an error stuck. */
static void smtp_data_put(struct smtp_data *d, const void *p, size_t n)
{
    if (n > d->max || d->size > d->max - n) {
        d->size = d->max + 1;
        smtp_data_fail(d, SMTP_DERR_SIZE);
    } else {
        d->size += n;
    }
    if (d->err != SMTP_DERR_NONE) {
        smtp_buf_reset(&d->buf); /* an erroneous message is drained, not kept */
        return;
    }
    if (smtp_buf_append(&d->buf, p, n))
        smtp_data_fail(d, SMTP_DERR_NOMEM);
}

int smtp_data_line(struct smtp_data *d, const char *line, size_t len, unsigned flags)
{
    if (len == 1 && line[0] == '.' && !(flags & SMTP_LINE_TOO_LONG)) {
        if ((flags & SMTP_LINE_BARE_LF) && d->reject_bare_eol)
            smtp_data_fail(d, SMTP_DERR_BARE_EOL);
        return 1;
    }
    if (flags & SMTP_LINE_TOO_LONG)
        smtp_data_fail(d, SMTP_DERR_LINE);
    if (d->reject_bare_eol && ((flags & SMTP_LINE_BARE_LF) || memchr(line, '\r', len)))
        smtp_data_fail(d, SMTP_DERR_BARE_EOL);
    if (memchr(line, '\0', len))
        smtp_data_fail(d, SMTP_DERR_NUL);
    if (len > 0 && line[0] == '.') { /* RFC 5321 4.5.2: drop the stuffed dot */
        line++;
        len--;
    }
    smtp_data_put(d, line, len);
    smtp_data_put(d, "\r\n", 2);
    return 0;
}

void smtp_data_raw(struct smtp_data *d, const void *p, size_t n)
{
    smtp_data_put(d, p, n);
}

void smtp_data_free(struct smtp_data *d)
{
    smtp_buf_reset(&d->buf);
    d->size = 0;
    d->err = SMTP_DERR_NONE;
}
