/*
 * ctl.h - what petrelctl's command files share: the invocation context, the
 * command table entry, and helpers that open the store and map store errors
 * to one-line messages.
 *
 * Exit codes: CTL_OK, CTL_FAIL (one line on stderr), CTL_USAGE (the
 * command's usage on stderr). deliver uses sysexits (deliver.c).
 */
#ifndef PETRELCTL_CTL_H
#define PETRELCTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "out.h"
#include "store/store.h"

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

typedef struct ctl {
    const char *data_dir;      /* resolved by main: -d, PETREL_DATA, -c FILE's data =, ./var */
    int json;                  /* --json */
    store_t *st;               /* opened by ctl_store(); closed by main */
    const struct ctl_cmd *cmd; /* the command being run (for usage) */
} ctl_t;

/* argv[0] is the first word after the command's name(s). */
typedef int (*ctl_cmd_fn)(ctl_t *c, int argc, char **argv);

typedef struct ctl_cmd {
    const char *name;  /* "tenant add", "deliver" */
    const char *usage; /* "tenant add DOMAIN [--protocols LIST] [--quota SIZE]" */
    const char *help;  /* what it does and every option, one per line */
    ctl_cmd_fn fn;
} ctl_cmd_t;

/* Opens the store in c->data_dir on first use. Prints the reason on failure. */
int ctl_store(ctl_t *c, store_t **st_r);
/*
 * As ctl_store, but fails ("no Petrel store in DIR") instead of creating an
 * empty store when the data directory has none: for commands that only read.
 */
int ctl_store_existing(ctl_t *c, store_t **st_r);
/* ctl_store_existing, then a read transaction; prints the reason on failure. */
int ctl_read(ctl_t *c, store_txn_t **txn_r);
/* Prints the command's usage to stderr; returns CTL_USAGE. */
int ctl_usage(ctl_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the command's full help to stdout; returns CTL_OK. */
int ctl_help(const ctl_cmd_t *cmd);
/*
 * Parses argv for a command with positional count in [min, max]; prints usage
 * and returns CTL_USAGE on error, prints help and returns -1 (caller returns
 * CTL_OK) on --help; 0 when the command should run.
 */
int ctl_args(ctl_t *c, int argc, char **argv, args_opt_t *opts, size_t nopts, int min, int max,
             args_t *a);

/*
 * One-line failure text for a store error about `what` (e.g. "user 'a@b'"):
 * "user 'a@b' not found", "... already exists", "invalid ...". Returns CTL_FAIL.
 */
int ctl_store_fail(int err, const char *what);
/*
 * The tenant named by a listing's optional DOMAIN argument (domain NULL: *t_r
 * zeroed, meaning all tenants). On failure prints why, aborts *txn and
 * returns CTL_FAIL.
 */
int ctl_tenant_filter(store_txn_t **txn, const char *domain, store_tenant_t *t_r);

/* Reads a password: from stdin (one line) when from_stdin, else by prompting twice on
 * the terminal. buf gets a NUL-terminated password. 0 or PETREL_EINVAL (printed). */
int ctl_password_read(int from_stdin, char *buf, size_t bufsize);
/* Checks a --password-hash value's scheme prefix and length. 0 or PETREL_EINVAL. */
int ctl_hash_check(const char *hash);
/* Resolves the password options of user add / user passwd into a stored hash string. */
int ctl_password_opts(const char *hash_opt, int from_stdin, char *hash_r, size_t hashsize);

/*
 * Formats a file-system path into dst; PETREL_ETOOBIG (dst holds a truncated
 * string) when it does not fit. Commands check the length of the directories
 * they are given (CTL_DIR_MAX) so that the paths they build under them fit.
 */
#define CTL_DIR_MAX 2000
int ctl_path(char *dst, size_t dstsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 1 when dir does not exist or is an empty directory. */
int ctl_dir_empty_or_absent(const char *dir);

/* 1 when s looks like an address (local@domain, both non-empty). */
int ctl_is_address(const char *s);

/* The message-structure cache builder passed in store_opts.cache_fn (core/mime). */
extern store_cache_fn ctl_cache_fn;

/* ------------------------------------------------------------------ commands */
#define CTL_DECL(fn) int fn(ctl_t *c, int argc, char **argv)
CTL_DECL(cmd_tenant_add);
CTL_DECL(cmd_tenant_list);
CTL_DECL(cmd_tenant_show);
CTL_DECL(cmd_tenant_set);
CTL_DECL(cmd_tenant_alias_domain);
CTL_DECL(cmd_tenant_del);
CTL_DECL(cmd_user_add);
CTL_DECL(cmd_user_del);
CTL_DECL(cmd_user_passwd);
CTL_DECL(cmd_user_list);
CTL_DECL(cmd_user_show);
CTL_DECL(cmd_user_set);
CTL_DECL(cmd_user_rename);
CTL_DECL(cmd_alias_add);
CTL_DECL(cmd_alias_del);
CTL_DECL(cmd_alias_list);
CTL_DECL(cmd_quota_show);
CTL_DECL(cmd_quota_set);
CTL_DECL(cmd_quota_report);
CTL_DECL(cmd_mailbox_list);
CTL_DECL(cmd_mailbox_create);
CTL_DECL(cmd_mailbox_delete);
CTL_DECL(cmd_mailbox_rename);
CTL_DECL(cmd_mailbox_expunge);
CTL_DECL(cmd_deliver);
CTL_DECL(cmd_import);
CTL_DECL(cmd_export);
CTL_DECL(cmd_backup);
CTL_DECL(cmd_restore);
CTL_DECL(cmd_check);
CTL_DECL(cmd_stats);
CTL_DECL(cmd_queue_list);
CTL_DECL(cmd_queue_show);
CTL_DECL(cmd_queue_delete);

#endif
