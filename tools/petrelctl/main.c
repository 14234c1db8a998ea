/*
 * main.c - petrelctl: global options, the command table, help, dispatch.
 *
 *   petrelctl [-d DATA_DIR] [-c FILE] [--json] [-v] COMMAND [ARGS...]
 *
 * The data directory is -d, else $PETREL_DATA, else the config file's
 * `data =` (-c FILE), else ./var. Exit codes: 0 success, 1 failure (one line
 * on stderr), 2 usage error (the command's usage on stderr); deliver uses
 * sysexits (see deliver.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "server/config.h"
#include "util/log.h"

#define SIZE_HELP "SIZE is bytes or a number with K, M, G or T (powers of 1024): 500M, 2G, 1.5T.\n"

static const ctl_cmd_t ctl_cmds[] = {
    {"tenant add", "tenant add DOMAIN [--protocols LIST] [--quota SIZE]",
     "Adds a tenant (a mail domain).\n"
     "  --protocols LIST  protocols its users may use: smtp,pop3,imap (default: all), or none\n"
     "  --quota SIZE      storage for all its users together (default: unlimited)\n" SIZE_HELP,
     cmd_tenant_add},
    {"tenant list", "tenant list",
     "Lists every tenant: domain, status, protocols, quota, usage, users.\n", cmd_tenant_list},
    {"tenant show", "tenant show DOMAIN",
     "Shows a tenant: status, protocols, quota and usage, alias domains, user count.\n",
     cmd_tenant_show},
    {"tenant set",
     "tenant set DOMAIN [--protocols LIST] [--enable P] [--disable P] [--quota SIZE|unlimited] "
     "[--suspend|--resume]",
     "Changes a tenant.\n"
     "  --protocols LIST  replaces the protocol set (smtp,pop3,imap | all | none)\n"
     "  --enable P        allows protocol(s) P (comma list) in addition\n"
     "  --disable P       withdraws protocol(s) P\n"
     "  --quota SIZE      the tenant's storage quota; 'unlimited' or 0 removes it.\n"
     "                    A quota below the current usage is allowed, with a warning.\n"
     "  --suspend         refuses logins and inbound mail for every user of the tenant\n"
     "  --resume          makes a suspended tenant active again\n" SIZE_HELP,
     cmd_tenant_set},
    {"tenant alias-domain", "tenant alias-domain add|del DOMAIN ALIAS_DOMAIN",
     "Adds or removes an alias domain: mail to user@ALIAS_DOMAIN reaches user@DOMAIN,\n"
     "and users may log in with either domain.\n",
     cmd_tenant_alias_domain},
    {"tenant del", "tenant del DOMAIN [--purge]",
     "Deletes a tenant. Refused while it has users or aliases, unless --purge,\n"
     "which deletes them all (mailboxes, messages) in the same transaction.\n",
     cmd_tenant_del},
    {"user add",
     "user add ADDRESS [--password-stdin | --password-hash HASH] [--quota SIZE] "
     "[--max-messages N]",
     "Adds a user (local@domain; the domain's tenant must exist) with an INBOX.\n"
     "  --password-stdin      reads the password from the first line of stdin\n"
     "  --password-hash HASH  stores an existing hash: $scrypt$, {SHA512-CRYPT}, $6$,\n"
     "                        $2y$, $2b$, $2a$ or {BLF-CRYPT} (re-hashed to scrypt at the\n"
     "                        next login)\n"
     "  With neither, the password is asked twice on the terminal. A password is never\n"
     "  accepted on the command line.\n"
     "  --quota SIZE          storage quota (default: unlimited)\n"
     "  --max-messages N      message count quota (default: unlimited)\n" SIZE_HELP,
     cmd_user_add},
    {"user del", "user del ADDRESS",
     "Deletes a user with every mailbox and message; frees their storage and quota.\n",
     cmd_user_del},
    {"user passwd", "user passwd ADDRESS [--password-stdin | --password-hash HASH]",
     "Sets a user's password (as for user add: stdin, a hash, or asked on the terminal).\n",
     cmd_user_passwd},
    {"user list", "user list [DOMAIN]",
     "Lists users (of DOMAIN, or all): address, status, quota used and limit, messages.\n",
     cmd_user_list},
    {"user show", "user show ADDRESS",
     "Shows a user: status, quota used/limit, message count, mailboxes, created, last login.\n",
     cmd_user_show},
    {"user set",
     "user set ADDRESS [--quota SIZE|unlimited] [--max-messages N|unlimited] "
     "[--suspend|--resume]",
     "Changes a user.\n"
     "  --quota SIZE        storage quota; 'unlimited' or 0 removes it (below usage: warning)\n"
     "  --max-messages N    message count quota; 'unlimited' or 0 removes it\n"
     "  --suspend           refuses the user's logins and inbound mail\n"
     "  --resume            makes a suspended user active again\n" SIZE_HELP,
     cmd_user_set},
    {"user rename", "user rename OLD NEW",
     "Renames a user (a new address in the same or another existing tenant); mail stays.\n",
     cmd_user_rename},
    {"alias add", "alias add ADDRESS TARGET[,TARGET...]",
     "Adds targets to an alias (created when absent). ADDRESS is local@domain or @domain\n"
     "(the domain's catch-all). Targets are addresses, local or remote.\n",
     cmd_alias_add},
    {"alias del", "alias del ADDRESS", "Deletes an alias with all its targets.\n", cmd_alias_del},
    {"alias list", "alias list [DOMAIN]", "Lists aliases (of DOMAIN, or all) and their targets.\n",
     cmd_alias_list},
    {"quota show", "quota show ADDRESS|DOMAIN",
     "Shows storage and message usage against the limits of a user or a tenant.\n", cmd_quota_show},
    {"quota set", "quota set ADDRESS|DOMAIN SIZE|unlimited [--messages N|unlimited]",
     "Sets the storage quota of a user or a tenant; --messages sets a user's message\n"
     "count quota. A quota below the current usage is allowed, with a warning.\n" SIZE_HELP,
     cmd_quota_set},
    {"quota report", "quota report [DOMAIN]",
     "Lists users and tenants using 80% or more of a limit, with the level reached\n"
     "(80, 90 or 100).\n",
     cmd_quota_report},
    {"mailbox list", "mailbox list ADDRESS",
     "Lists a user's mailboxes: name, messages, unseen, size, special-use.\n", cmd_mailbox_list},
    {"mailbox create", "mailbox create ADDRESS NAME [--special-use USE]",
     "Creates a mailbox (and missing parents; hierarchy separator '/').\n"
     "  --special-use USE   one of sent, drafts, trash, junk, archive, all, flagged\n",
     cmd_mailbox_create},
    {"mailbox delete", "mailbox delete ADDRESS NAME",
     "Deletes a mailbox and its messages (its children stay). INBOX cannot be deleted.\n",
     cmd_mailbox_delete},
    {"mailbox rename", "mailbox rename ADDRESS NAME NEW",
     "Renames a mailbox with its children. Renaming INBOX moves its messages to NEW.\n",
     cmd_mailbox_rename},
    {"mailbox expunge", "mailbox expunge ADDRESS NAME [--before DATE] [--seen]",
     "Removes messages from a mailbox. Without options: the messages flagged \\Deleted.\n"
     "With options: the messages matching all of them.\n"
     "  --before DATE   received (internal date) before DATE: YYYY-MM-DD,\n"
     "                  YYYY-MM-DDTHH:MM[:SS][Z] (UTC), @UNIXTIME, or an age: 30d, 12h, 2w\n"
     "  --seen          flagged \\Seen\n",
     cmd_mailbox_expunge},
    {"deliver", "deliver ADDRESS [--mailbox NAME] [--flags FLAGS] < MESSAGE",
     "Delivers the message on stdin (an MDA for another MTA): resolves aliases and +tags,\n"
     "enforces quota; the message is on disk when it exits 0.\n"
     "  --mailbox NAME  target mailbox (default INBOX; INBOX when NAME does not exist)\n"
     "  --flags FLAGS   e.g. '\\Seen,\\Flagged' or 'seen flagged $Label1' (keywords allowed)\n"
     "Exit codes (sysexits): 0 delivered, 64 usage, 65 empty or malformed message,\n"
     "67 unknown user, 73 over quota or too big, 75 temporary failure (suspended, store).\n",
     cmd_deliver},
    {"import", "import ADDRESS mbox FILE | maildir DIR [--mailbox NAME]",
     "Imports messages, keeping flags and internal dates, all in one transaction.\n"
     "  mbox FILE    an mbox (mboxrd quoting); into NAME (default INBOX). Flags from\n"
     "               petrelctl's From_ line, else Status:/X-Status: headers.\n"
     "  maildir DIR  a Maildir++ tree: DIR itself -> INBOX (or NAME), .Sent -> Sent,\n"
     "               .Lists.foo -> Lists/foo (under NAME when given); flags from\n"
     "               the :2,FLAGS suffix, keywords from dovecot-keywords, date from mtime\n"
     "  --mailbox NAME  the target mailbox (created when missing)\n"
     "A progress line is shown on stderr when it is a terminal.\n",
     cmd_import},
    {"export", "export ADDRESS [--mailbox NAME] mbox FILE | maildir DIR",
     "Exports messages with flags and internal dates; importing the result gives back\n"
     "the same messages byte for byte.\n"
     "  mbox FILE    one mailbox (NAME, default INBOX) as mboxrd; FILE must not exist\n"
     "               ('-' writes to stdout)\n"
     "  maildir DIR  every mailbox (or NAME only) as a Maildir++ tree; DIR must not\n"
     "               exist or be empty\n",
     cmd_export},
    {"backup", "backup DIR",
     "Writes a consistent, compacted copy of the store into DIR (a new or empty\n"
     "directory) while petreld keeps running. DIR is itself a data directory:\n"
     "petrelctl -d DIR check works on it.\n",
     cmd_backup},
    {"restore", "restore DIR",
     "Replaces the store with the backup in DIR. Refused while petreld runs on the\n"
     "data directory (it holds an flock on DATA/petreld.lock).\n",
     cmd_restore},
    {"check", "check [--repair]",
     "Verifies every store invariant (counters, modseqs, refcounts, quota usage).\n"
     "Exit 0 when consistent, 1 when problems remain.\n"
     "  --repair   recomputes what can be recomputed (counters, quota usage, refcounts,\n"
     "             the modseq index) in one transaction, then checks again\n",
     cmd_check},
    {"stats", "stats",
     "Shows counts (tenants, users, mailboxes, messages, blobs), bytes, the store file\n"
     "size, map size, used and free pages, and LMDB readers.\n",
     cmd_stats},
    {"queue list", "queue list",
     "Lists the outbound work items: delivery status notifications (RFC 3464) waiting\n"
     "for a remote return path. Nothing sends them yet (no outbound relay).\n",
     cmd_queue_list},
    {"queue show", "queue show ID",
     "Shows one queue item: action, status, return path, final recipient, ORCPT, ENVID,\n"
     "RET, arrival date, reporting MTA, diagnostic and the size of the message.\n",
     cmd_queue_show},
    {"queue delete", "queue delete ID",
     "Deletes a queue item (and its reference to the message's content).\n",
     cmd_queue_delete},
};
#define CTL_NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void ctl_global_usage(FILE *f)
{
    fprintf(f,
            "usage: petrelctl [-d DATA_DIR] [-c CONFIG] [--json] [-v] COMMAND [ARGS...]\n\n"
            "Manages a Petrel mail server's tenants, users, aliases, quotas and mailboxes;\n"
            "safe to use while petreld runs (every change is one transaction).\n\n"
            "  -d DATA_DIR  data directory (else $PETREL_DATA, else CONFIG's data =, else ./var)\n"
            "  -c CONFIG    petreld's configuration file (for its data directory)\n"
            "  --json       machine-readable output for listings and show commands\n"
            "  -v           log the store's informational messages on stderr\n\n"
            "Commands:\n");
    for (size_t i = 0; i < CTL_NCMDS; i++)
        fprintf(f, "  %s\n", ctl_cmds[i].usage);
    fprintf(f, "  help [COMMAND]\n\n"
               "petrelctl COMMAND --help describes a command's options.\n"
               "Exit codes: 0 success, 1 failure, 2 usage error (deliver: sysexits).\n");
}

/* The command named by argv[0] (and argv[1]); *nwords_r: how many words its name has. */
static const ctl_cmd_t *ctl_cmd_find(int argc, char **argv, int *nwords_r)
{
    char name[128];
    if (argc >= 2) {
        snprintf(name, sizeof(name), "%s %s", argv[0], argv[1]);
        for (size_t i = 0; i < CTL_NCMDS; i++)
            if (strcmp(ctl_cmds[i].name, name) == 0) {
                *nwords_r = 2;
                return &ctl_cmds[i];
            }
    }
    for (size_t i = 0; i < CTL_NCMDS; i++)
        if (strcmp(ctl_cmds[i].name, argv[0]) == 0) {
            *nwords_r = 1;
            return &ctl_cmds[i];
        }
    return NULL;
}

/* Prints the commands of group (e.g. "tenant") to f (NULL: only counts); 0 when there are none. */
static int ctl_group_usage(FILE *f, const char *group)
{
    size_t n = strlen(group);
    int found = 0;
    for (size_t i = 0; i < CTL_NCMDS; i++)
        if (strncmp(ctl_cmds[i].name, group, n) == 0 && ctl_cmds[i].name[n] == ' ') {
            if (f && !found) fprintf(f, "usage:\n");
            if (f) fprintf(f, "  petrelctl %s\n", ctl_cmds[i].usage);
            found = 1;
        }
    return found;
}

/* argv[0] names no command: a group's usage ("tenant", "tenant --help") or an error. */
static int ctl_unknown(int argc, char **argv)
{
    int help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (ctl_group_usage(NULL, argv[0])) {
        if (help) return ctl_group_usage(stdout, argv[0]), CTL_OK;
        if (argc >= 2) fprintf(stderr, "petrelctl: unknown command '%s %s'\n", argv[0], argv[1]);
        ctl_group_usage(stderr, argv[0]);
        return CTL_USAGE;
    }
    fprintf(stderr, "petrelctl: unknown command '%s'\n", argv[0]);
    ctl_global_usage(stderr);
    return CTL_USAGE;
}

static int ctl_help_cmd(int argc, char **argv)
{
    int nw;
    const ctl_cmd_t *cmd;
    if (argc == 0) {
        ctl_global_usage(stdout);
        return CTL_OK;
    }
    cmd = ctl_cmd_find(argc, argv, &nw);
    if (cmd && (nw == 2 || argc == 1 || !ctl_group_usage(stdout, argv[0]))) return ctl_help(cmd);
    if (ctl_group_usage(stdout, argv[0])) return CTL_OK;
    fprintf(stderr, "petrelctl: unknown command '%s'\n", argv[0]);
    ctl_global_usage(stderr);
    return CTL_USAGE;
}

/* Removes every "--json" before a "--" from argv; returns 1 when there was one. */
static int ctl_take_json(int *argc, char **argv)
{
    int json = 0, j = 0;
    int dashdash = 0;
    for (int i = 0; i < *argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0) dashdash = 1;
        if (!dashdash && strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        argv[j++] = argv[i];
    }
    *argc = j;
    return json;
}

/*
 * The `data =` of petreld's configuration file (only that key is read: the
 * file's full check is petreld --check-config's job). Global keys come before
 * the first [section]; '#' at the start or after whitespace begins a comment.
 * Without the key, petreld's default /var/lib/petrel.
 */
static int ctl_config_data(const char *path, char **data_r)
{
    char line[SRV_CONFIG_LINE_MAX + 2];
    const char *value = "/var/lib/petrel";
    unsigned lineno = 0;
    FILE *f = fopen(path, "re");
    if (!f) return out_fail("%s: cannot open: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *e;
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        for (e = p; *e; e++)
            if (*e == '#' && (e == p || e[-1] == ' ' || e[-1] == '\t')) {
                *e = '\0';
                break;
            }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '[') break;
        if (strncmp(p, "data", 4) != 0 ||
            (p[4] != ' ' && p[4] != '\t' && p[4] != '=' && p[4] != '\0'))
            continue;
        p += 4;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p++ != '=') {
            fclose(f);
            return out_fail("%s:%u: expected 'data = DIR'", path, lineno);
        }
        while (*p == ' ' || *p == '\t')
            p++;
        for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
            e[-1] = '\0';
        if (!*p) {
            fclose(f);
            return out_fail("%s:%u: empty data directory", path, lineno);
        }
        *data_r = strdup(p);
        fclose(f);
        return *data_r ? 0 : out_fail("out of memory");
    }
    fclose(f);
    *data_r = strdup(value);
    return *data_r ? 0 : out_fail("out of memory");
}

static int ctl_data_dir(const char *opt_d, const char *opt_c, char **owned_r, const char **dir_r)
{
    const char *env = getenv("PETREL_DATA");
    *owned_r = NULL;
    if (opt_d) {
        *dir_r = opt_d;
    } else if (env && *env) {
        *dir_r = env;
    } else if (opt_c) {
        if (ctl_config_data(opt_c, owned_r)) return CTL_FAIL;
        *dir_r = *owned_r;
    } else {
        *dir_r = "./var";
    }
    return 0;
}

int main(int argc, char **argv)
{
    ctl_t c = {0};
    const char *opt_d = NULL, *opt_c = NULL;
    char *owned = NULL;
    int i = 1, nw = 0, rc;

    argc--;
    argv++;
    c.json = ctl_take_json(&argc, argv);
    argc++;
    argv--;
    log_set_level(LOG_LVL_WARN);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            *(argv[i][1] == 'd' ? &opt_d : &opt_c) = argv[i + 1];
            i++;
        } else if (strcmp(argv[i], "-v") == 0) {
            log_set_level(LOG_LVL_DEBUG);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            ctl_global_usage(stdout);
            return CTL_OK;
        } else {
            fprintf(stderr, "petrelctl: unknown or incomplete option '%s'\n", argv[i]);
            ctl_global_usage(stderr);
            return CTL_USAGE;
        }
    }
    if (i >= argc) {
        ctl_global_usage(stderr);
        return CTL_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) return ctl_help_cmd(argc - i - 1, argv + i + 1);
    c.cmd = ctl_cmd_find(argc - i, argv + i, &nw);
    if (!c.cmd) return ctl_unknown(argc - i, argv + i);
    if (ctl_data_dir(opt_d, opt_c, &owned, &c.data_dir)) return CTL_FAIL;
    rc = c.cmd->fn(&c, argc - i - nw, argv + i + nw);
    store_close(&c.st);
    free(owned);
    return rc;
}
