/*
 * server/priv.h - dropping root privileges once petreld has bound its sockets
 * and read its keys.
 */
#ifndef PETREL_SERVER_PRIV_H
#define PETREL_SERVER_PRIV_H

#include <stddef.h>

/*
 * Switches the process to user (and group, default: the user's primary group).
 *
 * As root: resolves user with getpwnam_r (group with getgrnam_r), sets the
 * supplementary groups (initgroups: the user's groups plus the chosen gid), then
 * real/effective/saved gid, then uid (setresgid/setresuid), and verifies the result:
 * every id is the target and setuid(0) now fails. Dropping "to" uid 0 is refused.
 * Not root: succeeds only when the process already runs as that user (and group,
 * when given); otherwise an error, never a silent no-op.
 * user NULL or "": nothing to do (0), unless group is set (PETREL_EINVAL).
 *
 * Returns 0, or an error with one line in err naming the cause:
 *   PETREL_ENOTFOUND  unknown user or group
 *   PETREL_EPERM      not root and not already that user; user is uid 0
 *   PETREL_EINVAL     group without user
 *   PETREL_ENOMEM     no memory for the lookup buffers
 *   PETREL_EIO        a lookup or a set*id call failed, or the verification did
 * After PETREL_EIO the process may hold a partial set of ids: the caller must exit.
 * Call at start-up, before other threads exist (glibc applies set*id to every
 * thread, but a thread mid-way through file access would race with the switch).
 */
int srv_priv_drop(const char *user, const char *group, char *err, size_t errlen);

#endif
