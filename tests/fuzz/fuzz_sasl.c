/*
 * fuzz_sasl.c - libFuzzer target for core/auth/sasl.c.
 *
 * Input layout: byte 0 picks the mechanism (bit 0: PLAIN/LOGIN, bit 1: with an
 * initial response, bit 2: lower-case name); the rest is split at '\n' into
 * the initial response (when bit 1 is set) and the following step lines.
 * Checks the state machine's invariants on every call.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/sasl.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_sasl_check(const struct auth_sasl *s, int rc, const char *ch)
{
    if (rc == AUTH_SASL_NEED_MORE && !ch)
        __builtin_trap();
    if (rc != AUTH_SASL_NEED_MORE && ch)
        __builtin_trap();
    if (rc == AUTH_SASL_DONE) {
        if (s->authcid_len == 0 || s->password_len == 0 || s->authcid_len > AUTH_SASL_FIELD_MAX ||
            s->password_len > AUTH_SASL_FIELD_MAX || s->authzid_len > AUTH_SASL_FIELD_MAX ||
            strlen(s->authcid) != s->authcid_len || strlen(s->password) != s->password_len ||
            strlen(s->authzid) != s->authzid_len)
            __builtin_trap();
    }
    if (rc < 0 && rc != PETREL_EINVAL && rc != PETREL_ETOOBIG && rc != PETREL_ECLOSED &&
        rc != PETREL_ENOTSUP)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const mechs[] = {"PLAIN", "LOGIN", "plain", "login"};
    uint8_t mode = data[0];
    const char *mech = mechs[(mode & 1) | ((mode >> 1) & 2)];
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    struct auth_sasl s;
    const char *ch = NULL;
    auth_sasl_init(&s);
    int rc;
    if (mode & 2) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        rc = auth_sasl_start(&s, mech, p, n, &ch);
        p += n + (nl ? 1 : 0);
    } else {
        rc = auth_sasl_start(&s, mech, NULL, 0, &ch);
    }
    fuzz_sasl_check(&s, rc, ch);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int was_pending = rc == AUTH_SASL_NEED_MORE;
        rc = auth_sasl_step(&s, p, n, &ch);
        fuzz_sasl_check(&s, rc, ch);
        if (!was_pending && rc != PETREL_EINVAL)
            __builtin_trap(); /* a finished exchange takes no more steps */
        p += n + (nl ? 1 : 0);
    }
    auth_sasl_reset(&s);
    return 0;
}
