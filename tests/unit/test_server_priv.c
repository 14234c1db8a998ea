/*
 * Unit tests for core/server/priv.c. As root (CI), a forked child drops to
 * nobody and proves it; the non-root paths are then exercised in that child
 * too. As non-root, the error paths are tested directly.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/priv.h"
#include "util/err.h"

static char err[256];

static void test_nothing_to_do(void **state)
{
    (void)state;
    assert_int_equal(srv_priv_drop(NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(srv_priv_drop("", NULL, err, sizeof(err)), 0);
    assert_int_equal(srv_priv_drop("", "", err, sizeof(err)), 0);
    assert_int_equal(srv_priv_drop(NULL, "nogroup", err, sizeof(err)), PETREL_EINVAL);
    assert_string_equal(err, "group 'nogroup' is set but user is not");
}

static void test_unknown_names(void **state)
{
    (void)state;
    assert_int_equal(srv_priv_drop("petrel-no-such-user", NULL, err, sizeof(err)),
                     PETREL_ENOTFOUND);
    assert_string_equal(err, "unknown user 'petrel-no-such-user'");
    assert_int_equal(srv_priv_drop("nobody", "petrel-no-such-group", err, sizeof(err)),
                     PETREL_ENOTFOUND);
    assert_string_equal(err, "unknown group 'petrel-no-such-group'");
}

/* Non-root: only "already that user" succeeds. Returns 0 when every check held. */
static int check_nonroot_paths(void)
{
    struct passwd *pw = getpwuid(getuid());
    if (!pw) return 10;
    char me[64];
    snprintf(me, sizeof(me), "%s", pw->pw_name);
    if (srv_priv_drop(me, NULL, err, sizeof(err)) != 0) return 11;
    char want[256];
    snprintf(want, sizeof(want),
             "cannot switch to user 'root' (uid 0): not running as root (uid %u)", geteuid());
    if (srv_priv_drop("root", NULL, err, sizeof(err)) != PETREL_EPERM || strcmp(err, want) != 0)
        return 12;
    /* right user, wrong group */
    snprintf(want, sizeof(want),
             "cannot switch to group 'root' (gid 0): not running as root (gid %u)", getegid());
    if (getegid() != 0 &&
        (srv_priv_drop(me, "root", err, sizeof(err)) != PETREL_EPERM || strcmp(err, want) != 0))
        return 13;
    return 0;
}

static void test_refuse_uid0(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        assert_int_equal(check_nonroot_paths(), 0);
        return;
    }
    /* as root, dropping "to" root is refused and changes nothing */
    assert_int_equal(srv_priv_drop("root", NULL, err, sizeof(err)), PETREL_EPERM);
    assert_string_equal(err, "refusing to run as user 'root': it has uid 0");
    assert_int_equal(geteuid(), 0);
}

static char secret[64];

static int setup_secret(void **state)
{
    (void)state;
    strcpy(secret, "/tmp/petrel-priv-XXXXXX");
    int fd = mkstemp(secret);
    if (fd < 0) return -1;
    int ok = write(fd, "s", 1) == 1 && fchmod(fd, 0600) == 0;
    close(fd);
    return ok ? 0 : -1;
}

static int teardown_secret(void **state)
{
    (void)state;
    return unlink(secret);
}

/* Runs in the child after the drop; each failed check has its own exit code. */
static int check_dropped(uid_t uid, gid_t gid)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0) return 20;
    if (ru != uid || eu != uid || su != uid) return 21;
    if (rg != gid || eg != gid || sg != gid) return 22;
    gid_t groups[64];
    int n = getgroups(64, groups);
    if (n < 0) return 23;
    bool has_gid = false;
    for (int i = 0; i < n; i++) {
        if (groups[i] == 0) return 24; /* root's supplementary group must be gone */
        has_gid |= groups[i] == gid;
    }
    if (!has_gid) return 27; /* initgroups puts the chosen group in the list */
    if (open(secret, O_RDONLY) >= 0 || errno != EACCES) return 25;
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) return 26;
    return check_nonroot_paths();
}

static int run_child(const char *user, const char *group, uid_t uid, gid_t gid)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* give the child root's supplementary group, which the drop must remove */
        gid_t root_groups[] = {0};
        if (setgroups(1, root_groups) < 0) _exit(3);
        if (srv_priv_drop(user, group, err, sizeof(err)) != 0) {
            fprintf(stderr, "drop failed: %s\n", err);
            _exit(2);
        }
        _exit(check_dropped(uid, gid));
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static void test_drop_to_nobody(void **state)
{
    (void)state;
    struct passwd *pw = getpwnam("nobody");
    assert_non_null(pw);
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (geteuid() != 0) {
        /* not root: switching to somebody else is an error, not a silent no-op */
        assert_int_equal(srv_priv_drop("nobody", NULL, err, sizeof(err)), PETREL_EPERM);
        char want[256];
        snprintf(want, sizeof(want),
                 "cannot switch to user 'nobody' (uid %u): not running as root (uid %u)", uid,
                 geteuid());
        assert_string_equal(err, want);
        return;
    }
    /* the file really is out of nobody's reach only because of the drop */
    int fd = open(secret, O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(run_child("nobody", NULL, uid, gid), 0);
}

static void test_drop_with_group(void **state)
{
    (void)state;
    struct passwd *pw = getpwnam("nobody");
    struct group *gr = getgrnam("nogroup");
    assert_non_null(pw);
    assert_non_null(gr);
    uid_t uid = pw->pw_uid;
    gid_t gid = gr->gr_gid;
    if (geteuid() != 0) {
        assert_int_equal(srv_priv_drop("nobody", "nogroup", err, sizeof(err)), PETREL_EPERM);
        return;
    }
    /* a group other than nobody's primary one: "daemon" */
    struct group *dg = getgrnam("daemon");
    assert_non_null(dg);
    assert_int_equal(run_child("nobody", "nogroup", uid, gid), 0);
    assert_int_equal(run_child("nobody", "daemon", uid, dg->gr_gid), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_to_do),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_refuse_uid0),
        cmocka_unit_test_setup_teardown(test_drop_to_nobody, setup_secret, teardown_secret),
        cmocka_unit_test_setup_teardown(test_drop_with_group, setup_secret, teardown_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
