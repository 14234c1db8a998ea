#include "auth/mac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "util/err.h"

int auth_mac_secret_new(uint8_t *secret)
{
    return RAND_bytes(secret, AUTH_MAC_LEN) == 1 ? 0 : PETREL_EIO;
}

int auth_mac_compute(const uint8_t *secret, const struct auth_mac_part *parts, size_t nparts,
                     uint8_t *out)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    int ok = ctx && EVP_MAC_init(ctx, secret, AUTH_MAC_LEN, params) == 1;
    for (size_t i = 0; ok && i < nparts; i++)
        ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len) == 1;
    size_t outl = 0;
    ok = ok && EVP_MAC_final(ctx, out, &outl, AUTH_MAC_LEN) == 1 && outl == AUTH_MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : PETREL_EIO;
}
