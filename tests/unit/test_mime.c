/*
 * tests for core/mime: the golden corpus (ENVELOPE, BODY, BODYSTRUCTURE read
 * back from the cache), section offsets, message facts, limits, and the
 * cache reader against corrupt bytes.
 *
 * Golden files: tests/unit/data/mime/NAME.eml with NAME.envelope, NAME.body,
 * NAME.bodystructure holding the exact bytes expected. They were worked out
 * by hand and checked against Dovecot 2.3.19 (FETCH over a preauth imap
 * process); where Petrel differs on purpose (bare-LF sizes are the stored
 * bytes, an invalid Content-Type is text/plain, strings Dovecot sends as
 * literals for no reason are quoted) the file says what Petrel returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/mime.h"
#include "util/err.h"

static const char *const corpus[] = {
    "simple",  "related", "attach2231", "forward", "nested4", "noboundary", "noend",
    "garbage", "barelf",  "8bit",       "encoded", "groups",  "digest",     "whitespace",
};

static uint8_t *file_read(const char *name, const char *ext, size_t *len_r)
{
    const char *src = getenv("PETREL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/unit/data/mime/%s.%s", src ? src : ".", name, ext);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len_r = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void assert_bytes(const uint8_t *got, size_t n, const uint8_t *want, size_t wn,
                         const char *what)
{
    if (n != wn || memcmp(got, want, n) != 0)
        fail_msg("%s:\n got  %.*s\n want %.*s", what, (int)n, got, (int)wn, want);
}

static void build(const uint8_t *msg, size_t len, buf_t *cache)
{
    buf_init(cache, MIME_CACHE_MAX);
    assert_int_equal(mime_cache_build(msg, len, cache), 0);
    assert_int_equal(mime_cache_validate((const uint8_t *)cache->data, cache->len), 0);
}

static void test_golden_corpus(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        size_t len, wn;
        uint8_t *msg = file_read(corpus[i], "eml", &len);
        buf_t cache;
        build(msg, len, &cache);
        const uint8_t *c = (const uint8_t *)cache.data, *p;
        size_t n;
        static const char *const exts[] = {"envelope", "bodystructure"};
        int (*const get[])(const uint8_t *, size_t, const uint8_t **,
                           size_t *) = {mime_cache_envelope, mime_cache_bodystructure};
        char what[128];
        for (size_t k = 0; k < 2; k++) {
            uint8_t *want = file_read(corpus[i], exts[k], &wn);
            snprintf(what, sizeof(what), "%s.%s", corpus[i], exts[k]);
            assert_int_equal(get[k](c, cache.len, &p, &n), 0);
            assert_bytes(p, n, want, wn, what);
            free(want);
        }
        /* BODY is rebuilt from BODYSTRUCTURE, appended after what out holds */
        buf_t body;
        buf_init(&body, 1 << 20);
        assert_int_equal(buf_append_str(&body, "* 1 FETCH (BODY "), 0);
        assert_int_equal(mime_cache_body(c, cache.len, &body), 0);
        uint8_t *want = file_read(corpus[i], "body", &wn);
        snprintf(what, sizeof(what), "%s.body", corpus[i]);
        assert_bytes((const uint8_t *)body.data + 16, body.len - 16, want, wn, what);
        free(want);
        buf_free(&body);
        /* the tree API gives the same bytes as the cache */
        struct mime_tree *t = NULL;
        buf_t bs;
        buf_init(&bs, 1 << 20);
        assert_int_equal(mime_parse(msg, len, NULL, &t), 0);
        assert_int_equal(mime_imap_bodystructure(t, 1, &bs), 0);
        assert_int_equal(mime_cache_bodystructure(c, cache.len, &p, &n), 0);
        assert_bytes((const uint8_t *)bs.data, bs.len, p, n, corpus[i]);
        buf_free(&bs);
        mime_tree_free(&t);
        assert_null(t);
        buf_free(&cache);
        free(msg);
    }
}

struct sec_case {
    const char *file, *spec;
    enum mime_section_kind kind;
    int rc;
    const char *want;   /* exact bytes, or NULL */
    size_t want_len;    /* checked when want is NULL */
    const char *prefix; /* checked when want is NULL */
};

static const struct sec_case sec_cases[] = {
    {"simple", "1", MIME_SECTION_BODY, 0, NULL, 62, "Hi Bob,\r\n"},
    {"simple", "", MIME_SECTION_TEXT, 0, NULL, 62, "Hi Bob,\r\n"},
    {"simple", "", MIME_SECTION_BODY, 0, NULL, 543, "Return-Path:"},
    {"simple", "", MIME_SECTION_HEADER, 0, NULL, 481, "Return-Path:"},
    {"simple", "1", MIME_SECTION_MIME, 0, NULL, 481, "Return-Path:"},
    {"simple", "2", MIME_SECTION_BODY, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"simple", "1.1", MIME_SECTION_BODY, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"simple", "1", MIME_SECTION_HEADER, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"simple", "", MIME_SECTION_MIME, PETREL_EINVAL, NULL, 0, NULL},
    {"simple", "0", MIME_SECTION_BODY, PETREL_EINVAL, NULL, 0, NULL},
    {"simple", "1.", MIME_SECTION_BODY, PETREL_EINVAL, NULL, 0, NULL},
    {"simple", ".1", MIME_SECTION_BODY, PETREL_EINVAL, NULL, 0, NULL},
    {"simple", "1x", MIME_SECTION_BODY, PETREL_EINVAL, NULL, 0, NULL},
    {"simple", "99999999999", MIME_SECTION_BODY, PETREL_EINVAL, NULL, 0, NULL},
    {"forward", "1", MIME_SECTION_BODY, 0, "See the forwarded message below.\r\n", 0, NULL},
    {"forward", "1", MIME_SECTION_MIME, 0, "Content-Type: text/plain; charset=us-ascii\r\n\r\n", 0,
     NULL},
    {"forward", "2", MIME_SECTION_BODY, 0, NULL, 428, "From: Eve <eve@example.org>\r\n"},
    {"forward", "2", MIME_SECTION_MIME, 0,
     "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n", 0, NULL},
    {"forward", "2", MIME_SECTION_HEADER, 0, NULL, 299, "From: Eve <eve@example.org>\r\n"},
    {"forward", "2", MIME_SECTION_TEXT, 0, NULL, 129, "--inner\r\n"},
    {"forward", "2.1", MIME_SECTION_BODY, 0, "Notes: ship it.\r\n", 0, NULL},
    {"forward", "2.2", MIME_SECTION_BODY, 0, "<p>Notes: ship it.</p>\r\n", 0, NULL},
    {"forward", "2.2", MIME_SECTION_MIME, 0, "Content-Type: text/html\r\n\r\n", 0, NULL},
    {"forward", "2.3", MIME_SECTION_BODY, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"forward", "3", MIME_SECTION_BODY, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"forward", "", MIME_SECTION_HEADER, 0, NULL, 230, "From: Carol"},
    {"forward", "", MIME_SECTION_TEXT, 0, NULL, 602, "--outer\r\n"},
    {"nested4", "1.1.1.2", MIME_SECTION_BODY, 0, "level four enriched", 0, NULL},
    {"nested4", "1.1.1.1", MIME_SECTION_MIME, 0, "Content-Type: text/plain\r\n\r\n", 0, NULL},
    {"nested4", "1.1.2", MIME_SECTION_BODY, 0, "AAECAw==", 0, NULL},
    {"nested4", "2", MIME_SECTION_BODY, 0, "tail", 0, NULL},
    /* a multipart child's body ends before the CRLF of the next delimiter (RFC 2046) */
    {"nested4", "1", MIME_SECTION_BODY, 0, NULL, 335, "--L2\r\n"},
    {"nested4", "1.1.1", MIME_SECTION_BODY, 0, NULL, 116, "--L4\r\n"},
    {"noend", "1", MIME_SECTION_BODY, 0, "first part", 0, NULL},
    {"noend", "2", MIME_SECTION_BODY, 0,
     "second part runs to the end\r\nand never sees a close delimiter\r\n", 0, NULL},
    {"noend", "3", MIME_SECTION_BODY, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"noboundary", "1", MIME_SECTION_BODY, PETREL_ENOTFOUND, NULL, 0, NULL},
    {"digest", "1", MIME_SECTION_HEADER, 0, "From: a@example.com\r\nSubject: one\r\n\r\n", 0, NULL},
    {"digest", "1", MIME_SECTION_TEXT, 0, "first", 0, NULL},
    {"digest", "1.1", MIME_SECTION_BODY, 0, "first", 0, NULL},
    {"digest", "1", MIME_SECTION_MIME, 0, "\r\n", 0, NULL},
    {"digest", "2", MIME_SECTION_BODY, 0, "not a message", 0, NULL},
    {"related", "1.2", MIME_SECTION_BODY, 0, NULL, 81, "<html><body>"},
    {"related", "2", MIME_SECTION_MIME, 0, NULL, 162, "Content-Type: image/png;"},
    {"barelf", "1", MIME_SECTION_BODY, 0, "line one\nline two", 0, NULL},
    {"garbage", "1", MIME_SECTION_BODY, 0, "body after garbage\r\n", 0, NULL},
};

static void test_sections(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sec_cases) / sizeof(sec_cases[0]); i++) {
        const struct sec_case *sc = &sec_cases[i];
        size_t len;
        uint8_t *msg = file_read(sc->file, "eml", &len);
        buf_t cache;
        build(msg, len, &cache);
        uint64_t off = 0, n = 0;
        int rc = mime_cache_section((const uint8_t *)cache.data, cache.len, sc->spec,
                                    strlen(sc->spec), sc->kind, &off, &n);
        if (rc != sc->rc)
            fail_msg("%s [%s] kind %d: rc %d, want %d", sc->file, sc->spec, sc->kind, rc, sc->rc);
        if (rc == 0) {
            assert_true(off <= len && n <= len - off);
            if (sc->want) {
                assert_bytes(msg + off, n, (const uint8_t *)sc->want, strlen(sc->want), sc->spec);
            } else {
                assert_int_equal(n, sc->want_len);
                assert_memory_equal(msg + off, sc->prefix, strlen(sc->prefix));
            }
            /* the tree gives the same answer */
            struct mime_tree *t = NULL;
            struct mime_section sec;
            assert_int_equal(mime_parse(msg, len, NULL, &t), 0);
            assert_int_equal(mime_tree_section(t, sc->spec, strlen(sc->spec), sc->kind, &sec), 0);
            assert_int_equal(sec.off, off);
            assert_int_equal(sec.len, n);
            mime_tree_free(&t);
        }
        buf_free(&cache);
        free(msg);
    }
}

static void test_section_encoding(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = file_read("related", "eml", &len);
    buf_t cache;
    build(msg, len, &cache);
    struct mime_section sec;
    const uint8_t *c = (const uint8_t *)cache.data;
    assert_int_equal(mime_cache_section_info(c, cache.len, "2", 1, MIME_SECTION_BODY, &sec), 0);
    assert_int_equal(sec.encoding, MIME_ENC_BASE64);
    assert_int_equal(sec.kind, MIME_PART_LEAF);
    assert_int_equal(mime_cache_section_info(c, cache.len, "1.1", 3, MIME_SECTION_BODY, &sec), 0);
    assert_int_equal(sec.encoding, MIME_ENC_QP);
    /* decode the QP part as BINARY[1.1] would */
    buf_t out;
    buf_init(&out, 4096);
    assert_int_equal(mime_body_decode(msg + sec.off, sec.len, sec.encoding, &out), 0);
    assert_string_equal(out.data,
                        "Autumn sale: everything 20% off.\r\nCaf\xc3\xa9 open all day.\r\n");
    buf_free(&out);
    assert_int_equal(mime_cache_section_info(c, cache.len, "1", 1, MIME_SECTION_BODY, &sec), 0);
    assert_int_equal(sec.kind, MIME_PART_MULTIPART);
    buf_free(&cache);
    free(msg);
}

static void test_facts(void **state)
{
    (void)state;
    struct mime_facts f;
    size_t len;
    buf_t cache;
    uint8_t *msg = file_read("simple", "eml", &len);
    build(msg, len, &cache);
    assert_int_equal(mime_cache_facts((const uint8_t *)cache.data, cache.len, &f), 0);
    assert_int_equal(f.size, 543);
    assert_int_equal(f.virtual_size, 543);
    assert_int_equal(f.hdr_len, 481);
    assert_int_equal(f.hdr_lines, 13);
    assert_int_equal(f.body_off, 481);
    assert_int_equal(f.body_len, 62);
    assert_int_equal(f.body_lines, 5);
    assert_int_equal(f.nparts, 1);
    assert_int_equal(f.flags, 0);
    buf_free(&cache);
    free(msg);

    msg = file_read("barelf", "eml", &len);
    build(msg, len, &cache);
    assert_int_equal(mime_cache_facts((const uint8_t *)cache.data, cache.len, &f), 0);
    assert_int_equal(f.size, 199);
    assert_int_equal(f.virtual_size, 199 + 15); /* 15 lines, all bare LF */
    assert_int_equal(f.flags, MIME_MF_BARELF);
    assert_int_equal(f.nparts, 3);
    buf_free(&cache);
    free(msg);

    msg = file_read("8bit", "eml", &len);
    build(msg, len, &cache);
    assert_int_equal(mime_cache_facts((const uint8_t *)cache.data, cache.len, &f), 0);
    assert_int_equal(f.flags, MIME_MF_8BIT);
    buf_free(&cache);
    free(msg);
}

/* The byte facts at every offset (the scan goes eight bytes at a time, then the tail). */
static void test_facts_offsets(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 21; len++) {
        for (size_t at = 0; at < len; at++) {
            static const uint8_t bytes[] = {0x80, 0xff, 0x00, '\n'};
            for (size_t b = 0; b < sizeof(bytes); b++) {
                uint8_t msg[32];
                memset(msg, 'a', sizeof(msg));
                msg[at] = bytes[b];
                struct mime_tree *t = NULL;
                assert_int_equal(mime_parse(msg, len, NULL, &t), 0);
                uint32_t want = b < 2 ? MIME_MF_8BIT : b == 2 ? MIME_MF_NUL : MIME_MF_BARELF;
                assert_int_equal(t->facts.flags, want);
                assert_int_equal(t->facts.virtual_size, len + (b == 3));
                mime_tree_free(&t);
                if (b == 3 && at > 0) { /* CRLF is not bare */
                    msg[at - 1] = '\r';
                    assert_int_equal(mime_parse(msg, len, NULL, &t), 0);
                    assert_int_equal(t->facts.flags, 0);
                    assert_int_equal(t->facts.virtual_size, len);
                    mime_tree_free(&t);
                }
            }
        }
    }
    /* both 8BIT and NUL, far apart */
    uint8_t big[100];
    memset(big, 'a', sizeof(big));
    big[3] = 0xc3;
    big[97] = 0;
    struct mime_tree *t = NULL;
    assert_int_equal(mime_parse(big, sizeof(big), NULL, &t), 0);
    assert_int_equal(t->facts.flags, MIME_MF_8BIT | MIME_MF_NUL);
    mime_tree_free(&t);
}

/* Messages with odd shapes: empty, header only, body only, NUL bytes. */
static void test_odd_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        size_t len;
        const char *bs;
        uint64_t hdr_len;
    } cases[] = {
        {"", 0,
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)", 0},
        {"Subject: x\r\n", 12,
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)",
         12},
        {"\r\nbody\r\n", 8,
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)", 2},
        {"Subject: a\0b\r\n\r\nx\0y", 19,
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL)",
         16},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t cache;
        struct mime_facts f;
        const uint8_t *p;
        size_t n;
        build((const uint8_t *)cases[i].msg, cases[i].len, &cache);
        const uint8_t *c = (const uint8_t *)cache.data;
        assert_int_equal(mime_cache_bodystructure(c, cache.len, &p, &n), 0);
        assert_bytes(p, n, (const uint8_t *)cases[i].bs, strlen(cases[i].bs), cases[i].msg);
        assert_int_equal(mime_cache_facts(c, cache.len, &f), 0);
        assert_int_equal(f.hdr_len, cases[i].hdr_len);
        buf_free(&cache);
    }
    /* the NUL is dropped from the subject (IMAP strings cannot carry it) */
    buf_t env;
    buf_init(&env, 4096);
    assert_int_equal(mime_imap_envelope((const uint8_t *)"Subject: a\0b\r\n\r\n", 16, &env), 0);
    assert_string_equal(env.data, "(NIL \"ab\" NIL NIL NIL NIL NIL NIL NIL NIL)");
    buf_free(&env);
}

/* Nesting deeper than max_depth: the deepest container becomes text/plain. */
static void test_limit_depth(void **state)
{
    (void)state;
    buf_t m;
    buf_init(&m, 1 << 20);
    const int levels = 40;
    for (int i = 0; i < levels; i++)
        assert_int_equal(
            buf_printf(&m, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i),
            0);
    assert_int_equal(buf_append_str(&m, "Content-Type: text/plain\r\n\r\nleaf\r\n"), 0);
    struct mime_tree *t = NULL;
    assert_int_equal(mime_parse((const uint8_t *)m.data, m.len, NULL, &t), 0);
    assert_int_equal(t->nparts, MIME_DEFAULT_MAX_DEPTH);
    const struct mime_part *last = &t->parts[t->nparts - 1];
    assert_int_equal(last->depth, MIME_DEFAULT_MAX_DEPTH - 1);
    assert_int_equal(last->kind, MIME_PART_LEAF);
    assert_true(last->flags & MIME_PF_DEMOTED);
    buf_t bs;
    buf_init(&bs, 1 << 20);
    assert_int_equal(mime_imap_bodystructure(t, 1, &bs), 0);
    assert_non_null(strstr(bs.data, "((((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"));
    int depth = 0, maxd = 0;
    for (size_t i = 0; i < bs.len; i++) {
        depth += bs.data[i] == '(' ? 1 : bs.data[i] == ')' ? -1 : 0;
        maxd = depth > maxd ? depth : maxd;
        assert_true(depth >= 0);
    }
    assert_int_equal(depth, 0);
    /* 31 multiparts, the demoted leaf, and its parameter list */
    assert_int_equal(maxd, MIME_DEFAULT_MAX_DEPTH + 1);
    buf_free(&bs);
    mime_tree_free(&t);

    struct mime_limits lim;
    mime_limits_default(&lim);
    lim.max_depth = 3;
    assert_int_equal(mime_parse((const uint8_t *)m.data, m.len, &lim, &t), 0);
    assert_int_equal(t->nparts, 3);
    mime_tree_free(&t);
    buf_free(&m);
}

static void test_limit_parts(void **state)
{
    (void)state;
    buf_t m;
    buf_init(&m, 1 << 20);
    assert_int_equal(buf_append_str(&m, "Content-Type: multipart/mixed; boundary=z\r\n\r\n"), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(buf_printf(&m, "--z\r\n\r\npart %d\r\n", i), 0);
    assert_int_equal(buf_append_str(&m, "--z--\r\n"), 0);
    struct mime_tree *t = NULL;
    assert_int_equal(mime_parse((const uint8_t *)m.data, m.len, NULL, &t), 0);
    assert_int_equal(t->nparts, 21);
    assert_int_equal(t->parts[0].nchildren, 20);
    mime_tree_free(&t);
    struct mime_limits lim;
    mime_limits_default(&lim);
    lim.max_parts = 5;
    assert_int_equal(mime_parse((const uint8_t *)m.data, m.len, &lim, &t), 0);
    assert_int_equal(t->nparts, 5);
    assert_int_equal(t->parts[0].nchildren, 4);
    struct mime_section sec;
    assert_int_equal(mime_tree_section(t, "4", 1, MIME_SECTION_BODY, &sec), 0);
    assert_memory_equal(m.data + sec.off, "part 3", 6);
    assert_int_equal(mime_tree_section(t, "5", 1, MIME_SECTION_BODY, &sec), PETREL_ENOTFOUND);
    mime_tree_free(&t);
    /* strings past their bound: the message is still cached, degraded */
    struct mime_limits small;
    mime_limits_default(&small);
    small.max_imap = 100;
    buf_t dc;
    buf_init(&dc, MIME_CACHE_MAX);
    assert_int_equal(mime_cache_build_ex((const uint8_t *)m.data, m.len, &small, &dc), 0);
    struct mime_facts f;
    const uint8_t *dp;
    size_t dn;
    assert_int_equal(mime_cache_facts((const uint8_t *)dc.data, dc.len, &f), 0);
    assert_int_equal(f.flags & MIME_MF_DEGRADED, MIME_MF_DEGRADED);
    assert_int_equal(f.nparts, 1);
    assert_int_equal(mime_cache_envelope((const uint8_t *)dc.data, dc.len, &dp, &dn), 0);
    assert_bytes(dp, dn, (const uint8_t *)"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", 41, "env");
    assert_int_equal(mime_cache_section((const uint8_t *)dc.data, dc.len, "1", 1, MIME_SECTION_BODY,
                                        &f.size, &f.hdr_len),
                     0);
    assert_int_equal(f.size, f.body_off);
    buf_t db;
    buf_init(&db, 4096);
    assert_int_equal(mime_cache_body((const uint8_t *)dc.data, dc.len, &db), 0);
    assert_non_null(strstr(db.data, "\"7bit\" "));
    assert_null(strstr(db.data, "NIL NIL NIL NIL)"));
    buf_free(&db);
    buf_free(&dc);
    /* a huge header line is no reason to fail */
    buf_reset(&m);
    assert_int_equal(buf_append_str(&m, "Subject: "), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(buf_append_str(&m, "long "), 0);
    assert_int_equal(buf_append_str(&m, "\r\n\r\nbody\r\n"), 0);
    buf_t cache;
    build((const uint8_t *)m.data, m.len, &cache);
    const uint8_t *p;
    size_t n;
    assert_int_equal(mime_cache_envelope((const uint8_t *)cache.data, cache.len, &p, &n), 0);
    assert_true(n > 100000);
    buf_free(&cache);
    buf_free(&m);
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void reseal(uint8_t *c, size_t len)
{
    uint32_t h = fnv1a(c, len - 4);
    c[len - 4] = (uint8_t)(h >> 24);
    c[len - 3] = (uint8_t)(h >> 16);
    c[len - 2] = (uint8_t)(h >> 8);
    c[len - 1] = (uint8_t)h;
}

static int read_all(const uint8_t *c, size_t len)
{
    const uint8_t *p;
    size_t n;
    uint64_t off, l;
    struct mime_facts f;
    buf_t body;
    int rc = mime_cache_validate(c, len);
    int rc2 = mime_cache_envelope(c, len, &p, &n);
    if (rc2 == 0) assert_true(p >= c && n <= len && p + n <= c + len);
    buf_init(&body, 1 << 16);
    if (mime_cache_body(c, len, &body) != 0) assert_int_equal(body.len, 0);
    buf_free(&body);
    (void)mime_cache_bodystructure(c, len, &p, &n);
    (void)mime_cache_facts(c, len, &f);
    (void)mime_cache_section(c, len, "2.1", 3, MIME_SECTION_BODY, &off, &l);
    (void)mime_cache_section(c, len, "2", 1, MIME_SECTION_HEADER, &off, &l);
    return rc;
}

static void test_cache_corrupt(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = file_read("forward", "eml", &len);
    buf_t cache;
    build(msg, len, &cache);
    size_t cl = cache.len;
    uint8_t *c = malloc(cl);
    assert_non_null(c);
    /* every truncation fails */
    for (size_t n = 0; n < cl; n++) {
        memcpy(c, cache.data, n);
        assert_int_not_equal(read_all(c, n), 0);
    }
    /* every single-byte change fails (checksum) */
    for (size_t i = 0; i < cl; i++) {
        memcpy(c, cache.data, cl);
        c[i] ^= 0x41;
        int rc = read_all(c, cl);
        assert_true(rc == PETREL_ECORRUPT || (i == 3 && rc == PETREL_EVERSION));
    }
    /* changes behind a valid checksum are caught by the structure checks */
    size_t caught = 0, tried = 0;
    for (size_t i = 4; i + 4 < cl; i++) {
        for (int v = 0; v < 256; v += 51) {
            memcpy(c, cache.data, cl);
            c[i] = (uint8_t)v;
            reseal(c, cl);
            tried++;
            caught += read_all(c, cl) != 0;
        }
    }
    assert_true(caught > 0 && caught <= tried);
    /* a forged part count cannot make the reader allocate or read past the end */
    memcpy(c, cache.data, cl);
    assert_int_equal(mime_cache_validate(c, cl), 0);
    free(c);
    assert_int_equal(mime_cache_validate(NULL, 0), PETREL_ECORRUPT);
    buf_free(&cache);
    free(msg);
}

/* Hand-made caches: one good, then one flaw each behind a valid checksum. */
static void test_cache_forged(void **state)
{
    (void)state;
    /* size 5, vsize 5, flags 0, hdr_lines 0, env "E", bs "ABCD", cut (1, 2),
     * one part: leaf text, 0 children, hdr 0+2, body 3 bytes, 1 line */
    static const uint8_t good[] = {'P', 'M', 'C', 1, 5,  5, 0, 0, 1, 'E', 4, 'A', 'B', 'C', 'D',
                                   2,   1,   2,   1, 32, 0, 0, 2, 3, 1,   0, 0,   0,   0};
    static const struct {
        size_t at;
        uint8_t v;
        int rc;
    } flaws[] = {
        {16, 3, PETREL_ECORRUPT},  /* cut starts past BODYSTRUCTURE's end */
        {17, 4, PETREL_ECORRUPT},  /* cut runs past it */
        {20, 1, PETREL_ECORRUPT},  /* a leaf with a child */
        {23, 4, PETREL_ECORRUPT},  /* body past the message size */
        {24, 4, PETREL_ECORRUPT},  /* more lines than bytes */
        {19, 34, PETREL_ECORRUPT}, /* message/rfc822 without its child */
        {18, 9, PETREL_ECORRUPT},  /* more parts than bytes left */
        {5, 4, PETREL_ECORRUPT},   /* virtual size below the size */
        {3, 2, PETREL_EVERSION},   /* another version */
    };
    uint8_t c[sizeof(good)];
    memcpy(c, good, sizeof(c));
    reseal(c, sizeof(c));
    assert_int_equal(mime_cache_validate(c, sizeof(c)), 0);
    buf_t body;
    buf_init(&body, 64);
    assert_int_equal(mime_cache_body(c, sizeof(c), &body), 0);
    assert_string_equal(body.data, "AD");
    uint64_t off, len;
    assert_int_equal(mime_cache_section(c, sizeof(c), "1", 1, MIME_SECTION_BODY, &off, &len), 0);
    assert_int_equal(off, 2);
    assert_int_equal(len, 3);
    for (size_t i = 0; i < sizeof(flaws) / sizeof(flaws[0]); i++) {
        memcpy(c, good, sizeof(c));
        c[flaws[i].at] = flaws[i].v;
        reseal(c, sizeof(c));
        buf_reset(&body);
        int rc = mime_cache_validate(c, sizeof(c));
        if (flaws[i].at == 16 || flaws[i].at == 17) {
            assert_int_equal(rc, 0); /* the cuts are checked when BODY is rebuilt */
            rc = mime_cache_body(c, sizeof(c), &body);
            assert_int_equal(body.len, 0);
        }
        if (rc != flaws[i].rc) fail_msg("flaw %zu: rc %d, want %d", i, rc, flaws[i].rc);
    }
    buf_free(&body);
}

static void test_cache_small(void **state)
{
    (void)state;
    /* the per-message cost: a short text message's cache stays small */
    size_t len;
    uint8_t *msg = file_read("simple", "eml", &len);
    buf_t cache;
    build(msg, len, &cache);
    const uint8_t *p;
    size_t e, s;
    const uint8_t *c = (const uint8_t *)cache.data;
    assert_int_equal(mime_cache_envelope(c, cache.len, &p, &e), 0);
    assert_int_equal(mime_cache_bodystructure(c, cache.len, &p, &s), 0);
    /* magic, version, 4 facts, 3 lengths, one cut, one part record, checksum */
    assert_true(cache.len <= e + s + 32);
    buf_t body;
    buf_init(&body, 4096);
    assert_int_equal(mime_cache_body(c, cache.len, &body), 0);
    assert_int_equal(body.len, s - strlen(" NIL NIL NIL NIL"));
    buf_free(&body);
    /* out of room: a bounded buffer fails cleanly and is left as it was */
    buf_t tiny;
    buf_init(&tiny, 10);
    assert_int_equal(buf_append_str(&tiny, "abc"), 0);
    assert_int_equal(mime_cache_build(msg, len, &tiny), PETREL_ENOMEM);
    assert_int_equal(tiny.len, 3);
    buf_free(&tiny);
    buf_free(&cache);
    free(msg);
    assert_int_equal(mime_cache_build(NULL, 5, &cache), PETREL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_corpus),    cmocka_unit_test(test_sections),
        cmocka_unit_test(test_section_encoding), cmocka_unit_test(test_facts),
        cmocka_unit_test(test_facts_offsets),
        cmocka_unit_test(test_odd_shapes),       cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_parts),      cmocka_unit_test(test_cache_corrupt),
        cmocka_unit_test(test_cache_forged),     cmocka_unit_test(test_cache_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
