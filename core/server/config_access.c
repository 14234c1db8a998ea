/*
 * server/config_access.c - the development default, lookups, plugin key checks,
 * and freeing a config.
 */
#include "server/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config_value.h"
#include "util/err.h"

struct cfg_dev_listener {
    const char *name, *plugin, *mode, *address;
    enum srv_tls_mode tls;
};

static const struct cfg_dev_listener cfg_dev_listeners[] = {
    {"smtp", "smtp", "mx", "127.0.0.1:2525", SRV_TLS_STARTTLS},
    {"submission", "smtp", "submission", "127.0.0.1:2587", SRV_TLS_STARTTLS},
    {"smtps", "smtp", "submission", "127.0.0.1:2465", SRV_TLS_IMPLICIT},
    {"pop3", "pop3", NULL, "127.0.0.1:2110", SRV_TLS_STARTTLS},
    {"pop3s", "pop3", NULL, "127.0.0.1:2995", SRV_TLS_IMPLICIT},
    {"imap", "imap", NULL, "127.0.0.1:2143", SRV_TLS_STARTTLS},
    {"imaps", "imap", NULL, "127.0.0.1:2993", SRV_TLS_IMPLICIT},
    {"example", "example", NULL, "127.0.0.1:2026", SRV_TLS_STARTTLS},
};
#define CFG_DEV_N (sizeof(cfg_dev_listeners) / sizeof(cfg_dev_listeners[0]))

static char *cfg_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static int cfg_dev_listener_init(struct srv_config *c, struct srv_listener *l,
                                 const struct cfg_dev_listener *d)
{
    l->limits = c->limits;
    l->tls = d->tls;
    if (cfg_value_address(d->address, strlen(d->address), &l->addr) < 0) return PETREL_EINVAL;
    l->name = strdup(d->name);
    l->plugin = strdup(d->plugin);
    if (!l->name || !l->plugin) return PETREL_ENOMEM;
    if (!d->mode) return 0;
    l->settings = calloc(1, sizeof(*l->settings));
    if (!l->settings) return PETREL_ENOMEM;
    l->n_settings = 1;
    l->settings[0].key = strdup("mode");
    l->settings[0].value = strdup(d->mode);
    return l->settings[0].key && l->settings[0].value ? 0 : PETREL_ENOMEM;
}

int srv_config_set_data(struct srv_config *cfg, const char *dir)
{
    char *data = strdup(dir);
    char *cert = cfg_path_join(dir, "tls/cert.pem");
    char *key = cfg_path_join(dir, "tls/key.pem");
    if (!data || !cert || !key) {
        free(data);
        free(cert);
        free(key);
        return PETREL_ENOMEM;
    }
    free(cfg->data);
    cfg->data = data;
    if (cfg->tls_self_signed) {
        free(cfg->tls_cert);
        free(cfg->tls_key);
        cfg->tls_cert = cert;
        cfg->tls_key = key;
    } else {
        free(cert);
        free(key);
    }
    return 0;
}

static int cfg_dev_fill(struct srv_config *c, const char *data_dir)
{
    c->tls_self_signed = true;
    c->dev_default = true;
    int rc = srv_config_set_data(c, data_dir ? data_dir : "./var");
    if (rc < 0) return rc;
    c->listeners = calloc(CFG_DEV_N, sizeof(*c->listeners));
    if (!c->listeners) return PETREL_ENOMEM;
    c->n_listeners = CFG_DEV_N;
    for (size_t i = 0; i < CFG_DEV_N; i++) {
        rc = cfg_dev_listener_init(c, &c->listeners[i], &cfg_dev_listeners[i]);
        if (rc < 0) return rc;
    }
    return 0;
}

int srv_config_default_dev(const char *data_dir, struct srv_config **cfg_r)
{
    struct srv_config *c;
    *cfg_r = NULL;
    int rc = srv_config_new_defaults("(built-in default)", &c);
    if (rc < 0) return rc;
    rc = cfg_dev_fill(c, data_dir);
    if (rc < 0) {
        srv_config_free(&c);
        return rc;
    }
    *cfg_r = c;
    return 0;
}

int srv_config_check_listener_keys(const struct srv_config *cfg, const struct srv_listener *l,
                                   const char *const *allowed, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n_settings; i++) {
        bool ok = false;
        for (size_t j = 0; allowed && allowed[j] && !ok; j++)
            ok = strcmp(allowed[j], l->settings[i].key) == 0;
        if (ok) continue;
        if (l->settings[i].line)
            snprintf(err, errlen, "%s:%u: unknown key '%s' in [listener %s]", cfg->file,
                     l->settings[i].line, l->settings[i].key, l->name);
        else
            snprintf(err, errlen, "%s: unknown key '%s' in [listener %s]", cfg->file,
                     l->settings[i].key, l->name);
        return PETREL_EINVAL;
    }
    return 0;
}

const char *srv_listener_setting(const struct srv_listener *l, const char *key)
{
    for (size_t i = 0; i < l->n_settings; i++)
        if (strcmp(l->settings[i].key, key) == 0) return l->settings[i].value;
    return NULL;
}

const struct srv_listener *srv_config_listener(const struct srv_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_listeners; i++)
        if (cfg->listeners[i].name && strcmp(cfg->listeners[i].name, name) == 0)
            return &cfg->listeners[i];
    return NULL;
}

const char *srv_tls_mode_name(enum srv_tls_mode m)
{
    switch (m) {
    case SRV_TLS_STARTTLS:
        return "starttls";
    case SRV_TLS_IMPLICIT:
        return "implicit";
    default:
        return "none";
    }
}

static void cfg_listener_free(struct srv_listener *l)
{
    free(l->name);
    free(l->plugin);
    for (size_t i = 0; i < l->n_settings; i++) {
        free(l->settings[i].key);
        free(l->settings[i].value);
    }
    free(l->settings);
}

void srv_config_free(struct srv_config **cfg_r)
{
    struct srv_config *c = *cfg_r;
    if (!c) return;
    for (size_t i = 0; i < c->n_listeners; i++)
        cfg_listener_free(&c->listeners[i]);
    free(c->listeners);
    char **strs[] = {&c->file,       &c->data,     &c->hostname, &c->user,     &c->group,
                     &c->plugin_dir, &c->tls_cert, &c->tls_key,  &c->log_file, &c->pid_file};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    free(c);
    *cfg_r = NULL;
}
