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
#define SRV_DSN_ITEMS_MAX 100u /* DSN items (report blocks, queue items) of one message */
#define SRV_DSN_BOUNDARY_RANDOM 16 /* random bytes in a MIME boundary */
#define SRV_DSN_BOUNDARY_TRIES 8   /* draws before giving up (PETREL_EIO) */

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
 * The due recipients are deduplicated (one per action and user set) and
 * capped at SRV_DSN_ITEMS_MAX; a local return path gets one report for all,
 * a remote one a queue item each (a full queue drops them, logged).
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
 * Builds the RFC 3464 report about msg into out, one per-recipient field
 * block for each of the n items (n >= 1; same message, return path, envid,
 * ret): headers, text/plain notification, message/delivery-status, then
 * text/rfc822-headers (all delivered, RET=HDRS, or msg without a body) or
 * message/rfc822; message/global-headers and message/global when the
 * returned bytes have 8-bit. Non-ASCII addresses in the delivery-status
 * use RFC 6533's utf-8 type and utf-8-addr-xtext. PETREL_ENOMEM: out's cap.
 */
int srv_dsn_report(const store_dsn_t *items, size_t n, const void *msg, size_t len, buf_t *out);

/* Random bytes (getrandom by default; tests may replace it): 0 or PETREL_EIO. */
typedef int (*srv_dsn_rand_fn)(void *buf, size_t n);
extern srv_dsn_rand_fn srv_dsn_rand;

/*
 * A MIME boundary "=_petrel_dsn_" + 32 hex digits of srv_dsn_rand into out
 * (cap >= 46), drawn again (up to SRV_DSN_BOUNDARY_TRIES times) while it
 * occurs in content (may be NULL). 0, PETREL_EINVAL (cap) or PETREL_EIO.
 */
int srv_dsn_boundary(const void *content, size_t len, char *out, size_t cap);

#endif
