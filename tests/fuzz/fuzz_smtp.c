/*
 * fuzz_smtp.c - libFuzzer target for plugins/smtp/parser.c: the command
 * parser, MAIL/RCPT paths with their parameters, and the DATA/BDAT state
 * machine.
 *
 * Input layout: byte 0 holds options (bit 0: refuse bare LF/CR; bits 1-7:
 * the message size limit in KB, 1..128); the rest is cut into lines at '\n'
 * the way petreld's host does (a CR before the LF is stripped, else the line
 * is flagged bare-LF; past SMTP_LINE_MAX it is cut and flagged too long).
 * Lines are commands until a DATA line, then message lines until the "."; a
 * "BDAT n" line feeds the next n bytes raw. Invariants are checked throughout.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp/parser.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_smtp_check_path(const struct smtp_path *p)
{
    if (p->addrlen != strlen(p->addr) || p->addrlen > SMTP_PATH_MAX ||
        strlen(p->envid) > SMTP_ENVID_MAX || strlen(p->orcpt) > SMTP_PATH_MAX)
        __builtin_trap();
}

static void fuzz_smtp_check_data(const struct smtp_data *d)
{
    if (d->buf.len > d->buf.max || d->buf.len > d->buf.cap)
        __builtin_trap();
    if (d->err == SMTP_DERR_NONE && d->buf.len != d->size)
        __builtin_trap();
    if (d->err == SMTP_DERR_SIZE && d->size <= d->max)
        __builtin_trap();
}

static void fuzz_smtp_command(struct smtp_data *d, int *in_data, const char *line, size_t len,
                              const uint8_t **rest, size_t *restn)
{
    struct smtp_cmd c;
    if (smtp_cmd_parse(line, len, &c) != 0)
        return;
    if (c.arg < line || c.arg + c.arglen > line + len)
        __builtin_trap();
    if (c.verb == SMTP_V_MAIL || c.verb == SMTP_V_RCPT) {
        struct smtp_path p;
        if (smtp_path_parse(c.arg, c.arglen, c.verb == SMTP_V_MAIL, &p) == 0) {
            fuzz_smtp_check_path(&p);
            (void)smtp_addr_domain(p.addr);
        }
    } else if (c.verb == SMTP_V_DATA) {
        *in_data = 1;
    } else if (c.verb == SMTP_V_BDAT) {
        size_t n = 0;
        for (size_t i = 0; i < c.arglen && c.arg[i] >= '0' && c.arg[i] <= '9' && n < 100000; i++)
            n = n * 10 + (size_t)(c.arg[i] - '0');
        if (n > *restn)
            n = *restn;
        smtp_data_raw(d, *rest, n);
        fuzz_smtp_check_data(d);
        *rest += n;
        *restn -= n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct smtp_data d;
    memset(&d, 0, sizeof(d));
    uint64_t max = (uint64_t)((data[0] >> 1) + 1) * 1024;
    smtp_data_begin(&d, max, data[0] & 1);
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    int in_data = 0;
    while (n > 0) {
        const uint8_t *lf = memchr(p, '\n', n);
        size_t len = lf ? (size_t)(lf - p) : n;
        const char *line = (const char *)p;
        p += lf ? len + 1 : len;
        n -= lf ? len + 1 : len;
        unsigned flags = 0;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        else
            flags |= SMTP_LINE_BARE_LF;
        if (len > SMTP_LINE_MAX) {
            len = SMTP_LINE_MAX;
            flags |= SMTP_LINE_TOO_LONG;
        }
        if (in_data) {
            if (smtp_data_line(&d, line, len, flags)) {
                fuzz_smtp_check_data(&d);
                in_data = 0;
                smtp_data_begin(&d, max, data[0] & 1);
            }
            fuzz_smtp_check_data(&d);
        } else {
            fuzz_smtp_command(&d, &in_data, line, len, &p, &n);
        }
    }
    smtp_data_free(&d);
    return 0;
}
