/*
 * server/config.h - petreld's configuration: the INI-style file, its defaults,
 * and the development default used when petreld runs without a file.
 *
 * Format (see DESIGN.md, "The daemon"):
 *
 *   # a comment                      blank lines are ignored
 *   key = value                      value runs to the end of the line; a '#' that
 *                                    follows whitespace starts a comment; no quoting
 *   [listener NAME]                  every later key belongs to that listener
 *
 * Keys are lower case ([a-z0-9_]), case-sensitive. Global keys must come before
 * the first section. A line is at most SRV_CONFIG_LINE_MAX bytes; a file at most
 * SRV_CONFIG_FILE_MAX bytes.
 *
 * Global keys (default in brackets):
 *   data                 data directory                          [/var/lib/petrel]
 *   hostname             name used in greetings                  [gethostname()]
 *   user                 account privileges are dropped to after binding and reading
 *                        keys; unset = no drop                   [unset]
 *   group                group to run as                         [user's primary group]
 *   plugin_dir           where <plugin>.so are found             [unset: beside petreld, then
 *                                                                 the install path]
 *   tls_cert, tls_key    PEM certificate chain and private key; set both or neither
 *                                                                [unset]
 *   workers              event-loop threads, 1..1024             [number of online cores]
 *   log_file             log path                                [unset: stderr]
 *   log_level            debug | info | warn | error             [info]
 *   auth_plaintext       loopback | always | never: when plaintext AUTH/LOGIN/USER is
 *                        allowed; loopback = over TLS or from a loopback peer   [loopback]
 *   auth_scrypt_ln       log2(N) of new scrypt hashes, 10..20    [15]
 *   auth_scrypt_r        scrypt r, 1..32                         [8]
 *   auth_scrypt_p        scrypt p, 1..16                         [1]
 *   auth_cache_ttl       seconds a verified login is cached, 0..86400, 0 = off  [300]
 *   vanished_keep        expunge records (QRESYNC VANISHED) kept per mailbox,
 *                        100..100000000; past it the oldest tenth go   [100000]
 *   max_connections      connections per listener, 1..1000000   [10000]
 *   max_connections_per_ip  per client address on each listener,
 *                        0..1000000, 0 = no limit                [100]
 *   idle_timeout         seconds without input, 10..86400        [1800: RFC 9051 wants >= 30 min]
 *   session_timeout      seconds a connection may last in all, 0..604800, 0 = no limit
 *                                                                [86400]
 *   max_line_length      bytes of one protocol line, 512..1048576          [65536]
 *   max_message_size     bytes, K/M/G suffix (powers of 1024), 1K..2G      [50M]
 *   pid_file             written by petreld                       [unset]
 *   tls_self_signed      no | yes: use the development self-signed pair <data>/tls/cert.pem
 *                        and key.pem (made by petreld if missing); excludes tls_cert/tls_key [no]
 *
 * Listener keys:
 *   plugin               plugin name (imap -> imap.so)            required
 *   address              IPv4:port | [IPv6]:port | *:port         required
 *                        "*:port" is every address of both families: one IPv6 socket with
 *                        IPV6_V6ONLY off (dual_stack). "[::]:port" is IPv6 only, so
 *                        "0.0.0.0:143" and "[::]:143" may coexist. Host names are refused.
 *   tls                  none | starttls | implicit                [none]; starttls and implicit
 *                        need tls_cert + tls_key (the dev default uses its self-signed pair)
 *   max_connections, idle_timeout, max_line_length, max_message_size
 *                        override the global value for this listener
 *   anything else        kept as a plugin setting with its line number; the host checks them
 *                        against the plugin's declared keys (srv_config_check_listener_keys)
 *
 * Errors are reported once, as "FILE:LINE: what is wrong" (the first error stops the parse).
 */
#ifndef PETREL_SERVER_CONFIG_H
#define PETREL_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/log.h"

#define SRV_CONFIG_LINE_MAX 4096
#define SRV_CONFIG_FILE_MAX (1024 * 1024)
#define SRV_CONFIG_NAME_MAX 64 /* listener name length */
#define SRV_CONFIG_LISTENERS_MAX 256
#define SRV_CONFIG_SETTINGS_MAX 64 /* plugin settings per listener */

enum srv_tls_mode { SRV_TLS_NONE, SRV_TLS_STARTTLS, SRV_TLS_IMPLICIT };

enum srv_auth_plaintext {
    SRV_AUTH_PLAIN_LOOPBACK, /* plaintext only over TLS or from a loopback peer */
    SRV_AUTH_PLAIN_ALWAYS,
    SRV_AUTH_PLAIN_NEVER,
};

/* The limits a listener may override. */
struct srv_listen_limits {
    uint32_t max_connections;
    uint32_t idle_timeout;    /* seconds */
    uint32_t max_line_length; /* bytes */
    uint64_t max_message_size;
};

/* A parsed listen address, ready for socket()/bind(). */
struct srv_address {
    struct sockaddr_storage ss; /* AF_INET or AF_INET6; "*" is in6addr_any */
    socklen_t sslen;
    bool dual_stack; /* "*:port": bind with IPV6_V6ONLY = 0 */
    char text[64];   /* as written in the file, for logs */
};

/* A key the host does not know, kept for the plugin. */
struct srv_setting {
    char *key;
    char *value;
    unsigned line;
};

struct srv_listener {
    char *name;   /* from [listener NAME] */
    char *plugin; /* plugin name */
    struct srv_address addr;
    enum srv_tls_mode tls;
    struct srv_listen_limits limits; /* global values with this listener's overrides applied */
    unsigned line;                   /* the [listener NAME] line */
    struct srv_setting *settings;
    size_t n_settings;
};

/*
 * A whole configuration. Read-only after srv_config_load/parse/default_dev; every
 * string and array is owned by the config and lives until srv_config_free.
 * Optional strings are NULL when unset.
 */
struct srv_config {
    char *file; /* name used in error messages ("(built-in default)" for the dev default) */
    char *data;
    char *hostname;
    char *user;
    char *group;
    char *plugin_dir;
    char *tls_cert;
    char *tls_key;
    unsigned tls_cert_line, tls_key_line; /* 0 when not from a file */
    bool tls_self_signed; /* cert/key are <data>/tls/{cert,key}.pem, made by petreld if missing */
    bool dev_default;     /* the built-in development setup: listeners whose plugin is not
                             built are skipped (with a warning) instead of failing start-up */
    unsigned workers;
    char *log_file;
    enum log_level log_level;
    enum srv_auth_plaintext auth_plaintext;
    unsigned auth_scrypt_ln, auth_scrypt_r, auth_scrypt_p;
    uint32_t auth_cache_ttl;
    uint32_t vanished_keep;
    struct srv_listen_limits limits; /* the global values */
    uint32_t max_connections_per_ip;
    uint32_t session_timeout;
    char *pid_file;
    struct srv_listener *listeners;
    size_t n_listeners;
};

/*
 * Reads and parses the file at path. On success *cfg_r is a new config (free with
 * srv_config_free). On failure *cfg_r is NULL and err holds one line:
 * "FILE:LINE: what is wrong", or "FILE: cannot open: <reason>".
 * Errors: PETREL_EINVAL (bad content), PETREL_ENOTFOUND (no such file), PETREL_EIO
 * (other open/read failures), PETREL_ETOOBIG (file over SRV_CONFIG_FILE_MAX), PETREL_ENOMEM.
 * Certificate/key files are not opened here: see srv_config_validate.
 */
int srv_config_load(const char *path, struct srv_config **cfg_r, char *err, size_t errlen);

/*
 * Parses len bytes of text (need not be NUL-terminated); file names the source in
 * messages. Pure: no I/O except gethostname() and sysconf() for defaults.
 * Errors as srv_config_load (PETREL_EINVAL, PETREL_ENOMEM).
 */
int srv_config_parse(const char *file, const char *text, size_t len, struct srv_config **cfg_r,
                     char *err, size_t errlen);

/*
 * The development default (DESIGN.md): data in data_dir (NULL = "./var"), every
 * listener on 127.0.0.1: smtp (mode=mx) 2525 starttls, submission (mode=submission)
 * 2587 starttls, smtps (mode=submission) 2465 implicit, pop3 2110 starttls, pop3s
 * 2995 implicit, imap 2143 starttls, imaps 2993 implicit; tls_cert/tls_key =
 * <data>/tls/cert.pem, key.pem (tls_self_signed: created by petreld, not here).
 * Errors: PETREL_ENOMEM.
 */
int srv_config_default_dev(const char *data_dir, struct srv_config **cfg_r);

/*
 * Checks what needs the file system and is done before dropping privileges:
 * tls_cert and tls_key can be opened for reading (when a listener uses TLS, or when
 * set). Errors: PETREL_EIO with "FILE:LINE: tls_key '/x' is not readable: <strerror>".
 */
int srv_config_validate(const struct srv_config *cfg, char *err, size_t errlen);

/*
 * Checks every plugin setting of listener l against allowed (a NULL-terminated list
 * of keys the plugin declares; NULL = none). The first stray key gives PETREL_EINVAL
 * and "FILE:LINE: unknown key 'k' in [listener NAME]".
 */
int srv_config_check_listener_keys(const struct srv_config *cfg, const struct srv_listener *l,
                                   const char *const *allowed, char *err, size_t errlen);

/* The value of plugin setting key in l, or NULL. Valid until srv_config_free. */
const char *srv_listener_setting(const struct srv_listener *l, const char *key);

/* The listener called name, or NULL. */
const struct srv_listener *srv_config_listener(const struct srv_config *cfg, const char *name);

/*
 * Replaces cfg->data (petreld --data DIR); with tls_self_signed the certificate
 * paths follow it. Errors: PETREL_ENOMEM (cfg unchanged).
 */
int srv_config_set_data(struct srv_config *cfg, const char *dir);

/* Frees *cfg_r (may be NULL) and sets it to NULL. */
void srv_config_free(struct srv_config **cfg_r);

/* "none", "starttls", "implicit". */
const char *srv_tls_mode_name(enum srv_tls_mode m);

#endif
