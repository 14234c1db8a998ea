/*
 * host_dsn.h - delivery status notifications for host->w_dsn (ABI 1.1).
 *
 * w_dsn copies the plugin's struct petrel_dsn into a struct srv_dsn (owned by
 * the write's operation). On the writer thread, after the write's w_deliver
 * operations ran in the same transaction, srv_dsn_run decides per recipient
 * (RFC 3461 NOTIFY) and either delivers a multipart/report (RFC 3464) into
 * the INBOX of a local return path or queues the item in the store's
 * outbound queue (store_dsn_add) for the outbound work.
 */
#ifndef PETREL_SERVER_HOST_DSN_H
#define PETREL_SERVER_HOST_DSN_H

#include <stddef.h>
#include <stdint.h>

#include <petrel/plugin.h>

#include "store/store.h"
#include "util/buf.h"

#define SRV_DSN_RCPTS_MAX 10000 /* recipients of one w_dsn (the SMTP plugin's cap) */

struct srv_dsn_rcpt {
    char *rcpt;  /* owned */
    char *orcpt; /* owned, NULL when none */
    unsigned notify;
    uint64_t *users; /* owned */
    size_t nusers;
};

struct srv_dsn {
    char *return_path; /* owned */
    char *envid;       /* owned, NULL when none */
    int ret;
    int64_t arrival;
    char reporting_mta[STORE_DSN_TEXT_MAX + 1];
    struct srv_dsn_rcpt *rcpts; /* owned */
    size_t nrcpts;
};

/*
 * Copies d (validated: strings within the store's limits, at most
 * SRV_DSN_RCPTS_MAX recipients). PETREL_EINVAL or PETREL_ENOMEM.
 */
int srv_dsn_copy(const struct petrel_dsn *d, const char *reporting_mta, struct srv_dsn **out_r);
void srv_dsn_free(struct srv_dsn **d);

/*
 * How the write's deliveries went for one user: *rc_r 0 (delivered) or its
 * error; *msg_r / *len_r the bytes delivered. PETREL_ENOTFOUND when no
 * delivery of the write had this user.
 */
typedef int (*srv_dsn_result_fn)(void *arg, uint64_t user, int *rc_r, const void **msg_r,
                                 size_t *len_r);

/*
 * Runs on the writer thread inside the write's transaction. accepted: some
 * user of the write got the message (only then does a failed recipient get
 * a "failed" DSN: otherwise the client was refused and bounces itself).
 * 0, or a store error (PETREL_ECONFLICT included: the batch runs again).
 */
int srv_dsn_run(store_txn_t *txn, const struct srv_dsn *d, int accepted, srv_dsn_result_fn fn,
                void *arg);

/*
 * 1 when srv_dsn_run would make at least one DSN (no transaction needed):
 * the common case, nothing due, then costs no nested transaction.
 */
int srv_dsn_due(const struct srv_dsn *d, int accepted, srv_dsn_result_fn fn, void *arg);

/*
 * Builds the RFC 3464 report of item (one recipient) about msg into out:
 * headers, text/plain notification, message/delivery-status, then
 * text/rfc822-headers (delivered, or RET=HDRS) or message/rfc822.
 */
int srv_dsn_report(const store_dsn_t *item, const void *msg, size_t len, buf_t *out);

#endif
