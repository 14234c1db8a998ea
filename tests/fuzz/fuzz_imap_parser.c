/*
 * fuzz_imap_parser.c - libFuzzer target for plugins/imap/parser.c (and the
 * modified UTF-7 conversion of mutf7.c, SEARCH's BODYSTRUCTURE walk and
 * charset folding of search_bs.c / search_fold.c). Odd-sized inputs parse
 * with UTF-8 quoted strings on (p->utf8: IMAP4rev2 / UTF8=ACCEPT).
 *
 * The input is played as the host would: lines split at '\n' (a '\r' before
 * it dropped) go to imap_parser_line; when the parser asks for a literal, the
 * next lit_size bytes (or what is left) go to imap_parser_literal in chunks
 * of 1..8 bytes. Byte 0 sets the literal budgets. Checks the arg tree's
 * invariants after every complete command.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "imap/match.c"
#include "imap/mutf7.c"
#include "imap/parser.c"
#include "imap/search_bs.c"
#include "imap/search_fold.c"

const struct petrel_host *imap_host;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_bs_cb(const struct imap_bs_part *pt, void *arg)
{
    (void)arg;
    if (strlen(pt->spec) >= IMAP_BS_SPEC_MAX || !pt->spec[0]) __builtin_trap();
    return 0;
}

/* The BODYSTRUCTURE walk and the folding must stay in bounds on any bytes. */
static void fuzz_search(const uint8_t *d, size_t n)
{
    static char out[IMAP_FOLD_MAX(4096)];
    (void)imap_bs_walk((const char *)d, n, fuzz_bs_cb, NULL);
    if (n > 4096) n = 4096;
    for (int cs = IMAP_CS_UTF8; cs <= IMAP_CS_UNKNOWN; cs++) {
        size_t o = imap_fold(cs, (const char *)d, n, out);
        if (o > IMAP_FOLD_MAX(n) || ((cs == IMAP_CS_UTF8 || cs == IMAP_CS_UNKNOWN) && o > n))
            __builtin_trap();
    }
    if (imap_utf8_valid((const char *)d, n) &&
        !imap_utf8_valid(out, imap_fold(IMAP_CS_UTF8, (const char *)d, n, out)))
        __builtin_trap(); /* folding valid UTF-8 gives valid UTF-8 */
}

static void fuzz_check_args(const struct imap_parser *p)
{
    for (uint32_t i = 0; i < p->nargs; i++) {
        const struct imap_arg *a = &p->args[i];
        if (a->end <= i || a->end > p->nargs) __builtin_trap();
        if (a->type != IMAP_ARG_LIST) {
            if (a->end != i + 1 || a->off + a->len >= p->buf_len + (p->buf_len == 0))
                __builtin_trap();
            if (p->buf && p->buf[a->off + a->len] != '\0') __builtin_trap();
        }
    }
    if (p->text_used > p->text_max || p->depth != 0) __builtin_trap();
    if (!p->tag[0] || !p->name[0]) __builtin_trap();
}

static void fuzz_mutf7(const uint8_t *d, size_t n)
{
    char a[512], b[1600], c[512];
    if (n > 200) n = 200;
    if (imap_mutf7_to_utf8((const char *)d, n, a, sizeof(a)) == 0) {
        if (imap_utf8_to_mutf7(a, strlen(a), b, sizeof(b)) != 0) __builtin_trap();
        if (imap_mutf7_to_utf8(b, strlen(b), c, sizeof(c)) != 0 || strcmp(a, c) != 0)
            __builtin_trap();
    }
    char pat[64];
    size_t pn = n < sizeof(pat) - 1 ? n : sizeof(pat) - 1;
    memcpy(pat, d, pn);
    pat[pn] = '\0';
    (void)imap_list_match(pat, "INBOX/a/b%c*d/%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    struct imap_parser *p = imap_parser_new();
    if (!p) return 0;
    p->literal_max = (uint64_t)(data[0] & 0x0f) * 64;
    p->append_literal_max = (uint64_t)(data[0] >> 4) * 4096;
    p->utf8 = (int)(size & 1); /* UTF8=ACCEPT / IMAP4rev2 quoted strings for odd sizes */
    fuzz_mutf7(data + 1, size - 1);
    fuzz_search(data + 1, size - 1);
    size_t i = 1;
    int rc = 0;
    imap_parser_reset(p);
    while (i < size) {
        if (rc == IMAP_PARSE_LITERAL) {
            size_t left = p->lit_size - p->lit_got;
            size_t chunk = 1 + (data[i] & 7);
            if (chunk > left) chunk = left;
            if (chunk > size - i) chunk = size - i;
            rc = imap_parser_literal(p, data + i, chunk);
            i += chunk;
            if (rc < 0) __builtin_trap(); /* in-order feeding never errs */
            if (rc == IMAP_PARSE_NEED_LINE) rc = 0;
            continue;
        }
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - i;
        if (len && data[i + len - 1] == '\r') len--;
        rc = imap_parser_line(p, (const char *)data + i, len);
        i = end + 1;
        if (rc == IMAP_PARSE_DONE) {
            fuzz_check_args(p);
            for (uint32_t k = 0; k < p->nargs; k++) {
                const char *s = imap_arg_str(p, &p->args[k]);
                size_t cnt;
                if (s) (void)imap_seqset_parse(s, p->args[k].len, NULL, 0, &cnt);
            }
            imap_parser_reset(p);
        } else if (rc == IMAP_PARSE_LITERAL) {
            if (p->lit_size >
                (p->append_literal_max > p->literal_max ? p->append_literal_max : p->literal_max))
                __builtin_trap(); /* over budget must have been refused */
            if (p->lit_size == 0) {
                if (imap_parser_literal(p, NULL, 0) != IMAP_PARSE_NEED_LINE) __builtin_trap();
                rc = 0;
            }
        } else if (rc < 0) {
            if (!p->error) __builtin_trap();
            imap_parser_reset(p);
            rc = 0;
        }
    }
    imap_parser_free(&p);
    return 0;
}
