/*
 * server/config.c - the config file parser: one pass over the lines, table-driven
 * keys, the first error stops it. See config.h for the format and every key.
 */
#include "server/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config_value.h"
#include "store/store.h"
#include "util/err.h"

enum cfg_kind { CFG_STR, CFG_U32, CFG_UINT, CFG_U64, CFG_SIZE, CFG_ENUM, CFG_BOOL };

static const char *const cfg_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const cfg_plaintext[] = {"loopback", "always", "never", NULL};
static const char *const cfg_bools[] = {"no", "yes", NULL};
static const char *const cfg_tls_modes[] = {"none", "starttls", "implicit", NULL};

struct cfg_key {
    const char *name;
    enum cfg_kind kind;
    size_t off;       /* into struct srv_config */
    size_t limit_off; /* into struct srv_listen_limits when listener_ok */
    bool listener_ok; /* may be overridden in a [listener] section */
    uint64_t min, max;
    const char *const *names; /* CFG_ENUM */
};

#define CFG_OFF(f) offsetof(struct srv_config, f)
#define CFG_LIM(f)                                                                                 \
    offsetof(struct srv_config, limits.f), offsetof(struct srv_listen_limits, f), true

static const struct cfg_key cfg_globals[] = {
    {"data", CFG_STR, CFG_OFF(data), 0, false, 0, 0, NULL},
    {"hostname", CFG_STR, CFG_OFF(hostname), 0, false, 0, 0, NULL},
    {"user", CFG_STR, CFG_OFF(user), 0, false, 0, 0, NULL},
    {"group", CFG_STR, CFG_OFF(group), 0, false, 0, 0, NULL},
    {"plugin_dir", CFG_STR, CFG_OFF(plugin_dir), 0, false, 0, 0, NULL},
    {"tls_cert", CFG_STR, CFG_OFF(tls_cert), 0, false, 0, 0, NULL},
    {"tls_key", CFG_STR, CFG_OFF(tls_key), 0, false, 0, 0, NULL},
    {"workers", CFG_UINT, CFG_OFF(workers), 0, false, 1, 1024, NULL},
    {"log_file", CFG_STR, CFG_OFF(log_file), 0, false, 0, 0, NULL},
    {"log_level", CFG_ENUM, CFG_OFF(log_level), 0, false, 0, 0, cfg_levels},
    {"auth_plaintext", CFG_ENUM, CFG_OFF(auth_plaintext), 0, false, 0, 0, cfg_plaintext},
    {"auth_scrypt_ln", CFG_UINT, CFG_OFF(auth_scrypt_ln), 0, false, 10, 20, NULL},
    {"auth_scrypt_r", CFG_UINT, CFG_OFF(auth_scrypt_r), 0, false, 1, 32, NULL},
    {"auth_scrypt_p", CFG_UINT, CFG_OFF(auth_scrypt_p), 0, false, 1, 16, NULL},
    {"auth_cache_ttl", CFG_U32, CFG_OFF(auth_cache_ttl), 0, false, 0, 86400, NULL},
    {"vanished_keep", CFG_U32, CFG_OFF(vanished_keep), 0, false, 100, 100000000, NULL},
    {"max_connections", CFG_U32, CFG_LIM(max_connections), 1, 1000000, NULL},
    {"max_connections_per_ip", CFG_U32, CFG_OFF(max_connections_per_ip), 0, false, 0, 1000000,
     NULL},
    {"idle_timeout", CFG_U32, CFG_LIM(idle_timeout), 10, 86400, NULL},
    {"session_timeout", CFG_U32, CFG_OFF(session_timeout), 0, false, 0, 604800, NULL},
    {"max_line_length", CFG_U32, CFG_LIM(max_line_length), 512, 1048576, NULL},
    {"max_message_size", CFG_SIZE, CFG_LIM(max_message_size), 1024, 2ULL << 30, NULL},
    {"pid_file", CFG_STR, CFG_OFF(pid_file), 0, false, 0, 0, NULL},
    {"tls_self_signed", CFG_BOOL, CFG_OFF(tls_self_signed), 0, false, 0, 0, cfg_bools},
};
#define CFG_N_GLOBALS (sizeof(cfg_globals) / sizeof(cfg_globals[0]))

/* Listener keys the host owns (besides the overridable limits above). */
enum { LK_PLUGIN, LK_ADDRESS, LK_TLS, LK_N };
static const char *const cfg_listener_keys[LK_N] = {"plugin", "address", "tls"};

struct cfg_parser {
    const char *file;
    struct srv_config *cfg;
    unsigned line;
    char *err;
    size_t errlen;
    unsigned global_lines[CFG_N_GLOBALS]; /* where each global was set, 0 = not yet */
    struct srv_listener *cur;             /* the open section, or NULL */
    unsigned lk_lines[LK_N];              /* where the open section set plugin/address/tls */
    unsigned lim_lines[CFG_N_GLOBALS];    /* where it overrode a limit */
};

__attribute__((format(printf, 3, 4))) static int cfg_fail(struct cfg_parser *p, unsigned line,
                                                          const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, line ? "%s:%u: " : "%s: ", p->file, line);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return PETREL_EINVAL;
}

static const struct cfg_key *cfg_key_find(const char *k, size_t klen, size_t *idx_r)
{
    for (size_t i = 0; i < CFG_N_GLOBALS; i++) {
        if (strlen(cfg_globals[i].name) == klen && memcmp(cfg_globals[i].name, k, klen) == 0) {
            *idx_r = i;
            return &cfg_globals[i];
        }
    }
    return NULL;
}

/* " in [listener NAME]" for messages, or "" at the global level. */
static const char *cfg_where(const struct cfg_parser *p, char *buf, size_t size)
{
    if (!p->cur) return "";
    snprintf(buf, size, " in [listener %s]", p->cur->name);
    return buf;
}

static int cfg_set_value(struct cfg_parser *p, const struct cfg_key *k, void *field, const char *v,
                         size_t vlen)
{
    char where[SRV_CONFIG_NAME_MAX + 20];
    uint64_t n = 0;
    int rc = 0, idx = 0;
    switch (k->kind) {
    case CFG_STR: {
        char *s = strndup(v, vlen);
        if (!s) return PETREL_ENOMEM;
        free(*(char **)field);
        *(char **)field = s;
        return 0;
    }
    case CFG_ENUM:
    case CFG_BOOL:
        if (cfg_value_enum(v, vlen, k->names, &idx) < 0) {
            char alts[64] = "";
            for (int i = 0; k->names[i]; i++)
                snprintf(alts + strlen(alts), sizeof(alts) - strlen(alts), "%s%s", i ? "|" : "",
                         k->names[i]);
            return cfg_fail(p, p->line, "bad value '%.*s' for '%s' (%s)", (int)vlen, v, k->name,
                            alts);
        }
        if (k->kind == CFG_BOOL)
            *(bool *)field = idx == 1;
        else
            *(int *)field = idx;
        return 0;
    case CFG_SIZE:
        rc = cfg_value_size(v, vlen, k->min, k->max, &n);
        break;
    default:
        rc = cfg_value_uint(v, vlen, k->min, k->max, &n);
        break;
    }
    if (rc == PETREL_ETOOBIG)
        return cfg_fail(p, p->line, "value out of range for '%s'%s (%llu..%llu)", k->name,
                        cfg_where(p, where, sizeof(where)), (unsigned long long)k->min,
                        (unsigned long long)k->max);
    if (rc < 0)
        return cfg_fail(p, p->line, "bad number '%.*s' for '%s'%s", (int)vlen, v, k->name,
                        cfg_where(p, where, sizeof(where)));
    if (k->kind == CFG_UINT)
        *(unsigned *)field = (unsigned)n;
    else if (k->kind == CFG_U32)
        *(uint32_t *)field = (uint32_t)n;
    else
        *(uint64_t *)field = n;
    return 0;
}

/* The hostname goes into greetings and Received: lines: keep it a plain DNS name. */
static bool cfg_hostname_ok(const char *v, size_t len)
{
    if (len > 253 || v[0] == '.' || v[0] == '-') return false;
    for (size_t i = 0; i < len; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
              (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.'))
            return false;
    return true;
}

static int cfg_set_global(struct cfg_parser *p, const char *k, size_t klen, const char *v,
                          size_t vlen)
{
    size_t i;
    const struct cfg_key *key = cfg_key_find(k, klen, &i);
    if (!key) return cfg_fail(p, p->line, "unknown key '%.*s'", (int)klen, k);
    if (p->global_lines[i])
        return cfg_fail(p, p->line, "duplicate key '%s' (first set on line %u)", key->name,
                        p->global_lines[i]);
    p->global_lines[i] = p->line;
    if (strcmp(key->name, "hostname") == 0 && !cfg_hostname_ok(v, vlen))
        return cfg_fail(p, p->line, "bad hostname '%.*s' (letters, digits, '-' and '.')", (int)vlen,
                        v);
    if (strcmp(key->name, "tls_cert") == 0)
        p->cfg->tls_cert_line = p->line;
    else if (strcmp(key->name, "tls_key") == 0)
        p->cfg->tls_key_line = p->line;
    return cfg_set_value(p, key, (char *)p->cfg + key->off, v, vlen);
}

static int cfg_add_setting(struct cfg_parser *p, const char *k, size_t klen, const char *v,
                           size_t vlen)
{
    struct srv_listener *l = p->cur;
    for (size_t i = 0; i < l->n_settings; i++)
        if (strlen(l->settings[i].key) == klen && memcmp(l->settings[i].key, k, klen) == 0)
            return cfg_fail(p, p->line,
                            "duplicate key '%s' in [listener %s] (first set on line %u)",
                            l->settings[i].key, l->name, l->settings[i].line);
    if (l->n_settings == SRV_CONFIG_SETTINGS_MAX)
        return cfg_fail(p, p->line, "too many keys in [listener %s] (at most %d)", l->name,
                        SRV_CONFIG_SETTINGS_MAX);
    struct srv_setting *s = realloc(l->settings, (l->n_settings + 1) * sizeof(*s));
    if (!s) return PETREL_ENOMEM;
    l->settings = s;
    s += l->n_settings;
    s->key = strndup(k, klen);
    s->value = strndup(v, vlen);
    s->line = p->line;
    l->n_settings++; /* counted even on failure so srv_config_free sees it */
    return s->key && s->value ? 0 : PETREL_ENOMEM;
}

static int cfg_set_listener_key(struct cfg_parser *p, int lk, const char *v, size_t vlen)
{
    struct srv_listener *l = p->cur;
    int idx;
    switch (lk) {
    case LK_PLUGIN:
        l->plugin = strndup(v, vlen);
        return l->plugin ? 0 : PETREL_ENOMEM;
    case LK_ADDRESS:
        if (cfg_value_address(v, vlen, &l->addr) < 0)
            return cfg_fail(p, p->line, "bad address '%.*s' in [listener %s]", (int)vlen, v,
                            l->name);
        return 0;
    default:
        if (cfg_value_enum(v, vlen, cfg_tls_modes, &idx) < 0)
            return cfg_fail(p, p->line, "bad value '%.*s' for 'tls' (none|starttls|implicit)",
                            (int)vlen, v);
        l->tls = (enum srv_tls_mode)idx;
        return 0;
    }
}

static int cfg_set_in_listener(struct cfg_parser *p, const char *k, size_t klen, const char *v,
                               size_t vlen)
{
    struct srv_listener *l = p->cur;
    for (int lk = 0; lk < LK_N; lk++) {
        if (strlen(cfg_listener_keys[lk]) != klen || memcmp(cfg_listener_keys[lk], k, klen) != 0)
            continue;
        if (p->lk_lines[lk])
            return cfg_fail(p, p->line,
                            "duplicate key '%s' in [listener %s] (first set on line %u)",
                            cfg_listener_keys[lk], l->name, p->lk_lines[lk]);
        p->lk_lines[lk] = p->line;
        return cfg_set_listener_key(p, lk, v, vlen);
    }
    size_t i;
    const struct cfg_key *key = cfg_key_find(k, klen, &i);
    if (!key) return cfg_add_setting(p, k, klen, v, vlen);
    if (!key->listener_ok)
        return cfg_fail(p, p->line,
                        "'%s' is a global key: set it before the first [listener] section",
                        key->name);
    if (p->lim_lines[i])
        return cfg_fail(p, p->line, "duplicate key '%s' in [listener %s] (first set on line %u)",
                        key->name, l->name, p->lim_lines[i]);
    p->lim_lines[i] = p->line;
    return cfg_set_value(p, key, (char *)&l->limits + key->limit_off, v, vlen);
}

/* Checks the open section once all its lines are read. */
static int cfg_listener_finish(struct cfg_parser *p)
{
    struct srv_listener *l = p->cur;
    if (!l) return 0;
    for (int lk = LK_PLUGIN; lk <= LK_ADDRESS; lk++)
        if (!p->lk_lines[lk])
            return cfg_fail(p, l->line, "missing required key '%s' in [listener %s]",
                            cfg_listener_keys[lk], l->name);
    if (l->tls != SRV_TLS_NONE && !p->cfg->tls_cert)
        return cfg_fail(p, p->lk_lines[LK_TLS],
                        "tls = %s in [listener %s] needs tls_cert and tls_key",
                        srv_tls_mode_name(l->tls), l->name);
    for (struct srv_listener *o = p->cfg->listeners; o < l; o++)
        if (cfg_address_overlap(&o->addr, &l->addr))
            return cfg_fail(p, p->lk_lines[LK_ADDRESS],
                            "two listeners on the same address: '%s' in [listener %s] and '%s' "
                            "in [listener %s] (line %u)",
                            l->addr.text, l->name, o->addr.text, o->name, o->line);
    p->cur = NULL;
    return 0;
}

static bool cfg_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > SRV_CONFIG_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* The globals are final once the first section opens: check the TLS pair then. */
static int cfg_globals_finish(struct cfg_parser *p)
{
    struct srv_config *c = p->cfg;
    if (!c->data && !(c->data = strdup("/var/lib/petrel"))) return PETREL_ENOMEM;
    if (c->tls_self_signed) {
        size_t i = 0;
        cfg_key_find("tls_self_signed", 15, &i);
        unsigned line = p->global_lines[i];
        if (c->tls_cert || c->tls_key)
            return cfg_fail(p, line, "tls_self_signed = yes conflicts with tls_cert/tls_key");
        c->tls_cert_line = c->tls_key_line = line;
        return srv_config_set_data(c, c->data);
    }
    if (c->tls_cert && !c->tls_key)
        return cfg_fail(p, c->tls_cert_line, "tls_cert is set but tls_key is not");
    if (c->tls_key && !c->tls_cert)
        return cfg_fail(p, c->tls_key_line, "tls_key is set but tls_cert is not");
    return 0;
}

static int cfg_section(struct cfg_parser *p, const char *s, size_t len)
{
    int rc = p->cur ? cfg_listener_finish(p) : cfg_globals_finish(p);
    if (rc < 0) return rc;
    if (len < 2 || s[len - 1] != ']')
        return cfg_fail(p, p->line, "bad section header (expected [listener NAME])");
    s++;
    len -= 2;
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    size_t w = 0;
    while (w < len && s[w] != ' ' && s[w] != '\t')
        w++;
    if (w != 8 || memcmp(s, "listener", 8) != 0)
        return cfg_fail(p, p->line, "unknown section '[%.*s]' (expected [listener NAME])", (int)len,
                        s);
    const char *name = s + w;
    size_t nlen = len - w;
    while (nlen && (*name == ' ' || *name == '\t'))
        name++, nlen--;
    if (!cfg_name_ok(name, nlen))
        return cfg_fail(p, p->line, "bad listener name '%.*s' (1-%d of A-Z a-z 0-9 _ - .)",
                        (int)nlen, name, SRV_CONFIG_NAME_MAX);
    struct srv_config *c = p->cfg;
    for (size_t i = 0; i < c->n_listeners; i++)
        if (strlen(c->listeners[i].name) == nlen && memcmp(c->listeners[i].name, name, nlen) == 0)
            return cfg_fail(p, p->line, "duplicate listener name '%.*s' (first on line %u)",
                            (int)nlen, name, c->listeners[i].line);
    if (c->n_listeners == SRV_CONFIG_LISTENERS_MAX)
        return cfg_fail(p, p->line, "too many listeners (at most %d)", SRV_CONFIG_LISTENERS_MAX);
    struct srv_listener *ls = realloc(c->listeners, (c->n_listeners + 1) * sizeof(*ls));
    if (!ls) return PETREL_ENOMEM;
    c->listeners = ls;
    struct srv_listener *l = &ls[c->n_listeners++];
    memset(l, 0, sizeof(*l));
    l->line = p->line;
    l->limits = c->limits;
    l->name = strndup(name, nlen);
    memset(p->lk_lines, 0, sizeof(p->lk_lines));
    memset(p->lim_lines, 0, sizeof(p->lim_lines));
    p->cur = l;
    return l->name ? 0 : PETREL_ENOMEM;
}

static bool cfg_key_ok(const char *k, size_t len)
{
    if (len == 0 || len > SRV_CONFIG_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
            return false;
    return true;
}

static int cfg_assignment(struct cfg_parser *p, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    if (!eq) return cfg_fail(p, p->line, "expected 'key = value' or '[listener NAME]'");
    size_t klen = (size_t)(eq - s);
    while (klen && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
        klen--;
    const char *v = eq + 1;
    size_t vlen = len - (size_t)(v - s);
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    if (!cfg_key_ok(s, klen))
        return cfg_fail(p, p->line, "bad key '%.*s' (lower-case letters, digits and _)", (int)klen,
                        s);
    if (vlen == 0) return cfg_fail(p, p->line, "missing value for '%.*s'", (int)klen, s);
    if (p->cur) return cfg_set_in_listener(p, s, klen, v, vlen);
    return cfg_set_global(p, s, klen, v, vlen);
}

/* One line without its end-of-line: strip the comment and blanks, then dispatch. */
static int cfg_line(struct cfg_parser *p, const char *s, size_t len)
{
    if (len > SRV_CONFIG_LINE_MAX)
        return cfg_fail(p, p->line, "line too long (at most %d bytes)", SRV_CONFIG_LINE_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
            len = i;
            break;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return cfg_fail(p, p->line, "control character 0x%02x in line", c);
    }
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0) return 0;
    if (s[0] == '[') return cfg_section(p, s, len);
    return cfg_assignment(p, s, len);
}

static int cfg_defaults(struct srv_config *c)
{
    char host[256];
    if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = cores < 1 ? 1 : cores > 1024 ? 1024 : (unsigned)cores;
    c->log_level = LOG_LVL_INFO;
    c->auth_plaintext = SRV_AUTH_PLAIN_LOOPBACK;
    c->auth_scrypt_ln = 15;
    c->auth_scrypt_r = 8;
    c->auth_scrypt_p = 1;
    c->auth_cache_ttl = 300;
    c->vanished_keep = STORE_VANISHED_KEEP_DEFAULT;
    c->limits.max_connections = 10000;
    c->limits.idle_timeout = 1800;
    c->limits.max_line_length = 65536;
    c->limits.max_message_size = 50ULL << 20;
    c->max_connections_per_ip = 100;
    c->session_timeout = 86400;
    c->hostname = strdup(host);
    return c->hostname ? 0 : PETREL_ENOMEM;
}

int srv_config_new_defaults(const char *file, struct srv_config **cfg_r)
{
    struct srv_config *c = calloc(1, sizeof(*c));
    if (!c) return PETREL_ENOMEM;
    c->file = strdup(file);
    if (!c->file || cfg_defaults(c) < 0) {
        srv_config_free(&c);
        return PETREL_ENOMEM;
    }
    *cfg_r = c;
    return 0;
}

static int cfg_parse_lines(struct cfg_parser *p, const char *text, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t llen = end - pos;
        if (llen && text[end - 1] == '\r') llen--;
        p->line++;
        int rc = cfg_line(p, text + pos, llen);
        if (rc < 0) return rc;
        pos = end + 1;
    }
    int rc = p->cur ? cfg_listener_finish(p) : cfg_globals_finish(p);
    if (rc < 0) return rc;
    if (p->cfg->n_listeners == 0)
        return cfg_fail(p, 0, "no [listener NAME] section: nothing to serve");
    return 0;
}

int srv_config_parse(const char *file, const char *text, size_t len, struct srv_config **cfg_r,
                     char *err, size_t errlen)
{
    struct cfg_parser p = {.file = file, .err = err, .errlen = errlen};
    *cfg_r = NULL;
    if (errlen) err[0] = '\0';
    int rc = srv_config_new_defaults(file, &p.cfg);
    if (rc == 0) rc = cfg_parse_lines(&p, text, len);
    if (rc == PETREL_ENOMEM && errlen) snprintf(err, errlen, "%s: out of memory", file);
    if (rc < 0) {
        srv_config_free(&p.cfg);
        return rc;
    }
    *cfg_r = p.cfg;
    return 0;
}
