#include "auth/password_crypt.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "util/err.h"
#include "util/str.h"

enum auth_crypt_kind { AUTH_CRYPT_UNKNOWN, AUTH_CRYPT_SHA512, AUTH_CRYPT_BCRYPT };

static int auth_crypt_has_prefix(const char *s, const char *prefix)
{
    return str_ncasecmp(s, prefix, strlen(prefix)) == 0;
}

static enum auth_crypt_kind auth_crypt_kind_of(const char *hash)
{
    if (strncmp(hash, "$6$", 3) == 0)
        return AUTH_CRYPT_SHA512;
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0)
        return AUTH_CRYPT_BCRYPT;
    return AUTH_CRYPT_UNKNOWN;
}

/*
 * Strips a Dovecot-style {SCHEME} prefix; the scheme must agree with the
 * hash that follows. Returns the bare hash, or NULL when they disagree or
 * the scheme is unknown.
 */
static const char *auth_crypt_strip(const char *stored, enum auth_crypt_kind *kind_r)
{
    const char *h = stored;
    enum auth_crypt_kind want = AUTH_CRYPT_UNKNOWN;
    if (auth_crypt_has_prefix(stored, "{SHA512-CRYPT}")) {
        h = stored + strlen("{SHA512-CRYPT}");
        want = AUTH_CRYPT_SHA512;
    } else if (auth_crypt_has_prefix(stored, "{BLF-CRYPT}")) {
        h = stored + strlen("{BLF-CRYPT}");
        want = AUTH_CRYPT_BCRYPT;
    } else if (stored[0] == '{') {
        return NULL;
    }
    enum auth_crypt_kind kind = auth_crypt_kind_of(h);
    if (kind == AUTH_CRYPT_UNKNOWN || (want != AUTH_CRYPT_UNKNOWN && want != kind))
        return NULL;
    *kind_r = kind;
    return h;
}

int auth_crypt_is_known(const char *stored)
{
    enum auth_crypt_kind kind;
    return auth_crypt_strip(stored, &kind) != NULL;
}

static int auth_crypt_is_b64(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '/'))
            return 0;
    }
    return 1;
}

/* $2y$NN$ + 22 characters of salt + 31 of hash; cost within our bound. */
static int auth_crypt_check_bcrypt(const char *h)
{
    uint64_t cost;
    if (strlen(h) != 60 || h[6] != '$' || str_to_u64(h + 4, 2, &cost) < 0 || cost < 4 ||
        cost > AUTH_CRYPT_BCRYPT_MAX_COST || !auth_crypt_is_b64(h + 7, 53))
        return PETREL_EINVAL;
    return 0;
}

/* $6$[rounds=N$]<salt, 1..16>$<86 characters>; rounds within our bound. */
static int auth_crypt_check_sha512(const char *h)
{
    const char *p = h + 3;
    uint64_t rounds;
    if (strncmp(p, "rounds=", 7) == 0) {
        const char *end = strchr(p + 7, '$');
        if (!end || str_to_u64(p + 7, (size_t)(end - p - 7), &rounds) < 0 ||
            rounds > AUTH_CRYPT_SHA512_MAX_ROUNDS)
            return PETREL_EINVAL;
        p = end + 1;
    }
    const char *salt_end = strchr(p, '$');
    if (!salt_end || salt_end == p || salt_end - p > 16)
        return PETREL_EINVAL;
    const char *hash = salt_end + 1;
    if (strlen(hash) != 86 || !auth_crypt_is_b64(hash, 86))
        return PETREL_EINVAL;
    return 0;
}

/* Refuses malformed hashes and those whose stated cost is above our bounds (DoS by import). */
static int auth_crypt_check_form(const char *h, enum auth_crypt_kind kind)
{
    return kind == AUTH_CRYPT_BCRYPT ? auth_crypt_check_bcrypt(h) : auth_crypt_check_sha512(h);
}

int auth_crypt_verify(const char *pw, size_t pwlen, const char *stored)
{
    enum auth_crypt_kind kind = AUTH_CRYPT_UNKNOWN;
    const char *h = auth_crypt_strip(stored, &kind);
    if (!h || auth_crypt_check_form(h, kind) < 0)
        return PETREL_EINVAL;
    char *pwz = malloc(pwlen + 1);
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    int rc = PETREL_ENOMEM;
    if (!pwz || !cd)
        goto out;
    memcpy(pwz, pw, pwlen);
    pwz[pwlen] = '\0';
    const char *out = crypt_rn(pwz, h, cd, (int)sizeof(*cd));
    size_t hlen = strlen(h);
    if (!out || out[0] == '*')
        rc = PETREL_EINVAL; /* libxcrypt rejected the setting (salt, rounds) */
    else if (memchr(pw, '\0', pwlen) != NULL)
        rc = PETREL_EPERM; /* crypt(3) would have compared a prefix only */
    else if (strlen(out) == hlen && CRYPTO_memcmp(out, h, hlen) == 0)
        rc = 0;
    else
        rc = PETREL_EPERM;
out:
    if (pwz)
        OPENSSL_cleanse(pwz, pwlen + 1);
    if (cd)
        OPENSSL_cleanse(cd, sizeof(*cd));
    free(pwz);
    free(cd);
    return rc;
}
