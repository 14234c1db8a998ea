#include "server/loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"

#ifndef PETREL_PLUGIN_INSTALL_DIR
#define PETREL_PLUGIN_INSTALL_DIR "/usr/local/lib/petrel/plugins"
#endif

int srv_plugin_path(const char *dir, const char *name, char *path, size_t cap)
{
    if (strchr(name, '/') || !*name)
        return PETREL_EINVAL;
    if (dir && *dir) {
        int n = snprintf(path, cap, "%s/%s.so", dir, name);
        return (n < 0 || (size_t)n >= cap) ? PETREL_ETOOBIG : 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int n = snprintf(path, cap, "%s/plugins/%s.so", exe, name);
            if (n > 0 && (size_t)n < cap && access(path, R_OK) == 0)
                return 0;
        }
    }
    int n = snprintf(path, cap, "%s/%s.so", PETREL_PLUGIN_INSTALL_DIR, name);
    return (n < 0 || (size_t)n >= cap) ? PETREL_ETOOBIG : 0;
}

static int srv_plugin_fail(srv_plugin_t *p, char *err, size_t errlen, int rc, const char *fmt,
                           ...) __attribute__((format(printf, 5, 6)));

static int srv_plugin_fail(srv_plugin_t *p, char *err, size_t errlen, int rc, const char *fmt,
                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    log_error("event=plugin_refused path=%s reason=\"%s\"", p->path, err);
    srv_plugin_close(&p);
    return rc;
}

int srv_plugin_open(const char *path, const char *name, const struct petrel_host *host,
                    srv_plugin_t **p_r, char *err, size_t errlen)
{
    srv_plugin_t *p = calloc(1, sizeof(*p));
    if (!p)
        return PETREL_ENOMEM;
    p->path = strdup(path);
    p->name = strdup(name);
    if (!p->path || !p->name) {
        srv_plugin_close(&p);
        return PETREL_ENOMEM;
    }
    p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!p->handle)
        return srv_plugin_fail(p, err, errlen, PETREL_ENOTFOUND, "%s: cannot load plugin: %s",
                               path, dlerror());
    dlerror();
    void *sym = dlsym(p->handle, PETREL_PLUGIN_ENTRY);
    if (!sym)
        return srv_plugin_fail(p, err, errlen, PETREL_EINVAL,
                               "%s: not a Petrel plugin: no symbol %s", path, PETREL_PLUGIN_ENTRY);
    petrel_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof(entry));
    const struct petrel_plugin *d = entry();
    if (!d)
        return srv_plugin_fail(p, err, errlen, PETREL_EINVAL, "%s: %s returned no descriptor",
                               path, PETREL_PLUGIN_ENTRY);
    if (PETREL_ABI_MAJOR_OF(d->abi_version) != PETREL_ABI_MAJOR)
        return srv_plugin_fail(p, err, errlen, PETREL_EVERSION,
                               "%s: plugin ABI %u.%u, this host speaks ABI %u.%u", path,
                               d->abi_version >> 16, d->abi_version & 0xffff, PETREL_ABI_MAJOR,
                               PETREL_ABI_MINOR);
    if (d->struct_size < SRV_PLUGIN_MIN_SIZE)
        return srv_plugin_fail(p, err, errlen, PETREL_EVERSION,
                               "%s: plugin descriptor is %u bytes, ABI %u.%u needs at least %zu",
                               path, d->struct_size, d->abi_version >> 16,
                               d->abi_version & 0xffff, (size_t)SRV_PLUGIN_MIN_SIZE);
    if (!d->name || strcmp(d->name, name) != 0)
        return srv_plugin_fail(p, err, errlen, PETREL_EINVAL,
                               "%s: plugin calls itself '%s', the listener wants '%s'", path,
                               d->name ? d->name : "(null)", name);
    if (!d->session_start || !d->session_end || !d->on_line)
        return srv_plugin_fail(p, err, errlen, PETREL_EINVAL,
                               "%s: plugin lacks session_start, session_end or on_line", path);
    p->desc = d;
    if (d->load) {
        char perr[512] = "";
        int rc = d->load(host, perr, sizeof(perr));
        if (rc)
            return srv_plugin_fail(p, err, errlen, rc < 0 ? rc : PETREL_EINVAL,
                                   "%s: plugin %s failed to load: %s", path, name,
                                   perr[0] ? perr : petrel_strerror(rc));
    }
    p->loaded = 1;
    log_info("event=plugin_loaded name=%s path=%s version=%s abi=%u.%u", name, path,
             d->version ? d->version : "-", d->abi_version >> 16, d->abi_version & 0xffff);
    *p_r = p;
    return 0;
}

void srv_plugin_close(srv_plugin_t **pp)
{
    srv_plugin_t *p = *pp;
    if (!p)
        return;
    if (p->loaded && p->desc->unload)
        p->desc->unload();
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    free(p->name);
    free(p);
    *pp = NULL;
}
