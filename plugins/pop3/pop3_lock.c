/*
 * pop3_lock.c - the maildrop lock: one POP3 session per user in this
 * process (RFC 1939 section 8: the server acquires an exclusive-access lock
 * on the maildrop; RFC 2449 [IN-USE] when it cannot).
 *
 * A plugin-global hash set of lower-cased addresses under one mutex:
 * sessions run on several event-loop threads. Its size is bounded by the
 * number of open POP3 sessions (each holds at most one entry).
 * Known limit: the lock is per process; petrelctl or IMAP sessions are not
 * excluded (the POP3 view copes with their changes, see pop3_retr.c).
 */
#include "pop3_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define POP3_LOCK_BUCKETS 256

struct pop3_lock {
    struct pop3_lock *next;
    char user[];
};

static pthread_mutex_t pop3_lock_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pop3_lock *pop3_locks[POP3_LOCK_BUCKETS];

static unsigned pop3_lock_hash(const char *user)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % POP3_LOCK_BUCKETS;
}

int pop3_lock_acquire(const char *user)
{
    size_t n = strlen(user);
    struct pop3_lock *nl = malloc(sizeof(*nl) + n + 1);
    if (!nl) return PETREL_ENOMEM;
    memcpy(nl->user, user, n + 1);
    unsigned b = pop3_lock_hash(user);
    pthread_mutex_lock(&pop3_lock_mu);
    for (struct pop3_lock *e = pop3_locks[b]; e; e = e->next) {
        if (strcmp(e->user, user) == 0) {
            pthread_mutex_unlock(&pop3_lock_mu);
            free(nl);
            return PETREL_EBUSY;
        }
    }
    nl->next = pop3_locks[b];
    pop3_locks[b] = nl;
    pthread_mutex_unlock(&pop3_lock_mu);
    return 0;
}

void pop3_lock_release(const char *user)
{
    struct pop3_lock *found = NULL;
    unsigned b = pop3_lock_hash(user);
    pthread_mutex_lock(&pop3_lock_mu);
    for (struct pop3_lock **pp = &pop3_locks[b]; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->user, user) == 0) {
            found = *pp;
            *pp = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&pop3_lock_mu);
    free(found);
}
