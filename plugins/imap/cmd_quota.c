/*
 * cmd_quota.c - QUOTA (RFC 9208): GETQUOTAROOT, GETQUOTA, SETQUOTA.
 *
 * Petrel has one quota root per user, named "" (every mailbox of the user
 * belongs to it), with the resources STORAGE (units of 1024 octets) and
 * MESSAGE, read with host->quota_get. A limit of 0 means unlimited: that
 * resource is left out, and with no limit at all the root does not exist
 * (GETQUOTAROOT lists no root, GETQUOTA "" is NO [NONEXISTENT]): RFC 9208's
 * grammar has no empty resource list. Usage is rounded up to whole KiB and
 * the limit down, so a client never sees room that is not there. The
 * tenant's shared quota is not shown (it is no root of the user's).
 *
 * Quotas are set by the administrator (petrelctl quota set): SETQUOTA is
 * refused with NO [NOPERM] and QUOTASET is not advertised.
 */
#include "imap_int.h"

#include <string.h>

#define QUOTA_KIB 1024u

struct quota_vals {
    uint64_t used_bytes, limit_bytes, used_msgs, limit_msgs;
};

/* 0 and the values, or -1 when a NO was sent. */
static int quota_read(struct imap_session *is, struct quota_vals *q)
{
    petrel_read *r = imap_host->read_begin(is->s);
    int rc =
        r ? imap_host->quota_get(r, &q->used_bytes, &q->limit_bytes, &q->used_msgs, &q->limit_msgs)
          : PETREL_EIO;
    imap_host->read_end(&r);
    if (rc) {
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_quota_failed rc=%d", rc);
        imap_reply(is, "NO", "[UNAVAILABLE] Cannot read the quota");
        return -1;
    }
    return 0;
}

static int quota_root_exists(const struct quota_vals *q)
{
    return q->limit_bytes != 0 || q->limit_msgs != 0;
}

/* `* QUOTA "" (STORAGE used limit MESSAGE used limit)`, limited resources only. */
static void quota_write(struct imap_session *is, const struct quota_vals *q)
{
    const char *sep = "";
    imap_host->writef(is->s, "* QUOTA \"\" (");
    if (q->limit_bytes) {
        uint64_t used = q->used_bytes / QUOTA_KIB + (q->used_bytes % QUOTA_KIB != 0);
        imap_host->writef(is->s, "STORAGE %llu %llu", (unsigned long long)used,
                          (unsigned long long)(q->limit_bytes / QUOTA_KIB));
        sep = " ";
    }
    if (q->limit_msgs)
        imap_host->writef(is->s, "%sMESSAGE %llu %llu", sep, (unsigned long long)q->used_msgs,
                          (unsigned long long)q->limit_msgs);
    imap_host->writef(is->s, ")\r\n");
}

/* GETQUOTAROOT mailbox */
void imap_cmd_getquotaroot(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    char name[IMAP_MAX_NAME * 2];
    if (p->nargs != 1 || !imap_arg_is_string(&p->args[0])) {
        imap_reply_bad(is, "GETQUOTAROOT mailbox");
        return;
    }
    if (imap_mailbox_arg(is, &p->args[0], name, sizeof(name))) return;
    struct petrel_mailbox_info mb;
    if (imap_mailbox_find(is, name, "[NONEXISTENT] No such mailbox", &mb)) return;
    struct quota_vals q;
    if (quota_read(is, &q)) return;
    imap_host->writef(is->s, "* QUOTAROOT ");
    imap_write_mailbox(is, name);
    imap_host->writef(is->s, "%s\r\n", quota_root_exists(&q) ? " \"\"" : "");
    if (quota_root_exists(&q)) quota_write(is, &q);
    imap_reply(is, "OK", "GETQUOTAROOT completed");
}

/* GETQUOTA root: only "" exists (when a limit is set). */
void imap_cmd_getquota(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    if (p->nargs != 1 || !imap_arg_is_string(&p->args[0])) {
        imap_reply_bad(is, "GETQUOTA root");
        return;
    }
    struct quota_vals q;
    if (p->args[0].len != 0) {
        imap_reply(is, "NO", "[NONEXISTENT] No such quota root");
        return;
    }
    if (quota_read(is, &q)) return;
    if (!quota_root_exists(&q)) {
        imap_reply(is, "NO", "[NONEXISTENT] No quota is set");
        return;
    }
    quota_write(is, &q);
    imap_reply(is, "OK", "GETQUOTA completed");
}

/* SETQUOTA root (resource limit ...): the administrator sets quotas, not the user. */
void imap_cmd_setquota(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    if (p->nargs < 2 || !imap_arg_is_string(&p->args[0]) || p->args[1].type != IMAP_ARG_LIST ||
        p->args[1].end != p->nargs) {
        imap_reply_bad(is, "SETQUOTA root (resource limit ...)");
        return;
    }
    imap_reply(is, "NO", "[NOPERM] Quotas are set by the administrator");
}
