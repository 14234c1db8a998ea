/*
 * tls.h - the server's OpenSSL 3 context: TLS 1.2 and 1.3 only, server cipher
 * preference, ECDHE+AEAD ciphers, no compression, no renegotiation,
 * SSL_MODE_RELEASE_BUFFERS (idle TLS connections drop their record buffers).
 *
 * A srv_tls_t holds the current SSL_CTX behind a mutex. srv_tls_reload()
 * swaps a new one in atomically (SIGHUP): SSL objects already made keep a
 * reference to the old context, which OpenSSL frees with its last user.
 */
#ifndef PETREL_SERVER_TLS_H
#define PETREL_SERVER_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

typedef struct srv_tls srv_tls_t;

/* Loads the certificate chain (PEM, leaf first) and the private key.
 * On failure returns PETREL_EIO (file unreadable / not PEM) or PETREL_EINVAL
 * (key does not match the certificate); the reason, naming the file, is
 * logged and, when errbuf is not NULL, copied to errbuf (NUL-terminated).
 * The caller owns *tls_r (srv_tls_free). */
int srv_tls_new(const char *cert_file, const char *key_file, srv_tls_t **tls_r, char *errbuf,
                size_t errlen);
void srv_tls_free(srv_tls_t **tls);

/* Loads a new context and swaps it in; on failure the old one stays in use.
 * Thread-safe against srv_tls_ssl_new(). Same errors as srv_tls_new(). */
int srv_tls_reload(srv_tls_t *tls, const char *cert_file, const char *key_file, char *errbuf,
                   size_t errlen);

/* A new server-side SSL from the current context, or NULL (logged). The
 * caller owns it (SSL_free). Thread-safe. */
SSL *srv_tls_ssl_new(srv_tls_t *tls);

/* Creates <dir>/key.pem (EC P-256, mode 0600) and <dir>/cert.pem
 * (self-signed, 10 years, CN=hostname, SAN = hostname, localhost,
 * 127.0.0.1, ::1) unless both already exist. 0, PETREL_EINVAL (name too
 * long), PETREL_EIO (logged with the file) or PETREL_ENOMEM. */
int srv_tls_make_selfsigned(const char *dir, const char *hostname);

#endif
