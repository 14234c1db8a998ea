/*
 * password.h - password hashing (scrypt) and verification of stored hashes.
 *
 * New hashes are scrypt (OpenSSL 3 EVP_KDF "SCRYPT"), stored self-describing:
 *   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<key base64>
 * (standard base64 without padding; 16-byte random salt, 32-byte key).
 * Verification also accepts imported crypt(3) hashes, via libxcrypt:
 *   SHA512-CRYPT: "$6$..." or "{SHA512-CRYPT}$6$..."
 *   bcrypt:       "$2a$", "$2b$", "$2y$", or "{BLF-CRYPT}" followed by one of them
 * and asks for a re-hash of those (and of scrypt hashes weaker than the
 * current parameters) so that the caller can store a fresh scrypt hash after
 * the next successful login.
 *
 * Cost is bounded whatever the stored string says: scrypt parameters must pass
 * auth_scrypt_params_check() (memory <= AUTH_SCRYPT_MAX_MEM), SHA512-CRYPT
 * rounds <= AUTH_CRYPT_SHA512_MAX_ROUNDS, bcrypt cost <= AUTH_CRYPT_BCRYPT_MAX_COST.
 * All functions are slow on purpose (tens of ms): call them off the event
 * loop (auth/pool.h). They are thread-safe.
 */
#ifndef PETREL_AUTH_PASSWORD_H
#define PETREL_AUTH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_PASSWORD_MAX 1024 /* longest password accepted, bytes */
#define AUTH_HASH_MAX 512      /* longest stored hash string accepted */

#define AUTH_SCRYPT_DEFAULT_LN 14
#define AUTH_SCRYPT_DEFAULT_R 8
#define AUTH_SCRYPT_DEFAULT_P 1
#define AUTH_SCRYPT_MAX_LN 20
#define AUTH_SCRYPT_MAX_R 32
#define AUTH_SCRYPT_MAX_P 16
#define AUTH_SCRYPT_MAX_WORK (1u << 23)          /* N * r * p: bounds the CPU time (64x default) */
#define AUTH_SCRYPT_MAX_MEM (256u * 1024 * 1024) /* 128*r*(N+2) + 128*r*p bytes */
#define AUTH_SCRYPT_SALT_LEN 16
#define AUTH_SCRYPT_KEY_LEN 32
#define AUTH_CRYPT_SHA512_MAX_ROUNDS 1000000
#define AUTH_CRYPT_BCRYPT_MAX_COST 16

struct auth_scrypt_params {
    uint32_t ln; /* log2 of N, 1..AUTH_SCRYPT_MAX_LN */
    uint32_t r;  /* block size, 1..AUTH_SCRYPT_MAX_R */
    uint32_t p;  /* parallelism, 1..AUTH_SCRYPT_MAX_P */
};

/* Fills p with the defaults (ln=14 r=8 p=1: 16 MiB, ~50 ms). */
void auth_scrypt_params_default(struct auth_scrypt_params *p);
/* 0 when p is within every bound above, else PETREL_EINVAL. */
int auth_scrypt_params_check(const struct auth_scrypt_params *p);

/*
 * Hashes [pw, pw+pwlen) (any bytes) with a fresh random salt. p NULL means
 * the defaults. *hash_r is a malloc'ed NUL-terminated string owned by the
 * caller (free()). Errors: PETREL_EINVAL (bad params), PETREL_ETOOBIG
 * (pwlen > AUTH_PASSWORD_MAX), PETREL_ENOMEM, PETREL_EIO (OpenSSL failure,
 * logged).
 */
int auth_password_hash(const char *pw, size_t pwlen, const struct auth_scrypt_params *p,
                       char **hash_r);

/*
 * Checks [pw, pw+pwlen) against the NUL-terminated stored hash.
 * Returns 0 on a match, PETREL_EPERM on a mismatch, PETREL_EINVAL when stored
 * is of an unknown scheme, malformed, or asks for more than the cost bounds,
 * PETREL_ETOOBIG when pwlen > AUTH_PASSWORD_MAX, PETREL_ENOMEM, PETREL_EIO.
 * *rehash_r (may be NULL) is set to 1 only on a match whose scheme is not
 * scrypt or whose scrypt parameters are weaker than `current` (any of ln, r, p
 * lower); otherwise 0. auth_password_verify() compares with the defaults.
 * A password with a NUL byte never matches a crypt(3) hash.
 */
int auth_password_verify(const char *pw, size_t pwlen, const char *stored, int *rehash_r);
int auth_password_verify_with(const char *pw, size_t pwlen, const char *stored,
                              const struct auth_scrypt_params *current, int *rehash_r);

#endif
