#include "auth/password.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password_crypt.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/log.h"

#define AUTH_SCRYPT_PREFIX "$scrypt$"
#define AUTH_SCRYPT_SALT_MIN 4 /* RFC 7914's vectors use "NaCl"; ours are 16 */
#define AUTH_SCRYPT_SALT_MAX 64
#define AUTH_SCRYPT_KEY_MIN 16
#define AUTH_SCRYPT_KEY_MAX 64

/* A parsed $scrypt$ string. */
struct auth_scrypt_hash {
    struct auth_scrypt_params params;
    uint8_t salt[AUTH_SCRYPT_SALT_MAX];
    size_t salt_len;
    uint8_t key[AUTH_SCRYPT_KEY_MAX];
    size_t key_len;
};

void auth_scrypt_params_default(struct auth_scrypt_params *p)
{
    p->ln = AUTH_SCRYPT_DEFAULT_LN;
    p->r = AUTH_SCRYPT_DEFAULT_R;
    p->p = AUTH_SCRYPT_DEFAULT_P;
}

int auth_scrypt_params_check(const struct auth_scrypt_params *p)
{
    if (p->ln < 1 || p->ln > AUTH_SCRYPT_MAX_LN || p->r < 1 || p->r > AUTH_SCRYPT_MAX_R ||
        p->p < 1 || p->p > AUTH_SCRYPT_MAX_P ||
        ((uint64_t)p->r * p->p << p->ln) > AUTH_SCRYPT_MAX_WORK)
        return PETREL_EINVAL;
    /* the same accounting as OpenSSL's scrypt: V = 128*r*(N+2), B = 128*r*p */
    uint64_t mem = 128ull * p->r * ((1ull << p->ln) + 2) + 128ull * p->r * p->p;
    return mem <= AUTH_SCRYPT_MAX_MEM ? 0 : PETREL_EINVAL;
}

/* Derives key_len bytes; 0 or PETREL_EIO (logged). Parameters must have been checked. */
static int auth_scrypt_derive(const char *pw, size_t pwlen, const uint8_t *salt, size_t salt_len,
                              const struct auth_scrypt_params *p, uint8_t *key, size_t key_len)
{
    uint64_t n = 1ull << p->ln;
    uint64_t maxmem = (uint64_t)AUTH_SCRYPT_MAX_MEM + 65536;
    uint32_t r = p->r, par = p->p;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, pwlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int ok = ctx && EVP_KDF_derive(ctx, key, key_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    if (!ok) {
        log_error("event=auth_scrypt_failed ln=%u r=%u p=%u openssl_err=%lu", p->ln, p->r, p->p,
                  ERR_get_error());
        ERR_clear_error();
        return PETREL_EIO;
    }
    return 0;
}

int auth_password_hash(const char *pw, size_t pwlen, const struct auth_scrypt_params *p,
                       char **hash_r)
{
    struct auth_scrypt_params def;
    if (!p) {
        auth_scrypt_params_default(&def);
        p = &def;
    }
    if (auth_scrypt_params_check(p) < 0)
        return PETREL_EINVAL;
    if (pwlen > AUTH_PASSWORD_MAX)
        return PETREL_ETOOBIG;
    uint8_t salt[AUTH_SCRYPT_SALT_LEN], key[AUTH_SCRYPT_KEY_LEN];
    if (RAND_bytes(salt, sizeof(salt)) != 1) {
        log_error("event=auth_rand_failed openssl_err=%lu", ERR_get_error());
        return PETREL_EIO;
    }
    int rc = auth_scrypt_derive(pw, pwlen, salt, sizeof(salt), p, key, sizeof(key));
    char salt64[32], key64[48];
    if (rc == 0) {
        base64_encode(salt, sizeof(salt), BASE64_PAD_NONE, salt64, sizeof(salt64), NULL);
        base64_encode(key, sizeof(key), BASE64_PAD_NONE, key64, sizeof(key64), NULL);
        char *out = malloc(AUTH_HASH_MAX);
        if (!out)
            rc = PETREL_ENOMEM;
        else {
            snprintf(out, AUTH_HASH_MAX, AUTH_SCRYPT_PREFIX "ln=%u,r=%u,p=%u$%s$%s", p->ln, p->r,
                     p->p, salt64, key64);
            *hash_r = out;
        }
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(key64, sizeof(key64));
    return rc;
}

/* Parses "<name>=<decimal>" at *pp up to the byte `stop`; no sign, no leading zero. */
static int auth_scrypt_parse_u32(const char **pp, const char *name, char stop, uint32_t *v_r)
{
    size_t nl = strlen(name);
    const char *p = *pp;
    if (strncmp(p, name, nl) != 0 || p[nl] != '=')
        return PETREL_EINVAL;
    p += nl + 1;
    uint32_t v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 9 || (digits == 1 && v == 0))
            return PETREL_EINVAL;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    if (digits == 0 || *p != stop)
        return PETREL_EINVAL;
    *v_r = v;
    *pp = p + 1;
    return 0;
}

static int auth_scrypt_parse(const char *stored, struct auth_scrypt_hash *h)
{
    const char *p = stored + strlen(AUTH_SCRYPT_PREFIX);
    if (auth_scrypt_parse_u32(&p, "ln", ',', &h->params.ln) < 0 ||
        auth_scrypt_parse_u32(&p, "r", ',', &h->params.r) < 0 ||
        auth_scrypt_parse_u32(&p, "p", '$', &h->params.p) < 0 ||
        auth_scrypt_params_check(&h->params) < 0)
        return PETREL_EINVAL;
    const char *salt_end = strchr(p, '$');
    if (!salt_end)
        return PETREL_EINVAL;
    const char *key = salt_end + 1;
    if (base64_decode(p, (size_t)(salt_end - p), BASE64_PAD_NONE, h->salt, sizeof(h->salt),
                      &h->salt_len) < 0 ||
        base64_decode(key, strlen(key), BASE64_PAD_NONE, h->key, sizeof(h->key), &h->key_len) < 0)
        return PETREL_EINVAL;
    if (h->salt_len < AUTH_SCRYPT_SALT_MIN || h->key_len < AUTH_SCRYPT_KEY_MIN)
        return PETREL_EINVAL;
    return 0;
}

static int auth_scrypt_weaker(const struct auth_scrypt_params *have,
                              const struct auth_scrypt_params *want)
{
    return have->ln < want->ln || have->r < want->r || have->p < want->p;
}

static int auth_scrypt_verify(const char *pw, size_t pwlen, const char *stored,
                              const struct auth_scrypt_params *current, int *rehash_r)
{
    struct auth_scrypt_hash h;
    uint8_t key[AUTH_SCRYPT_KEY_MAX];
    int rc = auth_scrypt_parse(stored, &h);
    if (rc == 0)
        rc = auth_scrypt_derive(pw, pwlen, h.salt, h.salt_len, &h.params, key, h.key_len);
    if (rc == 0) {
        rc = CRYPTO_memcmp(key, h.key, h.key_len) == 0 ? 0 : PETREL_EPERM;
        if (rc == 0)
            *rehash_r = auth_scrypt_weaker(&h.params, current);
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(&h, sizeof(h));
    return rc;
}

int auth_password_verify_with(const char *pw, size_t pwlen, const char *stored,
                              const struct auth_scrypt_params *current, int *rehash_r)
{
    int rehash = 0, rc;
    if (!stored || strnlen(stored, AUTH_HASH_MAX + 1) > AUTH_HASH_MAX)
        rc = PETREL_EINVAL;
    else if (pwlen > AUTH_PASSWORD_MAX)
        rc = PETREL_ETOOBIG;
    else if (strncmp(stored, AUTH_SCRYPT_PREFIX, strlen(AUTH_SCRYPT_PREFIX)) == 0)
        rc = auth_scrypt_verify(pw, pwlen, stored, current, &rehash);
    else if (auth_crypt_is_known(stored)) {
        rc = auth_crypt_verify(pw, pwlen, stored);
        rehash = rc == 0;
    } else
        rc = PETREL_EINVAL;
    if (rehash_r)
        *rehash_r = rehash;
    return rc;
}

int auth_password_verify(const char *pw, size_t pwlen, const char *stored, int *rehash_r)
{
    struct auth_scrypt_params def;
    auth_scrypt_params_default(&def);
    return auth_password_verify_with(pw, pwlen, stored, &def, rehash_r);
}
