/* Unit tests for core/server/config*.c: the parser, its errors, load, validate, dev default. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/config.h"
#include "util/err.h"

static char err[512];

static int parse(const char *text, struct srv_config **cfg_r)
{
    memset(err, 'x', sizeof(err) - 1);
    err[sizeof(err) - 1] = '\0';
    return srv_config_parse("c.conf", text, strlen(text), cfg_r, err, sizeof(err));
}

/* A minimal listener section so global-key tests have something to serve. */
#define L_IMAP "[listener imap]\nplugin = imap\naddress = 127.0.0.1:143\n"

static const char full_conf[] =
    "# Petrel test configuration\n"             /* 1 */
    "\n"                                        /* 2 */
    "data = /srv/petrel   # trailing comment\n" /* 3 */
    "hostname=mail.example.com\n"               /* 4 */
    "\tuser = petrel\r\n"                       /* 5 */
    "group = mail\n"                            /* 6 */
    "plugin_dir = /opt/petrel/plug#ins\n"       /* 7: '#' not after blank is kept */
    "tls_cert = /etc/petrel/fullchain.pem\n"    /* 8 */
    "tls_key = /etc/petrel/key.pem\n"           /* 9 */
    "workers = 3\n"                             /* 10 */
    "log_file = /var/log/petrel.log\n"          /* 11 */
    "log_level = debug\n"                       /* 12 */
    "auth_plaintext = never\n"                  /* 13 */
    "auth_scrypt_ln = 14\n"                     /* 14 */
    "auth_scrypt_r = 16\n"                      /* 15 */
    "auth_scrypt_p = 2\n"                       /* 16 */
    "auth_cache_ttl = 0\n"                      /* 17 */
    "max_connections = 500\n"                   /* 18 */
    "max_connections_per_ip = 0\n"              /* 19 */
    "idle_timeout = 600\n"                      /* 20 */
    "session_timeout = 7200\n"                  /* 21 */
    "max_line_length = 8192\n"                  /* 22 */
    "max_message_size = 25M\n"                  /* 23 */
    "pid_file = /run/petrel.pid\n"              /* 24 */
    "   # indented comment\n"                   /* 25 */
    "[listener imap]\n"                         /* 26 */
    "plugin = imap\n"                           /* 27 */
    "address = [::]:143        # IPv6 only\n"   /* 28 */
    "tls = starttls\n"                          /* 29 */
    "idle_timeout = 1800\n"                     /* 30 */
    "[ listener   imap4 ]\n"                    /* 31 */
    "plugin = imap\n"                           /* 32 */
    "address = 0.0.0.0:143\n"                   /* 33 */
    "[listener imaps]\n"                        /* 34 */
    "plugin=imap\n"                             /* 35 */
    "address = [2001:db8::25]:993\n"            /* 36 */
    "tls = implicit\n"                          /* 37 */
    "[listener submission]\n"                   /* 38 */
    "plugin = smtp\n"                           /* 39 */
    "mode = submission\n"                       /* 40 */
    "address = *:587\n"                         /* 41 */
    "tls = starttls\n"                          /* 42 */
    "max_message_size = 10k\n"                  /* 43 */
    "max_line_length = 1000\n"                  /* 44 */
    "max_connections = 50\n"                    /* 45 */
    "x_banner = Petrel ESMTP # ready\n";        /* 46, no final newline */

static void test_full_file(void **state)
{
    (void)state;
    struct srv_config *c = NULL;
    assert_int_equal(parse(full_conf, &c), 0);
    assert_non_null(c);
    assert_string_equal(c->file, "c.conf");
    assert_string_equal(c->data, "/srv/petrel");
    assert_string_equal(c->hostname, "mail.example.com");
    assert_string_equal(c->user, "petrel");
    assert_string_equal(c->group, "mail");
    assert_string_equal(c->plugin_dir, "/opt/petrel/plug#ins");
    assert_string_equal(c->tls_cert, "/etc/petrel/fullchain.pem");
    assert_string_equal(c->tls_key, "/etc/petrel/key.pem");
    assert_int_equal(c->tls_cert_line, 8);
    assert_int_equal(c->tls_key_line, 9);
    assert_false(c->tls_self_signed);
    assert_int_equal(c->workers, 3);
    assert_string_equal(c->log_file, "/var/log/petrel.log");
    assert_int_equal(c->log_level, LOG_LVL_DEBUG);
    assert_int_equal(c->auth_plaintext, SRV_AUTH_PLAIN_NEVER);
    assert_int_equal(c->auth_scrypt_ln, 14);
    assert_int_equal(c->auth_scrypt_r, 16);
    assert_int_equal(c->auth_scrypt_p, 2);
    assert_int_equal(c->auth_cache_ttl, 0);
    assert_int_equal(c->limits.max_connections, 500);
    assert_int_equal(c->max_connections_per_ip, 0);
    assert_int_equal(c->limits.idle_timeout, 600);
    assert_int_equal(c->session_timeout, 7200);
    assert_int_equal(c->limits.max_line_length, 8192);
    assert_int_equal(c->limits.max_message_size, 25 * 1024 * 1024);
    assert_string_equal(c->pid_file, "/run/petrel.pid");
    assert_int_equal(c->n_listeners, 4);

    const struct srv_listener *l = &c->listeners[0];
    assert_string_equal(l->name, "imap");
    assert_string_equal(l->plugin, "imap");
    assert_int_equal(l->line, 26);
    assert_int_equal(l->tls, SRV_TLS_STARTTLS);
    assert_int_equal(l->addr.ss.ss_family, AF_INET6);
    assert_false(l->addr.dual_stack);
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->addr.ss;
    assert_int_equal(ntohs(s6->sin6_port), 143);
    assert_true(IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr));
    assert_int_equal(l->addr.sslen, sizeof(struct sockaddr_in6));
    assert_string_equal(l->addr.text, "[::]:143");
    assert_int_equal(l->limits.idle_timeout, 1800);   /* overridden */
    assert_int_equal(l->limits.max_connections, 500); /* inherited */
    assert_int_equal(l->limits.max_line_length, 8192);
    assert_int_equal(l->n_settings, 0);

    l = &c->listeners[1];
    assert_string_equal(l->name, "imap4");
    assert_int_equal(l->tls, SRV_TLS_NONE);
    assert_int_equal(l->addr.ss.ss_family, AF_INET);
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->addr.ss;
    assert_int_equal(ntohs(s4->sin_port), 143);
    assert_int_equal(s4->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(l->limits.idle_timeout, 600);

    l = srv_config_listener(c, "imaps");
    assert_ptr_equal(l, &c->listeners[2]);
    assert_int_equal(l->tls, SRV_TLS_IMPLICIT);
    s6 = (const struct sockaddr_in6 *)&l->addr.ss;
    struct in6_addr want;
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::25", &want), 1);
    assert_memory_equal(&s6->sin6_addr, &want, sizeof(want));
    assert_int_equal(ntohs(s6->sin6_port), 993);

    l = srv_config_listener(c, "submission");
    assert_non_null(l);
    assert_string_equal(l->plugin, "smtp");
    assert_true(l->addr.dual_stack);
    assert_int_equal(l->addr.ss.ss_family, AF_INET6);
    assert_int_equal(l->limits.max_message_size, 10 * 1024);
    assert_int_equal(l->limits.max_line_length, 1000);
    assert_int_equal(l->limits.max_connections, 50);
    assert_int_equal(l->limits.idle_timeout, 600);
    assert_int_equal(l->n_settings, 2);
    assert_string_equal(l->settings[0].key, "mode");
    assert_string_equal(l->settings[0].value, "submission");
    assert_int_equal(l->settings[0].line, 40);
    assert_string_equal(l->settings[1].key, "x_banner");
    assert_string_equal(l->settings[1].value, "Petrel ESMTP");
    assert_int_equal(l->settings[1].line, 46);
    assert_string_equal(srv_listener_setting(l, "mode"), "submission");
    assert_null(srv_listener_setting(l, "tls"));
    assert_null(srv_config_listener(c, "pop3"));

    srv_config_free(&c);
    assert_null(c);
    srv_config_free(&c); /* NULL is fine */
}

static void test_defaults(void **state)
{
    (void)state;
    struct srv_config *c = NULL;
    assert_int_equal(parse(L_IMAP, &c), 0);
    assert_string_equal(c->data, "/var/lib/petrel");
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    assert_string_equal(c->hostname, host[0] ? host : "localhost");
    assert_null(c->user);
    assert_null(c->group);
    assert_null(c->plugin_dir);
    assert_null(c->tls_cert);
    assert_null(c->tls_key);
    assert_null(c->log_file);
    assert_null(c->pid_file);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(c->workers, cores < 1 ? 1 : cores);
    assert_int_equal(c->log_level, LOG_LVL_INFO);
    assert_int_equal(c->auth_plaintext, SRV_AUTH_PLAIN_LOOPBACK);
    assert_int_equal(c->auth_scrypt_ln, 15);
    assert_int_equal(c->auth_scrypt_r, 8);
    assert_int_equal(c->auth_scrypt_p, 1);
    assert_int_equal(c->auth_cache_ttl, 300);
    assert_int_equal(c->vanished_keep, 100000);
    assert_int_equal(c->limits.max_connections, 10000);
    assert_int_equal(c->max_connections_per_ip, 100);
    assert_int_equal(c->limits.idle_timeout, 1800);
    assert_int_equal(c->session_timeout, 86400);
    assert_int_equal(c->limits.max_line_length, 65536);
    assert_int_equal(c->limits.max_message_size, 50 * 1024 * 1024);
    assert_int_equal(c->n_listeners, 1);
    assert_int_equal(c->listeners[0].tls, SRV_TLS_NONE);
    assert_memory_equal(&c->listeners[0].limits, &c->limits, sizeof(c->limits));
    srv_config_free(&c);
}

struct err_case {
    const char *text;
    int rc;
    const char *msg;
};

static const struct err_case err_cases[] = {
    {"data = /x\nfoo = 1\n" L_IMAP, PETREL_EINVAL, "c.conf:2: unknown key 'foo'"},
    {"workers = 2\nworkers = 3\n" L_IMAP, PETREL_EINVAL,
     "c.conf:2: duplicate key 'workers' (first set on line 1)"},
    {"workers = 0\n" L_IMAP, PETREL_EINVAL, "c.conf:1: value out of range for 'workers' (1..1024)"},
    {"vanished_keep = 99\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: value out of range for 'vanished_keep' (100..100000000)"},
    {"\nworkers = 1025\n" L_IMAP, PETREL_EINVAL,
     "c.conf:2: value out of range for 'workers' (1..1024)"},
    {"workers = 99999999999999999999999\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: value out of range for 'workers' (1..1024)"},
    {"workers = two\n" L_IMAP, PETREL_EINVAL, "c.conf:1: bad number 'two' for 'workers'"},
    {"workers = -1\n" L_IMAP, PETREL_EINVAL, "c.conf:1: bad number '-1' for 'workers'"},
    {"max_message_size = 3G\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: value out of range for 'max_message_size' (1024..2147483648)"},
    {"max_message_size = 10X\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad number '10X' for 'max_message_size'"},
    {"max_message_size = 99999999999999G\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: value out of range for 'max_message_size' (1024..2147483648)"},
    {"log_level = loud\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad value 'loud' for 'log_level' (debug|info|warn|error)"},
    {"auth_plaintext = sometimes\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad value 'sometimes' for 'auth_plaintext' (loopback|always|never)"},
    {"hostname = mail example.com\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad hostname 'mail example.com' (letters, digits, '-' and '.')"},
    {"hostname = -x\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad hostname '-x' (letters, digits, '-' and '.')"},
    {"tls_self_signed = yes\ntls_cert = /c\ntls_key = /k\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: tls_self_signed = yes conflicts with tls_cert/tls_key"},
    {"tls_self_signed = maybe\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad value 'maybe' for 'tls_self_signed' (no|yes)"},
    {"data =\n" L_IMAP, PETREL_EINVAL, "c.conf:1: missing value for 'data'"},
    {"data = # only a comment\n" L_IMAP, PETREL_EINVAL, "c.conf:1: missing value for 'data'"},
    {"just words\n" L_IMAP, PETREL_EINVAL, "c.conf:1: expected 'key = value' or '[listener NAME]'"},
    {"Data = /x\n" L_IMAP, PETREL_EINVAL,
     "c.conf:1: bad key 'Data' (lower-case letters, digits and _)"},
    {" = /x\n" L_IMAP, PETREL_EINVAL, "c.conf:1: bad key '' (lower-case letters, digits and _)"},
    {"data = /a\x01z\n" L_IMAP, PETREL_EINVAL, "c.conf:1: control character 0x01 in line"},
    {"tls_cert = /c.pem\n" L_IMAP, PETREL_EINVAL, "c.conf:1: tls_cert is set but tls_key is not"},
    {"data = /x\ntls_key = /k.pem\n", PETREL_EINVAL,
     "c.conf:2: tls_key is set but tls_cert is not"},
    {"data = /x\n", PETREL_EINVAL, "c.conf: no [listener NAME] section: nothing to serve"},
    {"", PETREL_EINVAL, "c.conf: no [listener NAME] section: nothing to serve"},
    {"[server]\n", PETREL_EINVAL,
     "c.conf:1: unknown section '[server]' (expected [listener NAME])"},
    {"[listener imap\n", PETREL_EINVAL, "c.conf:1: bad section header (expected [listener NAME])"},
    {"[listener]\n", PETREL_EINVAL, "c.conf:1: bad listener name '' (1-64 of A-Z a-z 0-9 _ - .)"},
    {"[listener a/b]\n", PETREL_EINVAL,
     "c.conf:1: bad listener name 'a/b' (1-64 of A-Z a-z 0-9 _ - .)"},
    {"[listener imap]\naddress = 127.0.0.1:143\n\n", PETREL_EINVAL,
     "c.conf:1: missing required key 'plugin' in [listener imap]"},
    {"# c\n[listener imap]\nplugin = imap\n[listener pop3]\nplugin = pop3\naddress = "
     "127.0.0.1:110\n",
     PETREL_EINVAL, "c.conf:2: missing required key 'address' in [listener imap]"},
    {L_IMAP "[listener imap]\n", PETREL_EINVAL,
     "c.conf:4: duplicate listener name 'imap' (first on line 1)"},
    {L_IMAP "plugin = pop3\n", PETREL_EINVAL,
     "c.conf:4: duplicate key 'plugin' in [listener imap] (first set on line 2)"},
    {L_IMAP "mode = a\nmode = b\n", PETREL_EINVAL,
     "c.conf:5: duplicate key 'mode' in [listener imap] (first set on line 4)"},
    {L_IMAP "idle_timeout = 60\nidle_timeout = 70\n", PETREL_EINVAL,
     "c.conf:5: duplicate key 'idle_timeout' in [listener imap] (first set on line 4)"},
    {L_IMAP "idle_timeout = 5\n", PETREL_EINVAL,
     "c.conf:4: value out of range for 'idle_timeout' in [listener imap] (10..86400)"},
    {L_IMAP "max_line_length = lots\n", PETREL_EINVAL,
     "c.conf:4: bad number 'lots' for 'max_line_length' in [listener imap]"},
    {L_IMAP "data = /x\n", PETREL_EINVAL,
     "c.conf:4: 'data' is a global key: set it before the first [listener] section"},
    {L_IMAP "tls = yes\n", PETREL_EINVAL,
     "c.conf:4: bad value 'yes' for 'tls' (none|starttls|implicit)"},
    {L_IMAP "tls = starttls\n", PETREL_EINVAL,
     "c.conf:4: tls = starttls in [listener imap] needs tls_cert and tls_key"},
    {"[listener imap]\nplugin = imap\naddress = 1.2.3:99\n", PETREL_EINVAL,
     "c.conf:3: bad address '1.2.3:99' in [listener imap]"},
    {L_IMAP "[listener b]\nplugin = imap\naddress = 127.0.0.1:143\n", PETREL_EINVAL,
     "c.conf:6: two listeners on the same address: '127.0.0.1:143' in [listener b] and "
     "'127.0.0.1:143' in [listener imap] (line 1)"},
    {L_IMAP "[listener b]\nplugin = imap\naddress = 0.0.0.0:143\n", PETREL_EINVAL,
     "c.conf:6: two listeners on the same address: '0.0.0.0:143' in [listener b] and "
     "'127.0.0.1:143' in [listener imap] (line 1)"},
    {L_IMAP "[listener b]\nplugin = imap\naddress = *:143\n", PETREL_EINVAL,
     "c.conf:6: two listeners on the same address: '*:143' in [listener b] and "
     "'127.0.0.1:143' in [listener imap] (line 1)"},
    {"[listener a]\nplugin = imap\naddress = [::1]:143\n[listener b]\nplugin = imap\naddress = "
     "[0:0::1]:143\n",
     PETREL_EINVAL,
     "c.conf:6: two listeners on the same address: '[0:0::1]:143' in [listener b] and "
     "'[::1]:143' in [listener a] (line 1)"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct srv_config *c = (struct srv_config *)&c; /* must be reset to NULL */
        int rc = parse(err_cases[i].text, &c);
        if (rc != err_cases[i].rc || strcmp(err, err_cases[i].msg) != 0)
            print_error("case %zu: rc=%d err='%s'\n  want rc=%d err='%s'\n", i, rc, err,
                        err_cases[i].rc, err_cases[i].msg);
        assert_int_equal(rc, err_cases[i].rc);
        assert_string_equal(err, err_cases[i].msg);
        assert_null(c);
    }
}

static void test_long_line(void **state)
{
    (void)state;
    size_t n = SRV_CONFIG_LINE_MAX + 20;
    char *text = malloc(n + 64);
    assert_non_null(text);
    strcpy(text, "data = /x\nhostname = ");
    size_t off = strlen(text);
    memset(text + off, 'a', n);
    strcpy(text + off + n, "\n");
    struct srv_config *c = NULL;
    assert_int_equal(parse(text, &c), PETREL_EINVAL);
    assert_string_equal(err, "c.conf:2: line too long (at most 4096 bytes)");
    assert_null(c);
    free(text);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "1.2.3:99",
        "mail.example.com:25",
        "[::1]:0",
        "::1:25",
        "1.2.3.4:65536",
        "1.2.3.4",
        "[::1]",
        "*:",
        ":25",
        "1.2.3.4:25x",
        "[fe80::1%eth0]:25",
        "1.2.3.4:+25",
        "[1.2.3.4]:25",
        "**:25",
        "[::1:25",
        "01.2.3.4.5:25",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256], want[256];
        snprintf(text, sizeof(text), "[listener x]\nplugin = imap\naddress = %s\n", bad[i]);
        snprintf(want, sizeof(want), "c.conf:3: bad address '%s' in [listener x]", bad[i]);
        struct srv_config *c = NULL;
        assert_int_equal(parse(text, &c), PETREL_EINVAL);
        assert_string_equal(err, want);
    }
}

static void test_no_conflict(void **state)
{
    (void)state;
    /* IPv4 wildcard and IPv6-only wildcard coexist; so do different ports and addresses */
    struct srv_config *c = NULL;
    assert_int_equal(parse("[listener a]\nplugin=imap\naddress=0.0.0.0:143\n"
                           "[listener b]\nplugin=imap\naddress=[::]:143\n"
                           "[listener c]\nplugin=imap\naddress=127.0.0.1:144\n"
                           "[listener d]\nplugin=imap\naddress=127.0.0.2:144\n"
                           "[listener e]\nplugin=imap\naddress=*:145\n",
                           &c),
                     0);
    assert_int_equal(c->n_listeners, 5);
    srv_config_free(&c);
}

static void test_unterminated_buffer(void **state)
{
    (void)state;
    /* the parser reads exactly len bytes: the garbage after them is never seen */
    const char text[] = L_IMAP "garbage that is not a key";
    struct srv_config *c = NULL;
    assert_int_equal(srv_config_parse("c.conf", text, strlen(L_IMAP), &c, err, sizeof(err)), 0);
    srv_config_free(&c);
    assert_int_equal(srv_config_parse("c.conf", text, sizeof(text) - 1, &c, err, sizeof(err)),
                     PETREL_EINVAL);
    assert_string_equal(err, "c.conf:4: expected 'key = value' or '[listener NAME]'");
}

static void test_small_err_buffer(void **state)
{
    (void)state;
    char small[10];
    struct srv_config *c = NULL;
    const char *text = "foo = 1\n";
    assert_int_equal(srv_config_parse("c.conf", text, strlen(text), &c, small, sizeof(small)),
                     PETREL_EINVAL);
    assert_string_equal(small, "c.conf:1:");
}

static void test_check_listener_keys(void **state)
{
    (void)state;
    struct srv_config *c = NULL;
    assert_int_equal(parse("[listener submission]\nplugin = smtp\naddress = 127.0.0.1:587\n"
                           "mode = submission\ntls_crt = /x\n",
                           &c),
                     0);
    const struct srv_listener *l = &c->listeners[0];
    static const char *const smtp_keys[] = {"mode", "tls_crt", NULL};
    static const char *const mode_only[] = {"mode", NULL};
    assert_int_equal(srv_config_check_listener_keys(c, l, smtp_keys, err, sizeof(err)), 0);
    assert_int_equal(srv_config_check_listener_keys(c, l, mode_only, err, sizeof(err)),
                     PETREL_EINVAL);
    assert_string_equal(err, "c.conf:5: unknown key 'tls_crt' in [listener submission]");
    assert_int_equal(srv_config_check_listener_keys(c, l, NULL, err, sizeof(err)), PETREL_EINVAL);
    assert_string_equal(err, "c.conf:4: unknown key 'mode' in [listener submission]");
    srv_config_free(&c);
}

static void test_dev_default(void **state)
{
    (void)state;
    struct srv_config *c = NULL;
    assert_int_equal(srv_config_default_dev(NULL, &c), 0);
    assert_string_equal(c->data, "./var");
    assert_string_equal(c->tls_cert, "./var/tls/cert.pem");
    assert_string_equal(c->tls_key, "./var/tls/key.pem");
    assert_true(c->tls_self_signed);
    assert_int_equal(c->auth_plaintext, SRV_AUTH_PLAIN_LOOPBACK);
    assert_null(c->user);
    assert_true(c->dev_default);
    assert_int_equal(c->n_listeners, 8);
    static const struct {
        const char *name, *plugin, *mode;
        int port;
        enum srv_tls_mode tls;
    } want[] = {
        {"smtp", "smtp", "mx", 2525, SRV_TLS_STARTTLS},
        {"submission", "smtp", "submission", 2587, SRV_TLS_STARTTLS},
        {"smtps", "smtp", "submission", 2465, SRV_TLS_IMPLICIT},
        {"pop3", "pop3", NULL, 2110, SRV_TLS_STARTTLS},
        {"pop3s", "pop3", NULL, 2995, SRV_TLS_IMPLICIT},
        {"imap", "imap", NULL, 2143, SRV_TLS_STARTTLS},
        {"imaps", "imap", NULL, 2993, SRV_TLS_IMPLICIT},
        {"example", "example", NULL, 2026, SRV_TLS_STARTTLS},
    };
    for (size_t i = 0; i < 8; i++) {
        const struct srv_listener *l = srv_config_listener(c, want[i].name);
        assert_non_null(l);
        assert_string_equal(l->plugin, want[i].plugin);
        assert_int_equal(l->tls, want[i].tls);
        assert_int_equal(l->addr.ss.ss_family, AF_INET);
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->addr.ss;
        assert_int_equal(ntohs(s4->sin_port), want[i].port);
        assert_int_equal(s4->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
        if (want[i].mode)
            assert_string_equal(srv_listener_setting(l, "mode"), want[i].mode);
        else
            assert_int_equal(l->n_settings, 0);
        assert_memory_equal(&l->limits, &c->limits, sizeof(c->limits));
    }
    static const char *const smtp_keys[] = {"mode", NULL};
    assert_int_equal(
        srv_config_check_listener_keys(c, srv_config_listener(c, "imap"), NULL, err, sizeof(err)),
        0);
    assert_int_equal(srv_config_check_listener_keys(c, srv_config_listener(c, "smtp"), smtp_keys,
                                                    err, sizeof(err)),
                     0);
    srv_config_free(&c);

    assert_int_equal(srv_config_default_dev("/tmp/pd", &c), 0);
    assert_string_equal(c->data, "/tmp/pd");
    assert_string_equal(c->tls_key, "/tmp/pd/tls/key.pem");
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), PETREL_EIO);
    assert_string_equal(err, "(built-in default): tls_cert '/tmp/pd/tls/cert.pem' is not "
                             "readable: No such file or directory");
    srv_config_free(&c);
}

static void test_self_signed_and_set_data(void **state)
{
    (void)state;
    struct srv_config *c = NULL;
    assert_int_equal(parse("# dev-like\ntls_self_signed = yes\ndata = /d\n[listener imaps]\n"
                           "plugin = imap\naddress = 127.0.0.1:993\ntls = implicit\n",
                           &c),
                     0);
    assert_true(c->tls_self_signed);
    assert_string_equal(c->tls_cert, "/d/tls/cert.pem");
    assert_string_equal(c->tls_key, "/d/tls/key.pem");
    assert_int_equal(c->tls_cert_line, 2);
    assert_int_equal(srv_config_set_data(c, "/e"), 0);
    assert_string_equal(c->data, "/e");
    assert_string_equal(c->tls_key, "/e/tls/key.pem");
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), PETREL_EIO);
    assert_string_equal(
        err, "c.conf:2: tls_cert '/e/tls/cert.pem' is not readable: No such file or directory");
    srv_config_free(&c);

    /* without tls_self_signed the configured paths stay */
    assert_int_equal(parse("tls_cert = /c\ntls_key = /k\n" L_IMAP, &c), 0);
    assert_false(c->tls_self_signed);
    assert_int_equal(srv_config_set_data(c, "/e"), 0);
    assert_string_equal(c->data, "/e");
    assert_string_equal(c->tls_cert, "/c");
    assert_string_equal(c->tls_key, "/k");
    srv_config_free(&c);
}

static char tmpdir[64];

static int setup_tmp(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/petrel-cfg-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_load(void **state)
{
    (void)state;
    char path[128], want[256];
    struct srv_config *c = NULL;

    snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
    assert_int_equal(srv_config_load(path, &c, err, sizeof(err)), PETREL_ENOTFOUND);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
    assert_null(c);

    assert_int_equal(srv_config_load(tmpdir, &c, err, sizeof(err)), PETREL_EIO);
    snprintf(want, sizeof(want), "%s: cannot open: Is a directory", tmpdir);
    assert_string_equal(err, want);

    snprintf(path, sizeof(path), "%s/petrel.conf", tmpdir);
    write_file(path, "data = /d\n" L_IMAP "mode = x\n", 0644);
    assert_int_equal(srv_config_load(path, &c, err, sizeof(err)), 0);
    assert_string_equal(c->data, "/d");
    assert_string_equal(c->file, path);
    static const char *const none[] = {NULL};
    assert_int_equal(srv_config_check_listener_keys(c, &c->listeners[0], none, err, sizeof(err)),
                     PETREL_EINVAL);
    snprintf(want, sizeof(want), "%s:5: unknown key 'mode' in [listener imap]", path);
    assert_string_equal(err, want);
    srv_config_free(&c);

    write_file(path, "data = /d\nwrokers = 2\n", 0644);
    assert_int_equal(srv_config_load(path, &c, err, sizeof(err)), PETREL_EINVAL);
    snprintf(want, sizeof(want), "%s:2: unknown key 'wrokers'", path);
    assert_string_equal(err, want);
    assert_null(c);
}

static void test_load_too_big(void **state)
{
    (void)state;
    char path[128], want[256];
    snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, SRV_CONFIG_FILE_MAX + 1), 0);
    close(fd);
    struct srv_config *c = NULL;
    assert_int_equal(srv_config_load(path, &c, err, sizeof(err)), PETREL_ETOOBIG);
    snprintf(want, sizeof(want), "%s: file too large (at most 1048576 bytes)", path);
    assert_string_equal(err, want);
    assert_null(c);
}

/* Parses a config pointing at cert/key in tmpdir. */
static struct srv_config *tls_config(const char *cert, const char *key)
{
    char text[512];
    snprintf(text, sizeof(text),
             "tls_cert = %s/%s\n\ntls_key = %s/%s\n[listener imaps]\nplugin = imap\n"
             "address = 127.0.0.1:993\ntls = implicit\n",
             tmpdir, cert, tmpdir, key);
    struct srv_config *c = NULL;
    assert_int_equal(parse(text, &c), 0);
    return c;
}

static void test_validate(void **state)
{
    (void)state;
    char p[128], want[256];
    snprintf(p, sizeof(p), "%s/cert.pem", tmpdir);
    write_file(p, "CERT", 0644);
    snprintf(p, sizeof(p), "%s/key.pem", tmpdir);
    write_file(p, "KEY", 0600);

    struct srv_config *c = tls_config("cert.pem", "key.pem");
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), 0);
    srv_config_free(&c);

    c = tls_config("cert.pem", "nokey.pem");
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), PETREL_EIO);
    snprintf(want, sizeof(want),
             "c.conf:3: tls_key '%s/nokey.pem' is not readable: No such file or directory", tmpdir);
    assert_string_equal(err, want);
    srv_config_free(&c);

    c = tls_config("nocert.pem", "key.pem");
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), PETREL_EIO);
    snprintf(want, sizeof(want),
             "c.conf:1: tls_cert '%s/nocert.pem' is not readable: No such file or directory",
             tmpdir);
    assert_string_equal(err, want);
    srv_config_free(&c);

    /* no TLS anywhere: nothing to check */
    assert_int_equal(parse(L_IMAP, &c), 0);
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), 0);
    srv_config_free(&c);
}

/* A key readable only by its owner: validate as another uid says "Permission denied". */
static void test_validate_permission(void **state)
{
    (void)state;
    char p[128], want[256];
    snprintf(p, sizeof(p), "%s/cert.pem", tmpdir);
    write_file(p, "CERT", 0644);
    snprintf(p, sizeof(p), "%s/key.pem", tmpdir);
    write_file(p, "KEY", 0600);
    assert_int_equal(chmod(tmpdir, 0755), 0);
    struct srv_config *c = tls_config("cert.pem", "key.pem");
    snprintf(want, sizeof(want),
             "c.conf:3: tls_key '%s/key.pem' is not readable: Permission denied", tmpdir);
    if (getuid() != 0) {
        /* make the key unreadable for ourselves instead */
        assert_int_equal(chmod(p, 0000), 0);
        assert_int_equal(srv_config_validate(c, err, sizeof(err)), PETREL_EIO);
        assert_string_equal(err, want);
        srv_config_free(&c);
        return;
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0) _exit(2);
        int rc = srv_config_validate(c, err, sizeof(err));
        _exit(rc == PETREL_EIO && strcmp(err, want) == 0 ? 0 : 3);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(srv_config_validate(c, err, sizeof(err)), 0); /* root reads it */
    srv_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_no_conflict),
        cmocka_unit_test(test_unterminated_buffer),
        cmocka_unit_test(test_small_err_buffer),
        cmocka_unit_test(test_check_listener_keys),
        cmocka_unit_test(test_dev_default),
        cmocka_unit_test(test_self_signed_and_set_data),
        cmocka_unit_test_setup_teardown(test_load, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_load_too_big, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_validate, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_validate_permission, setup_tmp, teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
