/*
 * host.h - the plugin host inside petreld: sessions on connections, the
 * host table of include/petrel/plugin.h, listeners bound to plugins, the
 * login flow, store reads and writes for plugins, mailbox watchers.
 *
 * petreld's main() drives it:
 *   srv_host_new(cfg)           load plugins, open listeners' plugin state,
 *                               open the store and the writer, auth pools
 *   srv_host_bind(h)            bind every listener (before dropping privileges)
 *   srv_host_run(h)             start the workers and accept; returns at once
 *   srv_host_reload_tls(h)      SIGHUP
 *   srv_host_stop(h)            stop accepting, say goodbye, drain, stop writer
 *   srv_host_free(&h)
 * --check-config uses srv_host_check(cfg) (plugins loaded, their keys checked,
 * listener_open called and closed; nothing bound, no store opened).
 */
#ifndef PETREL_SERVER_HOST_H
#define PETREL_SERVER_HOST_H

#include <stddef.h>

#include "server/config.h"

typedef struct srv_host srv_host_t;

int srv_host_check(const struct srv_config *cfg, char *err, size_t errlen);
int srv_host_new(const struct srv_config *cfg, srv_host_t **h_r, char *err, size_t errlen);
int srv_host_bind(srv_host_t *h, char *err, size_t errlen);
int srv_host_run(srv_host_t *h, char *err, size_t errlen);
int srv_host_reload_tls(srv_host_t *h);
/* Graceful: stop accepting, tell sessions (PETREL_NOTIFY_SHUTDOWN), wait for
 * them (at most grace_ms), finish in-flight commits. */
void srv_host_stop(srv_host_t *h, unsigned grace_ms);
void srv_host_free(srv_host_t **h);
/* The host table (for tests). */
const struct petrel_host *srv_host_table(void);
/* Sessions open now (for tests and stats). */
unsigned srv_host_sessions(srv_host_t *h);

#endif
