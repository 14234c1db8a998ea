/*
 * server/priv.c - see priv.h. The order matters: groups while still root, then
 * gid, then uid last (after setuid the other calls would be refused).
 */
#define _GNU_SOURCE
#include "server/priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"

#define PRIV_PWBUF_MAX (1024 * 1024)

struct priv_target {
    uid_t uid;
    gid_t gid;
};

static size_t priv_buf_start(int name)
{
    long n = sysconf(name);
    return n > 0 && n <= PRIV_PWBUF_MAX ? (size_t)n : 16384;
}

static int priv_user_lookup(const char *user, struct priv_target *t, char *err, size_t errlen)
{
    struct passwd pw, *res = NULL;
    int rc;
    for (size_t size = priv_buf_start(_SC_GETPW_R_SIZE_MAX);; size *= 2) {
        char *buf = malloc(size);
        if (!buf) return PETREL_ENOMEM;
        rc = getpwnam_r(user, &pw, buf, size, &res);
        if (rc == 0 && res) {
            t->uid = pw.pw_uid;
            t->gid = pw.pw_gid;
        }
        free(buf);
        if (rc != ERANGE || size >= PRIV_PWBUF_MAX) break;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot look up user '%s': %s", user, strerror(rc));
        return PETREL_EIO;
    }
    if (!res) {
        snprintf(err, errlen, "unknown user '%s'", user);
        return PETREL_ENOTFOUND;
    }
    return 0;
}

static int priv_group_lookup(const char *group, gid_t *gid_r, char *err, size_t errlen)
{
    struct group gr, *res = NULL;
    int rc;
    for (size_t size = priv_buf_start(_SC_GETGR_R_SIZE_MAX);; size *= 2) {
        char *buf = malloc(size);
        if (!buf) return PETREL_ENOMEM;
        rc = getgrnam_r(group, &gr, buf, size, &res);
        if (rc == 0 && res) *gid_r = gr.gr_gid;
        free(buf);
        if (rc != ERANGE || size >= PRIV_PWBUF_MAX) break;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot look up group '%s': %s", group, strerror(rc));
        return PETREL_EIO;
    }
    if (!res) {
        snprintf(err, errlen, "unknown group '%s'", group);
        return PETREL_ENOTFOUND;
    }
    return 0;
}

static int priv_fail_errno(const char *what, const char *user, char *err, size_t errlen)
{
    snprintf(err, errlen, "dropping privileges to '%s': %s failed: %s", user, what,
             strerror(errno));
    return PETREL_EIO;
}

/* Every id must be the target, and root must be out of reach for good. */
static int priv_verify(const char *user, const struct priv_target *t, char *err, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return priv_fail_errno("getresuid/getresgid", user, err, errlen);
    if (ru != t->uid || eu != t->uid || su != t->uid || rg != t->gid || eg != t->gid ||
        sg != t->gid) {
        snprintf(err, errlen,
                 "dropping privileges to '%s': ids are uid=%u/%u/%u gid=%u/%u/%u, "
                 "expected uid=%u gid=%u",
                 user, ru, eu, su, rg, eg, sg, t->uid, t->gid);
        return PETREL_EIO;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        snprintf(err, errlen, "dropping privileges to '%s': setuid(0) still succeeds", user);
        return PETREL_EIO;
    }
    return 0;
}

static int priv_switch(const char *user, const struct priv_target *t, char *err, size_t errlen)
{
    if (t->uid == 0) {
        snprintf(err, errlen, "refusing to run as user '%s': it has uid 0", user);
        return PETREL_EPERM;
    }
    if (initgroups(user, t->gid) < 0) return priv_fail_errno("initgroups", user, err, errlen);
    if (setresgid(t->gid, t->gid, t->gid) < 0)
        return priv_fail_errno("setresgid", user, err, errlen);
    if (setresuid(t->uid, t->uid, t->uid) < 0)
        return priv_fail_errno("setresuid", user, err, errlen);
    int rc = priv_verify(user, t, err, errlen);
    if (rc == 0) log_info("event=priv_drop user=%s uid=%u gid=%u", user, t->uid, t->gid);
    return rc;
}

/* Without root the only acceptable outcome is "already there". */
static int priv_check_current(const char *user, const char *group, const struct priv_target *t,
                              char *err, size_t errlen)
{
    if (getuid() == t->uid && geteuid() == t->uid &&
        (!group || (getgid() == t->gid && getegid() == t->gid)))
        return 0;
    if (getuid() != t->uid || geteuid() != t->uid)
        snprintf(err, errlen, "cannot switch to user '%s' (uid %u): not running as root (uid %u)",
                 user, t->uid, geteuid());
    else
        snprintf(err, errlen, "cannot switch to group '%s' (gid %u): not running as root (gid %u)",
                 group, t->gid, getegid());
    return PETREL_EPERM;
}

int srv_priv_drop(const char *user, const char *group, char *err, size_t errlen)
{
    if (errlen) err[0] = '\0';
    if (!user || !*user) {
        if (!group || !*group) return 0;
        snprintf(err, errlen, "group '%s' is set but user is not", group);
        return PETREL_EINVAL;
    }
    if (group && !*group) group = NULL;
    struct priv_target t = {(uid_t)-1, (gid_t)-1};
    int rc = priv_user_lookup(user, &t, err, errlen);
    if (rc == 0 && group) rc = priv_group_lookup(group, &t.gid, err, errlen);
    if (rc < 0) return rc;
    if (geteuid() != 0) return priv_check_current(user, group, &t, err, errlen);
    return priv_switch(user, &t, err, errlen);
}
