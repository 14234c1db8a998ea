/*
 * abi10_plugin.c - a plugin built against the FROZEN ABI 1.0 header in
 * tests/abi/include (never edit that copy). It must load and serve in every
 * later 1.x host: tests/integration/test_abi.py starts petreld with it.
 *
 *   S: +OK abi10 <hostname>
 *   C: PING          S: +OK PONG
 *   C: CFG           S: +OK <the listener's "motto" setting>
 *   C: PROBE name    S: +OK yes|no   (host->lookup)
 *   C: QUIT          S: +OK bye
 */
#include <petrel/plugin.h>

#include <string.h>
#include <strings.h>

static const struct petrel_host *host;

static int abi10_load(const struct petrel_host *h, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    host = h;
    return 0;
}

static int abi10_start(petrel_session *s, void **data_r)
{
    *data_r = NULL;
    host->writef(s, "+OK abi10 %s\r\n", host->hostname());
    return 0;
}

static void abi10_end(petrel_session *s, void *data)
{
    (void)s, (void)data;
}

static void abi10_line(petrel_session *s, void *data, const char *line, size_t len,
                       unsigned flags)
{
    (void)data, (void)flags;
    if (len == 4 && strncasecmp(line, "PING", 4) == 0) {
        host->writef(s, "+OK PONG\r\n");
    } else if (len == 3 && strncasecmp(line, "CFG", 3) == 0) {
        host->writef(s, "+OK %s\r\n",
                     host->config_get(host->session_listener(s), "motto", "(none)"));
    } else if (len > 6 && len < 100 && strncasecmp(line, "PROBE ", 6) == 0) {
        char name[100];
        memcpy(name, line + 6, len - 6);
        name[len - 6] = '\0';
        host->writef(s, "+OK %s\r\n", host->lookup(name) ? "yes" : "no");
    } else if (len == 4 && strncasecmp(line, "QUIT", 4) == 0) {
        host->writef(s, "+OK bye\r\n");
        host->close(s);
    } else {
        host->writef(s, "-ERR unknown\r\n");
    }
}

static const char *const abi10_keys[] = {"motto", NULL};

static const struct petrel_plugin abi10 = {
    .abi_version = PETREL_ABI_VERSION,
    .struct_size = sizeof(struct petrel_plugin),
    .name = "abi10",
    .version = "1.0-frozen",
    .config_keys = abi10_keys,
    .load = abi10_load,
    .session_start = abi10_start,
    .session_end = abi10_end,
    .on_line = abi10_line,
};

PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void)
{
    return &abi10;
}
