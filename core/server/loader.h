/*
 * loader.h - finds, loads and checks protocol plugins (include/petrel/plugin.h).
 *
 * A plugin is loaded once per process (RTLD_NOW | RTLD_LOCAL, so plugins
 * never see each other's symbols) and shared by every listener naming it.
 * The loader refuses, with an error that names the file and the versions:
 * a file that cannot be loaded, a missing entry symbol, a different major
 * ABI, a descriptor smaller than ABI 1.0's, a name that does not match the
 * listener's `plugin =`, missing session callbacks, and a plugin whose own
 * load() fails (with the plugin's message).
 */
#ifndef PETREL_SERVER_LOADER_H
#define PETREL_SERVER_LOADER_H

#include <stddef.h>

#include <petrel/plugin.h>

typedef struct srv_plugin {
    char *name;
    char *path;
    void *handle; /* dlopen handle */
    const struct petrel_plugin *desc;
    int loaded;   /* desc->load succeeded (unload is due) */
} srv_plugin_t;

/* The size of an ABI 1.0 descriptor: the least the host accepts. */
#define SRV_PLUGIN_MIN_SIZE (offsetof(struct petrel_plugin, refuse_line) + sizeof(void *))

/*
 * Where plugin `name` is looked for: dir (plugin_dir from the config) when
 * set; else plugins/ beside the running executable, then the install path.
 * Writes the first existing candidate (or the first candidate) to path.
 */
int srv_plugin_path(const char *dir, const char *name, char *path, size_t cap);

/*
 * Loads the plugin at path, expecting descriptor name `name`, and calls its
 * load(host). On failure returns a PETREL_E* code and a message in err.
 */
int srv_plugin_open(const char *path, const char *name, const struct petrel_host *host,
                    srv_plugin_t **p_r, char *err, size_t errlen);
/* Calls unload (when load succeeded), dlcloses and frees. Sets *p to NULL. */
void srv_plugin_close(srv_plugin_t **p);

#endif
