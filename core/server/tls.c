/* tls.c - server SSL_CTX, atomic reload, self-signed certificates. See tls.h. */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "util/err.h"
#include "util/log.h"

/* TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are OpenSSL's defaults. */
#define TLS_CIPHERS_12                                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct srv_tls {
    pthread_mutex_t mu;
    SSL_CTX *ctx;
};

static void tls_fail(char *errbuf, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "unknown";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    else if (errno)
        snprintf(reason, sizeof(reason), "%s", strerror(errno));
    ERR_clear_error();
    log_error("event=tls_load_failed what=\"%s\" file=\"%s\" reason=\"%s\"", what, file, reason);
    if (errbuf && errlen) snprintf(errbuf, errlen, "%s: %s: %s", file, what, reason);
}

static EVP_PKEY *tls_read_key(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    if (!b) return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

static SSL_CTX *tls_ctx_make(const char *cert, const char *key, char *errbuf, size_t errlen,
                             int *rc_r)
{
    EVP_PKEY *pkey = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    *rc_r = PETREL_ENOMEM;
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0); /* no resumption: no cache, no tickets */
    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12);
    errno = 0;
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_fail(errbuf, errlen, "cannot load certificate chain", cert);
        *rc_r = PETREL_EIO;
    } else if (!(pkey = tls_read_key(key))) {
        tls_fail(errbuf, errlen, "cannot load private key", key);
        *rc_r = PETREL_EIO;
    } else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        tls_fail(errbuf, errlen, "private key does not match the certificate", key);
        *rc_r = PETREL_EINVAL;
    } else {
        EVP_PKEY_free(pkey);
        *rc_r = 0;
        return ctx;
    }
    EVP_PKEY_free(pkey);
    SSL_CTX_free(ctx);
    return NULL;
}

int srv_tls_new(const char *cert_file, const char *key_file, srv_tls_t **tls_r, char *errbuf,
                size_t errlen)
{
    int rc;
    SSL_CTX *ctx = tls_ctx_make(cert_file, key_file, errbuf, errlen, &rc);
    if (!ctx) return rc;
    srv_tls_t *tls = calloc(1, sizeof(*tls));
    if (!tls) {
        SSL_CTX_free(ctx);
        return PETREL_ENOMEM;
    }
    pthread_mutex_init(&tls->mu, NULL);
    tls->ctx = ctx;
    log_info("event=tls_loaded cert=\"%s\"", cert_file);
    *tls_r = tls;
    return 0;
}

void srv_tls_free(srv_tls_t **tlsp)
{
    srv_tls_t *tls = *tlsp;
    if (!tls) return;
    SSL_CTX_free(tls->ctx);
    pthread_mutex_destroy(&tls->mu);
    free(tls);
    *tlsp = NULL;
}

int srv_tls_reload(srv_tls_t *tls, const char *cert_file, const char *key_file, char *errbuf,
                   size_t errlen)
{
    int rc;
    SSL_CTX *ctx = tls_ctx_make(cert_file, key_file, errbuf, errlen, &rc);
    if (!ctx) return rc;
    pthread_mutex_lock(&tls->mu);
    SSL_CTX *old = tls->ctx;
    tls->ctx = ctx;
    pthread_mutex_unlock(&tls->mu);
    SSL_CTX_free(old); /* open SSLs hold their own reference */
    log_info("event=tls_reloaded cert=\"%s\"", cert_file);
    return 0;
}

SSL *srv_tls_ssl_new(srv_tls_t *tls)
{
    pthread_mutex_lock(&tls->mu);
    SSL *ssl = SSL_new(tls->ctx);
    pthread_mutex_unlock(&tls->mu);
    if (!ssl) log_error("event=tls_ssl_new_failed");
    return ssl;
}

/* ---------------------------------------------------------------- self-signed */
static int tls_write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        log_error("event=tls_selfsigned_failed file=\"%s\" errno=%d", path, errno);
        return PETREL_EIO;
    }
    fchmod(fd, mode);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return PETREL_EIO;
    }
    int ok =
        key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    if (fclose(f) != 0 || ok != 1) {
        log_error("event=tls_selfsigned_failed file=\"%s\" reason=write", path);
        return PETREL_EIO;
    }
    return 0;
}

static int tls_add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext) return PETREL_EINVAL;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : PETREL_ENOMEM;
}

static X509 *tls_make_cert(EVP_PKEY *key, const char *hostname)
{
    char san[600];
    int n = snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
    if (n < 0 || (size_t)n >= sizeof(san)) return NULL;
    X509 *cert = X509_new();
    if (!cert) return NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = X509_set_version(cert, 2) == 1 && RAND_bytes(serial, sizeof(serial)) == 1;
    serial[0] &= 0x7f;
    if (ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL)
        ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600) &&
         X509_set_pubkey(cert, key) == 1;
    X509_NAME *name = X509_get_subject_name(cert);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname,
                                          -1, -1, 0) == 1;
    ok = ok && X509_set_issuer_name(cert, name) == 1;
    ok = ok && tls_add_ext(cert, NID_subject_alt_name, san) == 0 &&
         tls_add_ext(cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
         tls_add_ext(cert, NID_ext_key_usage, "serverAuth") == 0;
    ok = ok && X509_sign(cert, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

int srv_tls_make_selfsigned(const char *dir, const char *hostname)
{
    char kpath[4096], cpath[4096];
    if (strlen(hostname) == 0 || strlen(hostname) > 253 ||
        (size_t)snprintf(kpath, sizeof(kpath), "%s/key.pem", dir) >= sizeof(kpath) ||
        (size_t)snprintf(cpath, sizeof(cpath), "%s/cert.pem", dir) >= sizeof(cpath))
        return PETREL_EINVAL;
    if (access(kpath, R_OK) == 0 && access(cpath, R_OK) == 0) return 0;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) return PETREL_ENOMEM;
    X509 *cert = tls_make_cert(key, hostname);
    int rc = cert ? 0 : PETREL_EINVAL;
    if (rc == 0) rc = tls_write_pem(kpath, 0600, key, NULL);
    if (rc == 0) rc = tls_write_pem(cpath, 0644, NULL, cert);
    X509_free(cert);
    EVP_PKEY_free(key);
    if (rc == 0)
        log_info("event=tls_selfsigned_created dir=\"%s\" cn=\"%s\"", dir, hostname);
    else
        log_error("event=tls_selfsigned_failed dir=\"%s\"", dir);
    return rc;
}
