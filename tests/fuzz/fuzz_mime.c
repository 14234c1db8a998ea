/*
 * fuzz_mime.c - libFuzzer target for core/mime.
 *
 * The input is parsed as a message (tight limits on odd first bytes, so the
 * depth and part caps are hit too), its cache built and every accessor read
 * back and checked against the message size; then the same bytes are read
 * as a cache, which must be refused or read within bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mime/mime.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const specs[] = {"", "1", "2", "1.1", "1.2", "2.1", "2.1.1", "1.1.1.1", "3"};

static void fuzz_sections(const uint8_t *c, size_t cl, size_t msg_len)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        for (int k = MIME_SECTION_BODY; k <= MIME_SECTION_MIME; k++) {
            uint64_t off, len;
            if (mime_cache_section(c, cl, specs[i], strlen(specs[i]), k, &off, &len) == 0 &&
                (off > msg_len || len > msg_len - off))
                __builtin_trap();
        }
    }
}

static void fuzz_strings(const uint8_t *c, size_t cl)
{
    const uint8_t *p;
    size_t n;
    if (mime_cache_envelope(c, cl, &p, &n) == 0 && (p < c || n > cl || p + n > c + cl))
        __builtin_trap();
    buf_t body;
    buf_init(&body, 1 << 20);
    if (mime_cache_body(c, cl, &body) != 0 && body.len != 0) __builtin_trap();
    buf_free(&body);
    if (mime_cache_bodystructure(c, cl, &p, &n) == 0 && (p < c || p + n > c + cl)) __builtin_trap();
}

static void fuzz_decoders(const uint8_t *data, size_t size)
{
    buf_t out;
    buf_init(&out, 1 << 20);
    (void)mime_rfc2047_decode(data, size, &out);
    buf_reset(&out);
    (void)mime_qp_decode(data, size, 0, &out);
    buf_reset(&out);
    (void)mime_base64_decode(data, size, &out);
    buf_reset(&out);
    const char *names[] = {"subject", "from", "x"};
    (void)mime_hdr_fields_subset(data, size, names, 3, (int)(size & 1), &out);
    buf_free(&out);
}

/* The input as cache bytes with a valid checksum and header, so the reader's
 * structure checks (not only the checksum) are what stands in the way. */
static void fuzz_forged_cache(const uint8_t *data, size_t size)
{
    static uint8_t c[1 << 16];
    if (size < 4 || size + 4 > sizeof(c)) return;
    memcpy(c, "PMC\1", 4);
    memcpy(c + 4, data, size);
    size_t cl = size + 4;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < cl - 4; i++) {
        h ^= c[i];
        h *= 16777619u;
    }
    c[cl - 4] = (uint8_t)(h >> 24);
    c[cl - 3] = (uint8_t)(h >> 16);
    c[cl - 2] = (uint8_t)(h >> 8);
    c[cl - 1] = (uint8_t)h;
    struct mime_facts f;
    uint64_t msg_len = UINT64_MAX / 2;
    if (mime_cache_facts(c, cl, &f) == 0) {
        if (f.hdr_len > f.size || f.body_off + f.body_len > f.size) __builtin_trap();
        msg_len = f.size;
    }
    fuzz_strings(c, cl);
    fuzz_sections(c, cl, msg_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mime_limits lim;
    mime_limits_default(&lim);
    if (size > 0 && data[0] == 'Z') {
        lim.max_depth = 3;
        lim.max_parts = 4;
    }
    buf_t cache;
    buf_init(&cache, MIME_CACHE_MAX);
    if (mime_cache_build_ex(data, size, &lim, &cache) == 0) {
        const uint8_t *c = (const uint8_t *)cache.data;
        struct mime_facts f;
        if (mime_cache_validate(c, cache.len) != 0 || mime_cache_facts(c, cache.len, &f) != 0 ||
            f.size != size || f.hdr_len > size || f.body_off + f.body_len > size)
            __builtin_trap();
        fuzz_strings(c, cache.len);
        fuzz_sections(c, cache.len, size);
    }
    buf_free(&cache);
    /* the input as cache bytes */
    fuzz_strings(data, size);
    fuzz_sections(data, size, UINT64_MAX / 2);
    fuzz_forged_cache(data, size);
    fuzz_decoders(data, size);
    return 0;
}
