/*
 * petrel/errors.h - the error codes shared by libpetrel and the plugin ABI.
 *
 * Every Petrel function that can fail returns 0 or one of these negative
 * values. The values are part of the stable ABI: a code is never renumbered
 * and never reused for another meaning; new codes are added at the end.
 */
#ifndef PETREL_ERRORS_H
#define PETREL_ERRORS_H

enum petrel_err {
    PETREL_OK = 0,
    PETREL_EINVAL = -1001,       /* a malformed argument or value */
    PETREL_ENOMEM = -1002,       /* out of memory, or a bounded buffer is full */
    PETREL_ENOTFOUND = -1003,    /* no such tenant, user, mailbox, message */
    PETREL_EEXIST = -1004,       /* already exists */
    PETREL_EQUOTA = -1005,       /* the user's quota (bytes or messages) would be exceeded */
    PETREL_ETENANTQUOTA = -1006, /* the tenant's quota would be exceeded */
    PETREL_EIO = -1007,          /* storage or system error (logged with its cause) */
    PETREL_ECONFLICT = -1008,    /* retryable: the transaction must be run again */
    PETREL_EVERSION = -1009,     /* data written by a newer version (schema, ABI) */
    PETREL_ENOTSTORE = -1010,    /* the directory does not hold a Petrel store */
    PETREL_ECORRUPT = -1011,     /* stored data fails a consistency check */
    PETREL_ETOOBIG = -1012,      /* a size limit was exceeded */
    PETREL_EBUSY = -1013,        /* in use by someone else (lock held, server running) */
    PETREL_EPERM = -1014,        /* not permitted (suspended, protocol disabled, bad password) */
    PETREL_EAGAIN = -1015,       /* temporary failure: try again later (throttled) */
    PETREL_EPENDING = -1016,     /* not an error: the operation completes later */
    PETREL_ECLOSED = -1017,      /* the session or object is gone */
    PETREL_ENOTSUP = -1018,      /* not supported by this host or build */
    PETREL_EMODIFIED = -1019,    /* changed since the given modseq (CONDSTORE) */
    PETREL_ENEEDTLS = -1020,     /* refused without TLS (plaintext password) */
};

#endif
