/* password_crypt.h - internal to core/auth: crypt(3) (libxcrypt) hash verification. */
#ifndef PETREL_AUTH_PASSWORD_CRYPT_H
#define PETREL_AUTH_PASSWORD_CRYPT_H

#include <stddef.h>

/*
 * 1 when stored names a crypt(3) scheme this module verifies (with or without
 * a {SHA512-CRYPT} / {BLF-CRYPT} prefix), else 0. Does not validate the rest.
 */
int auth_crypt_is_known(const char *stored);

/*
 * Verifies pw against a SHA512-CRYPT or bcrypt hash (prefix allowed).
 * 0 match, PETREL_EPERM mismatch, PETREL_EINVAL malformed/unsupported/over
 * the cost bounds of password.h, PETREL_ENOMEM.
 */
int auth_crypt_verify(const char *pw, size_t pwlen, const char *stored);

#endif
