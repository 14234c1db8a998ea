/*
 * fuzz_pop3.c - libFuzzer target for the POP3 plugin's command parser and
 * RETR/TOP encoder (plugins/pop3/parser.c, compiled in directly).
 *
 * Input layout: byte 0 picks the encoder mode (bit 0: TOP, bits 1-3: body
 * lines, bits 4-7: the piece size the message is fed in); the rest is split
 * at '\n' into command lines for pop3_parse, and the whole rest is also
 * encoded as a message. Checks the invariants on every call: arguments lie
 * inside the line, counts and lengths are within their caps, the encoder
 * consumes everything (RETR), never emits an unstuffed '.' line start or a
 * bare LF, and agrees with pop3_enc_bare_lfs about the size.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pop3/parser.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_pop3_line(const char *line, size_t len)
{
    struct pop3_req r;
    int rc = pop3_parse(line, len, &r);
    if (rc != 0) return;
    if ((unsigned)r.cmd >= POP3_CMD_COUNT || r.nargs > POP3_ARGS_MAX) __builtin_trap();
    for (unsigned i = 0; i < r.nargs; i++) {
        if (r.arg[i] < line || r.arg[i] + r.arglen[i] > line + len) __builtin_trap();
        uint32_t v;
        if (pop3_parse_num(r.arg[i], r.arglen[i], 1000, &v) == 0 && v > 1000) __builtin_trap();
    }
}

/* Checks the encoded output of data[0..n) fed in pieces of step bytes. */
static void fuzz_pop3_encode(const uint8_t *data, size_t n, int top, uint64_t lines, size_t step)
{
    struct pop3_enc e, sz;
    pop3_enc_init(&e, top, lines);
    pop3_enc_init(&sz, 0, 0);
    size_t off = 0;
    uint64_t out = 0, dots = 0, crs = 0;
    int bol = 1, prev_cr = 0;
    while (off < n && !e.done) {
        size_t piece = n - off < step ? n - off : step;
        const char *ins;
        size_t k = pop3_enc_scan(&e, data + off, piece, &ins);
        if (k > piece || (k == 0 && !ins && !e.done)) __builtin_trap();
        for (size_t i = 0; i < k; i++) { /* what goes out unchanged */
            uint8_t c = data[off + i];
            if ((bol && c == '.') || (c == '\n' && !prev_cr)) __builtin_trap();
            bol = c == '\n';
            prev_cr = c == '\r';
        }
        out += k;
        off += k;
        if (ins) {
            if (ins[0] == '.') {
                if (!bol || off >= n || data[off] != '.') __builtin_trap();
                dots++;
                bol = 0;
            } else {
                if (ins[0] != '\r' || off >= n || data[off] != '\n') __builtin_trap();
                crs++;
                prev_cr = 1;
            }
            out += 1;
        }
    }
    if (!top && off != n) __builtin_trap();
    if (!top && pop3_enc_bare_lfs(&sz, data, n) != crs) __builtin_trap();
    if (out != off + dots + crs) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    int top = data[0] & 1;
    uint64_t lines = (data[0] >> 1) & 7;
    size_t step = (size_t)(data[0] >> 4) + 1;
    data++;
    size--;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && p[len - 1] == '\r') len--;
        fuzz_pop3_line(p, len);
        p = nl ? nl + 1 : end;
    }
    fuzz_pop3_encode(data, size, top, lines, step);
    fuzz_pop3_encode(data, size, top, lines, size ? size : 1);
    return 0;
}
