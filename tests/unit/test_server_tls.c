/* test_server_tls.c - core/server/tls.c and TLS in conn.c, with real clients:
 * openssl s_client, python3's ssl module (server_tls_client.py) and OpenSSL
 * in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "server_test_util.h"

static char dir_a[64], dir_b[64];
static char cert_a[128], key_a[128], cert_b[128], key_b[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir_a, "/tmp/petrel-tls-a-XXXXXX");
    strcpy(dir_b, "/tmp/petrel-tls-b-XXXXXX");
    if (!mkdtemp(dir_a) || !mkdtemp(dir_b)) return -1;
    snprintf(cert_a, sizeof(cert_a), "%s/cert.pem", dir_a);
    snprintf(key_a, sizeof(key_a), "%s/key.pem", dir_a);
    snprintf(cert_b, sizeof(cert_b), "%s/cert.pem", dir_b);
    snprintf(key_b, sizeof(key_b), "%s/key.pem", dir_b);
    if (srv_tls_make_selfsigned(dir_a, "a.mail.test") != 0 ||
        srv_tls_make_selfsigned(dir_b, "b.mail.test") != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir_a, dir_b);
    return system(cmd) == 0 ? 0 : -1;
}

static X509 *load_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

static void cert_sha256_hex(const char *path, char *hex)
{
    X509 *x = load_cert(path);
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
    for (unsigned i = 0; i < n; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    X509_free(x);
}

/* Runs a shell command, returns its stdout (static buffer). */
static const char *run(const char *cmd)
{
    static char out[16384];
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

/* server_tls_client.py: under PETREL_SOURCE_DIR, else beside this file. */
static void script_path(char *buf, size_t len)
{
    const char *src = getenv("PETREL_SOURCE_DIR");
    if (src) {
        snprintf(buf, len, "%s/tests/unit/server_tls_client.py", src);
        return;
    }
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    size_t off = slash ? (size_t)(slash + 1 - buf) : 0;
    snprintf(buf + off, len - off, "server_tls_client.py");
}

static const char *py_client(const char *mode, uint16_t port, const char *maxver)
{
    char script[512], cmd[768];
    script_path(script, sizeof(script));
    snprintf(cmd, sizeof(cmd), "timeout 20 python3 '%s' %s %u %s", script, mode, port,
             maxver ? maxver : "");
    return run(cmd);
}

static void test_selfsigned_files(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(key_a, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    X509 *x = load_cert(cert_a);
    assert_int_equal(X509_check_host(x, "a.mail.test", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
    assert_int_equal(X509_check_host(x, "other.test", 0, 0, NULL), 0);
    char cn[64];
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, "a.mail.test");
    X509_free(x);
    /* present: not replaced */
    char before[65], after[65];
    cert_sha256_hex(cert_a, before);
    assert_int_equal(srv_tls_make_selfsigned(dir_a, "a.mail.test"), 0);
    cert_sha256_hex(cert_a, after);
    assert_string_equal(before, after);
}

static void test_load_errors_name_the_file(void **state)
{
    (void)state;
    srv_tls_t *tls = NULL;
    char err[512];
    assert_int_equal(srv_tls_new("/nonexistent/cert.pem", key_a, &tls, err, sizeof(err)),
                     PETREL_EIO);
    assert_non_null(strstr(err, "/nonexistent/cert.pem"));
    assert_int_equal(srv_tls_new(cert_a, "/nonexistent/key.pem", &tls, err, sizeof(err)),
                     PETREL_EIO);
    assert_non_null(strstr(err, "/nonexistent/key.pem"));
    assert_int_equal(srv_tls_new(cert_a, key_b, &tls, err, sizeof(err)), PETREL_EINVAL);
    assert_non_null(strstr(err, key_b));
    assert_null(tls);
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, err, sizeof(err)), 0);
    /* a failed reload keeps the old context */
    assert_int_equal(srv_tls_reload(tls, cert_a, key_b, err, sizeof(err)), PETREL_EINVAL);
    SSL *ssl = srv_tls_ssl_new(tls);
    assert_non_null(ssl);
    SSL_free(ssl);
    srv_tls_free(&tls);
    assert_null(tls);
}

static void test_implicit_s_client(void **state)
{
    (void)state;
    srv_tls_t *tls = NULL;
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, NULL, 0), 0);
    struct ts_server *srv = ts_start(NULL, SRV_TLS_IMPLICIT, tls, 0, 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "printf 'INFO\\r\\nQUIT\\r\\n' | timeout 20 openssl s_client -connect 127.0.0.1:%u "
             "-quiet -ign_eof 2>/dev/null",
             srv->port);
    const char *out = run(cmd);
    assert_non_null(strstr(out, "INFO tls=1 version=TLSv1.3 cipher=TLS_"));
    assert_non_null(strstr(out, "loopback=1"));
    assert_non_null(strstr(out, "BYE"));
    /* TLS 1.2 negotiates an ECDHE AEAD suite */
    snprintf(cmd, sizeof(cmd),
             "printf 'INFO\\r\\nQUIT\\r\\n' | timeout 20 openssl s_client -connect 127.0.0.1:%u "
             "-tls1_2 -quiet -ign_eof 2>/dev/null",
             srv->port);
    out = run(cmd);
    assert_non_null(strstr(out, "INFO tls=1 version=TLSv1.2 cipher=ECDHE-ECDSA-"));
    assert_non_null(strstr(out, "GCM") ? strstr(out, "GCM") : strstr(out, "CHACHA20"));
    /* TLS 1.1, even from a client willing to use it, is refused */
    unsigned fails = atomic_load(&srv->tls_fail);
    snprintf(cmd, sizeof(cmd),
             "printf 'INFO\\r\\n' | timeout 20 openssl s_client -connect 127.0.0.1:%u "
             "-tls1_1 -cipher DEFAULT@SECLEVEL=0 -quiet -ign_eof 2>/dev/null; echo rc=$?",
             srv->port);
    out = run(cmd);
    assert_null(strstr(out, "INFO tls=1"));
    assert_null(strstr(out, "rc=0"));
    for (int i = 0; i < 100 && atomic_load(&srv->tls_fail) == fails; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->tls_fail), fails + 1); /* the server saw and refused it */
    ts_stop(&srv);
    srv_tls_free(&tls);
}

static void test_implicit_python_versions(void **state)
{
    (void)state;
    srv_tls_t *tls = NULL;
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, NULL, 0), 0);
    struct ts_server *srv = ts_start(NULL, SRV_TLS_IMPLICIT, tls, 0, 0);
    const char *out = py_client("implicit", srv->port, NULL);
    assert_non_null(strstr(out, "INFO tls=1 version=TLSv1.3"));
    assert_non_null(strstr(out, "HANDSHAKE OK"));
    out = py_client("implicit", srv->port, "1.2");
    assert_non_null(strstr(out, "INFO tls=1 version=TLSv1.2 cipher=ECDHE-ECDSA-"));
    unsigned fails = atomic_load(&srv->tls_fail);
    out = py_client("implicit", srv->port, "1.1");
    assert_non_null(strstr(out, "HANDSHAKE FAIL"));
    for (int i = 0; i < 100 && atomic_load(&srv->tls_fail) == fails; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->tls_fail), fails + 1);
    ts_stop(&srv);
    srv_tls_free(&tls);
}

static void test_starttls_discards_injected_input(void **state)
{
    (void)state;
    srv_tls_t *tls = NULL;
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, NULL, 0), 0);
    struct ts_server *srv = ts_start(NULL, SRV_TLS_STARTTLS, tls, 0, 0);
    const char *out = py_client("starttls", srv->port, NULL);
    assert_non_null(strstr(out, "OK go"));
    assert_non_null(strstr(out, "HANDSHAKE OK"));
    assert_non_null(strstr(out, "INFO tls=1 version=TLSv1.3"));
    assert_null(strstr(out, "INJECT")); /* never seen as a command, before or after TLS */
    assert_null(strstr(out, "LEAK"));
    assert_int_equal(atomic_load(&srv->tls_fail), 0);
    /* lines: STARTTLS, INFO, QUIT - not INJECT */
    for (int i = 0; i < 100 && atomic_load(&srv->closes) == 0; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->lines), 3);
    ts_stop(&srv);
    srv_tls_free(&tls);
}

/* In-process OpenSSL client: connect + handshake on a blocking socket. */
static SSL *tls_client(uint16_t port, SSL_CTX *cctx, int *fd_r)
{
    int fd = tc_connect(port, NULL);
    assert_true(fd >= 0);
    SSL *ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    assert_int_equal(SSL_connect(ssl), 1);
    *fd_r = fd;
    return ssl;
}

static void tls_cmd(SSL *ssl, const char *cmd, char *reply, size_t len)
{
    assert_true(SSL_write(ssl, cmd, (int)strlen(cmd)) > 0);
    size_t n = 0;
    while (n + 1 < len) {
        int r = SSL_read(ssl, reply + n, 1);
        assert_true(r == 1);
        if (reply[n++] == '\n') break;
    }
    reply[n] = '\0';
}

static void test_reload_keeps_open_sessions(void **state)
{
    (void)state;
    srv_tls_t *tls = NULL;
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, NULL, 0), 0);
    struct ts_server *srv = ts_start(NULL, SRV_TLS_IMPLICIT, tls, 0, 0);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    X509 *xa = load_cert(cert_a), *xb = load_cert(cert_b);
    int fd1, fd2;
    SSL *s1 = tls_client(srv->port, cctx, &fd1);
    X509 *p1 = SSL_get1_peer_certificate(s1);
    assert_int_equal(X509_cmp(p1, xa), 0);
    assert_int_equal(srv_tls_reload(tls, cert_b, key_b, NULL, 0), 0);
    SSL *s2 = tls_client(srv->port, cctx, &fd2);
    X509 *p2 = SSL_get1_peer_certificate(s2);
    assert_int_equal(X509_cmp(p2, xb), 0); /* new connections: the new certificate */
    char reply[256];
    tls_cmd(s1, "still\r\n", reply, sizeof(reply)); /* the old session still works */
    assert_string_equal(reply, "L 1 still\r\n");
    tls_cmd(s2, "new\r\n", reply, sizeof(reply));
    assert_string_equal(reply, "L 1 new\r\n");
    char hex[65];
    cert_sha256_hex(cert_b, hex);
    assert_non_null(strstr(py_client("implicit", srv->port, NULL), hex));
    X509_free(p1);
    X509_free(p2);
    X509_free(xa);
    X509_free(xb);
    SSL_free(s1);
    SSL_free(s2);
    close(fd1);
    close(fd2);
    SSL_CTX_free(cctx);
    ts_stop(&srv);
    srv_tls_free(&tls);
}

static void test_tls_backpressure_bounded(void **state)
{
    (void)state;
    srv_tls_t *tls = NULL;
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, NULL, 0), 0);
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    set.out_high = 64 * 1024;
    set.out_low = 16 * 1024;
    set.out_max = 256 * 1024;
    struct ts_server *srv = ts_start(&set, SRV_TLS_IMPLICIT, tls, 0, 0);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    int fd;
    SSL *s = tls_client(srv->port, cctx, &fd);
    const size_t total = 4u * 1024 * 1024;
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "BIG %zu\r\n", total);
    assert_true(SSL_write(s, cmd, (int)strlen(cmd)) > 0);
    for (int i = 0; i < 300 && atomic_load(&srv->max_out) < set.out_high; i++)
        ts_sleep_ms(10);
    assert_true(atomic_load(&srv->max_out) >= set.out_high); /* throttled at least once */
    assert_true(atomic_load(&srv->max_out) <= set.out_high + 8192);
    static char rb[16384];
    size_t got = 0;
    while (got < total) {
        int r = SSL_read(s, rb, sizeof(rb));
        assert_true(r > 0);
        got += (size_t)r;
    }
    assert_int_equal(got, total);
    char reply[64];
    tls_cmd(s, "done\r\n", reply, sizeof(reply));
    assert_string_equal(reply, "L 1 done\r\n");
    SSL_free(s);
    close(fd);
    SSL_CTX_free(cctx);
    ts_stop(&srv);
    srv_tls_free(&tls);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* from the sanitizer runtime (gcc ships no header for it) */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}
#endif

/* Server-side heap per idle TLS connection (SSL object with released buffers). */
static void test_idle_tls_footprint(void **state)
{
    (void)state;
    enum { N = 40 };
    srv_tls_t *tls = NULL;
    assert_int_equal(srv_tls_new(cert_a, key_a, &tls, NULL, 0), 0);
    struct ts_server *srv = ts_start(NULL, SRV_TLS_IMPLICIT, tls, 0, 0);
    free((void *)strdup(py_client("implicit", srv->port, NULL))); /* warm-up */
    ts_sleep_ms(50);
    size_t before = heap_in_use();
    char script[512], cmd[768], line[64];
    script_path(script, sizeof(script));
    snprintf(cmd, sizeof(cmd), "timeout 20 python3 '%s' hold %u %d", script, srv->port, N);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof(line), p));
    assert_string_equal(line, "READY\n");
    ts_sleep_ms(50);
    size_t after = heap_in_use();
    pclose(p);
    size_t per = (after - before) / N;
    print_message("idle TLS connection: %zu bytes of heap\n", per);
    assert_true(after > before);
    assert_true(per < 32 * 1024);
    ts_stop(&srv);
    srv_tls_free(&tls);
}

int main(void)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    mallopt(M_ARENA_MAX, 1); /* before any thread: the footprint test sees every allocation */
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selfsigned_files),
        cmocka_unit_test(test_load_errors_name_the_file),
        cmocka_unit_test(test_implicit_s_client),
        cmocka_unit_test(test_implicit_python_versions),
        cmocka_unit_test(test_starttls_discards_injected_input),
        cmocka_unit_test(test_reload_keeps_open_sessions),
        cmocka_unit_test(test_tls_backpressure_bounded),
        cmocka_unit_test(test_idle_tls_footprint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
