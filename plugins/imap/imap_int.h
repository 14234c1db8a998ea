/*
 * imap_int.h - the IMAP plugin's internal declarations (one session struct,
 * the command table, helpers). Only the files of plugins/imap include it.
 */
#ifndef IMAP_INT_H
#define IMAP_INT_H

#include <petrel/plugin.h>

#include <stddef.h>
#include <stdint.h>

#include "parser.h"

#define IMAP_MAX_BAD_COMMANDS 20   /* BAD replies in a row before BYE */
#define IMAP_MAX_BAD_PREAUTH 5     /* the same before login (tighter) */
#define IMAP_MAX_AUTH_FAILURES 3   /* failed logins before BYE */
#define IMAP_MAX_NAME 1024         /* mailbox name bytes (UTF-8 or modified UTF-7) */
#define IMAP_MAX_LINE 65536        /* line limit asked of the host */
#define IMAP_PREAUTH_TEXT_MAX 8192 /* command text before login */
#define IMAP_PREAUTH_LITERAL_MAX 1024
#define IMAP_MAX_MAILBOXES 100000 /* LIST collects at most this many names */
#define IMAP_SASL_CHALLENGE_MAX 512
#define IMAP_MAX_KEYWORDS 32 /* keywords in one APPEND/STORE */
#define IMAP_MAX_KEYWORD_LEN 100
/* MULTIAPPEND (RFC 3502): messages in one APPEND, and their literal bytes together (at
 * least max_message_size, so that a single APPEND of the largest message still fits). */
#define IMAP_MULTIAPPEND_MAX_MESSAGES 100
#define IMAP_MULTIAPPEND_MAX_BYTES (64ull << 20)

extern const struct petrel_host *imap_host;

enum imap_state {
    IMAP_STATE_NOAUTH = 0,
    IMAP_STATE_AUTH,
    IMAP_STATE_SELECTED,
    IMAP_STATE_LOGOUT,
};
#define IMAP_IN(st) (1u << (st))
#define IMAP_ANY_STATE                                                                             \
    (IMAP_IN(IMAP_STATE_NOAUTH) | IMAP_IN(IMAP_STATE_AUTH) | IMAP_IN(IMAP_STATE_SELECTED))
#define IMAP_LOGGED_IN (IMAP_IN(IMAP_STATE_AUTH) | IMAP_IN(IMAP_STATE_SELECTED))

/* What input the session expects now. */
enum imap_mode {
    IMAP_MODE_COMMAND = 0, /* command lines (and the literals inside them) */
    IMAP_MODE_SASL,        /* AUTHENTICATE continuation lines */
    IMAP_MODE_WAIT,        /* a login, a store write or a streamed response is in flight */
    IMAP_MODE_IDLE,        /* IDLE: changes are pushed until DONE */
};

/* What a pending store write belongs to (on_write_done dispatches on it). */
enum imap_pending {
    IMAP_PEND_NONE = 0,
    IMAP_PEND_SIMPLE,     /* CREATE/DELETE/RENAME/SUBSCRIBE/UNSUBSCRIBE: OK or NO */
    IMAP_PEND_SELECT,     /* clearing \Recent after SELECT */
    IMAP_PEND_APPEND,     /* APPEND: OK [APPENDUID] after the commit */
    IMAP_PEND_STORE,      /* STORE flag changes, then the FETCH responses */
    IMAP_PEND_EXPUNGE,    /* EXPUNGE / UID EXPUNGE / CLOSE */
    IMAP_PEND_COPY,       /* COPY / MOVE: COPYUID after the commit */
    IMAP_PEND_FETCH_SEEN, /* FETCH BODY[] setting \Seen before the data is sent */
};

/*
 * uidmap.c - the selected mailbox's UID map as runs of consecutive UIDs: sequence
 * number n (1-based) is the n-th UID in ascending order. A dense mailbox costs one
 * run (12 bytes) instead of 4 bytes per message. Lookups are O(log runs), edits
 * O(runs). The map owns its runs array; imap_uidmap_clear frees it.
 */
struct imap_uidrun {
    uint32_t first; /* the run's lowest UID */
    uint32_t count; /* UIDs first .. first + count - 1, count >= 1 */
    uint32_t start; /* messages in the runs before this one (its first seq - 1) */
};
struct imap_uidmap {
    struct imap_uidrun *runs; /* ascending, never adjacent (a gap between two runs) */
    uint32_t nruns, cap;
    uint32_t count; /* messages in the map */
};
/* Iteration in ascending order: imap_uidmap_it_init(&it, m, seq), then
 * while (imap_uidmap_it_next(&it, &seq, &uid)) ...; the map must not change meanwhile. */
struct imap_uidmap_it {
    const struct imap_uidmap *m;
    uint32_t run, off;
};
/* Replaces m's content by the n ascending UIDs of uids (the caller keeps the array).
 * 0, PETREL_EINVAL (not strictly ascending, or a 0 UID: m left empty) or PETREL_ENOMEM. */
int imap_uidmap_build(struct imap_uidmap *m, const uint32_t *uids, uint32_t n);
/* Frees the runs; m is then an empty map. */
void imap_uidmap_clear(struct imap_uidmap *m);
uint32_t imap_uidmap_count(const struct imap_uidmap *m);
/* The UID of sequence number seq (1..count), 0 when out of range. */
uint32_t imap_uidmap_uid_at(const struct imap_uidmap *m, uint32_t seq);
/* The sequence number of uid, 0 when it is not in the map. */
uint32_t imap_uidmap_seq_of(const struct imap_uidmap *m, uint32_t uid);
/* The sequence number of the first UID >= uid; count + 1 when there is none. */
uint32_t imap_uidmap_lower_seq(const struct imap_uidmap *m, uint32_t uid);
/* The highest UID, 0 when the map is empty. */
uint32_t imap_uidmap_last(const struct imap_uidmap *m);
/* Adds uid after the last one (new mail). 0, PETREL_EINVAL (uid <= the last) or PETREL_ENOMEM. */
int imap_uidmap_append(struct imap_uidmap *m, uint32_t uid);
/* Removes sequence number seq (EXPUNGE); the later ones move down by one.
 * 0, PETREL_ENOTFOUND (out of range) or PETREL_ENOMEM (a run split: m unchanged). */
int imap_uidmap_remove(struct imap_uidmap *m, uint32_t seq);
/* Positions it before sequence number seq (1-based; past the end: nothing to iterate). */
void imap_uidmap_it_init(struct imap_uidmap_it *it, const struct imap_uidmap *m, uint32_t seq);
/* The next (seq, uid): 1, or 0 at the end. */
int imap_uidmap_it_next(struct imap_uidmap_it *it, uint32_t *seq_r, uint32_t *uid_r);

/* The selected mailbox: the session's view (sequence number n = the map's n-th UID). */
struct imap_selected {
    uint32_t id;
    uint32_t uidvalidity;
    uint64_t highestmodseq; /* what this session has reported */
    /* after a sync that reported expunges (expunge_ok): the highest modseq of the
     * mailbox's changes the client now knows all about (HIGHESTMODSEQ of EXPUNGE's OK) */
    uint64_t synced_modseq;
    int readonly;
    uint32_t first_recent_uid; /* \Recent for this session: uid >= this (SELECT time) */
    struct imap_uidmap map;    /* changed only at the legal points (RFC 3501 7.4.1) */
    /* flag changes this session made and already reported (uid, modseq): the
     * next sync does not echo them back */
    struct imap_own_change *own;
    uint32_t nown, owncap;
    /* SEARCHRES (RFC 5182): the UIDs of the last SEARCH RETURN (SAVE), ascending; "$" */
    uint32_t *saved;
    uint32_t nsaved;
    /* the mailbox's name at SELECT (malloc'd, NULL when out of memory) and the store's
     * uidnext and message count at the last sync that listed every UID (0: none yet).
     * While mailbox_get still finds that id with both numbers unchanged, no UID came
     * or went, so a sync skips the O(mailbox) listing (imap_selected_sync). */
    char *name;
    uint32_t sync_uidnext, sync_messages;
};

struct imap_own_change {
    uint32_t uid;
    uint64_t modseq;
};

struct imap_session;
/* stream.c: a response written in batches through the host's back-pressure. */
struct imap_stream_ops {
    /* Writes the next batch (a few KB at most): 0 when more follows, 1 when all is
     * written, -1 when the connection is closing (a failed write, or the step closed it
     * after a store error): no finish, no tagged reply. */
    int (*step)(struct imap_session *is, void *job);
    /* After the last batch (step returned 1): the tagged reply, or the command's next phase
     * (which may leave a store write pending or start streaming again). */
    void (*finish)(struct imap_session *is, void *job);
    void (*free)(void *job); /* releases the job (finish or not) */
};
struct imap_stream {
    const struct imap_stream_ops *ops; /* NULL: nothing is streaming */
    void *job;                         /* owned by the stream until ops->free */
    int paused;                        /* input paused by the stream */
};

struct imap_session {
    petrel_session *s;
    enum imap_state state;
    enum imap_mode mode;
    struct imap_parser *p;
    uint64_t max_message_size;
    unsigned bad_commands;
    unsigned auth_failures;
    int rev2;      /* ENABLE IMAP4rev2 seen: UTF-8 names, ESEARCH, no RECENT (RFC 9051) */
    int condstore; /* CONDSTORE enabled (RFC 7162 3.1): MODSEQ in FETCH responses */
    int qresync;   /* ENABLE QRESYNC seen (RFC 7162 3.2): VANISHED instead of EXPUNGE */
    enum imap_pending pending;
    struct imap_selected sel;
    char sasl_mech[16];
    uint32_t append_mailbox, append_uidvalidity;
    uint32_t append_count;     /* messages of the pending (MULTI)APPEND: write ops 0..n-1 */
    struct imap_fetch *fetch;  /* a FETCH being streamed (on_writable resumes it) */
    struct imap_store *store;  /* a STORE waiting for its commit */
    struct imap_copy *copy;    /* a COPY/MOVE waiting for its commit */
    struct imap_stream stream; /* a large response being written (stream.c) */
    int utf8_accept; /* ENABLE UTF8=ACCEPT seen (RFC 6855/9755): UTF-8 names and strings */
};

struct imap_flags {
    uint32_t flags;
    const char *kw[IMAP_MAX_KEYWORDS]; /* point into the parser's buffer */
    size_t nkw;
};

typedef void (*imap_cmd_fn)(struct imap_session *is);

struct imap_cmd {
    const char *name;
    unsigned states; /* IMAP_IN(...) bits */
    imap_cmd_fn run;
};

/* imap.c */
void imap_state_enter(struct imap_session *is, enum imap_state st);
const char *imap_state_name(enum imap_state st);
/* Ends the current command: parser reset, input mode back to commands. */
void imap_command_end(struct imap_session *is);

/* cmd.c */
const struct imap_cmd *imap_cmd_find(const char *name);
void imap_cmd_dispatch(struct imap_session *is);
/* Tagged replies for the current command (tag from the parser). */
void imap_reply(struct imap_session *is, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void imap_reply_bad(struct imap_session *is, const char *text);

/* Turns CONDSTORE on for the session (ENABLE, SELECT (CONDSTORE), a MODSEQ item ...). */
void imap_condstore_enable(struct imap_session *is);

/* cmd_any.c */
void imap_cmd_capability(struct imap_session *is);
void imap_cmd_noop(struct imap_session *is);
void imap_cmd_logout(struct imap_session *is);
void imap_cmd_id(struct imap_session *is);
void imap_cmd_enable(struct imap_session *is);
void imap_write_capability(struct imap_session *is);

/* cmd_auth.c */
void imap_cmd_starttls(struct imap_session *is);
void imap_cmd_login(struct imap_session *is);
void imap_cmd_authenticate(struct imap_session *is);
void imap_sasl_line(struct imap_session *is, const char *line, size_t len);
void imap_auth_done(struct imap_session *is, int rc);

/* cmd_mailbox.c */
void imap_cmd_create(struct imap_session *is);
void imap_cmd_delete(struct imap_session *is);
void imap_cmd_rename(struct imap_session *is);
void imap_cmd_subscribe(struct imap_session *is);
void imap_cmd_unsubscribe(struct imap_session *is);
void imap_cmd_status(struct imap_session *is);
void imap_cmd_namespace(struct imap_session *is);
/* Messages with uid >= first_recent_uid (\Recent, IMAP4rev1). */
uint32_t imap_recent_count(petrel_read *r, const struct petrel_mailbox_info *mb);
/* STATUS items are args[first, end): 0 when all are known (-1 otherwise; no reply sent). */
int imap_status_items_check(struct imap_session *is, uint32_t first, uint32_t end);
/* Writes "* STATUS name (items)" for mb; r is the snapshot mb was read in. */
void imap_status_write(struct imap_session *is, petrel_read *r,
                       const struct petrel_mailbox_info *mb, uint32_t first, uint32_t end);
void imap_simple_write_done(struct imap_session *is, petrel_write *w, int rc);
/* Converts a client mailbox name (arg) to the store's UTF-8 name. 0 or -1 (reply sent). */
int imap_mailbox_arg(struct imap_session *is, const struct imap_arg *a, char *out, size_t cap);
/* Looks the store name up in a read of its own: 0, or -1 after answering NO with the
 * text missing (e.g. "[TRYCREATE] No such mailbox") or [UNAVAILABLE]. */
/* The selected mailbox's expunge history is complete only for modseqs >= this
 * (ABI 1.2 vanished_floor); UINT64_MAX when the mailbox is gone. *uidnext_r (may
 * be NULL): its UIDNEXT, UINT32_MAX when gone. By the name kept at SELECT, or a
 * walk of the user's mailboxes when it was renamed. */
uint64_t imap_vanished_floor(struct imap_session *is, petrel_read *r, uint32_t *uidnext_r);
/* m's vanished_floor; 0 from a 1.1 host, whose struct ends before it (it never drops history). */
uint64_t imap_floor_of(const struct petrel_mailbox_info *m);
int imap_mailbox_find(struct imap_session *is, const char *name, const char *missing,
                      struct petrel_mailbox_info *mb_r);

/* cmd_list.c */
void imap_cmd_list(struct imap_session *is);
void imap_cmd_lsub(struct imap_session *is);

/* cmd_list_args.c: the LIST-EXTENDED syntax (RFC 5258, RFC 5819). */
#define IMAP_LIST_MAX_PATTERNS 16 /* patterns in one LIST */
#define IMAP_LIST_MAX_WILDCARDS 16
#define LIST_SEL_SUBSCRIBED 1u
#define LIST_SEL_REMOTE 2u /* accepted: there are no remote mailboxes */
#define LIST_SEL_RECURSIVE 4u
#define LIST_SEL_SPECIALUSE 8u
#define LIST_RET_SUBSCRIBED 1u
struct list_req {
    unsigned sel, ret;                      /* LIST_SEL_*, LIST_RET_* */
    uint32_t st_first, st_end;              /* STATUS item args (equal when none) */
    int root;                               /* LIST "" "": the delimiter reply */
    char *patterns[IMAP_LIST_MAX_PATTERNS]; /* reference + pattern in UTF-8 (malloc'd) */
    size_t npatterns; /* patterns that can match something (others are left out) */
};
/* Parses the LIST arguments into rq. 0, or -1 when a reply (BAD/NO) was sent.
 * On 0 the caller frees rq with imap_list_req_free. */
int imap_list_args(struct imap_session *is, struct list_req *rq);
void imap_list_req_free(struct list_req *rq);
/* The reference + pattern in UTF-8; -1 when it cannot match anything. */
int imap_list_pattern(struct imap_session *is, const struct imap_arg *ref,
                      const struct imap_arg *pat, char *out, size_t cap);

/* cmd_select.c */
void imap_cmd_select(struct imap_session *is);
void imap_cmd_examine(struct imap_session *is);
void imap_cmd_close(struct imap_session *is);
void imap_cmd_unselect(struct imap_session *is);
void imap_cmd_check(struct imap_session *is);
void imap_select_write_done(struct imap_session *is, petrel_write *w, int rc);
void imap_selected_clear(struct imap_session *is);
/*
 * Brings the session's view of the selected mailbox up to date and sends
 * EXPUNGE (VANISHED with QRESYNC) / EXISTS (+ RECENT in IMAP4rev1) / FETCH FLAGS;
 * after a full sync sel.synced_modseq is set. expunge_ok = 0 during FETCH/STORE/SEARCH
 * (RFC 3501 7.4.1): then expunges are held back for a later legal point.
 */
void imap_selected_sync(struct imap_session *is, int expunge_ok);
/* Records the flag changes of a committed write (ops 0..n-1 on uids[k], ascending) as the
 * session's own; the next imap_selected_sync skips them and forgets the list. */
void imap_selected_own(struct imap_session *is, petrel_write *w, const uint32_t *uids, uint32_t n);
/* A FETCH response just sent the FLAGS of uid at modseq: the next sync does not repeat them
 * (only changes it would report, modseq > the session's, are remembered). */
void imap_selected_reported(struct imap_session *is, uint32_t uid, uint64_t modseq);

/* flags.c: flags of args [first, end) (list members); 0 or -1 (bad flag). */
int imap_flags_parse(struct imap_session *is, uint32_t first, uint32_t end, struct imap_flags *f);

/* cmd_append.c */
void imap_cmd_append(struct imap_session *is);
void imap_append_write_done(struct imap_session *is, petrel_write *w, int rc);
/* 1 when the host can make a write all-or-nothing (w_atomic): MULTIAPPEND is offered. */
int imap_multiappend_ok(void);
int imap_date_time_parse(const char *s, size_t n, int64_t *t_r);

/* cmd_quota.c: QUOTA (RFC 9208), one root "" per user */
void imap_cmd_getquotaroot(struct imap_session *is);
void imap_cmd_getquota(struct imap_session *is);
void imap_cmd_setquota(struct imap_session *is);

/* seqset.c */
/* The sequence set s[0..len) parsed into a malloc'd array (free it; '*' stays
 * IMAP_SEQ_STAR). 0; -1 bad syntax; -2 no memory. */
int imap_set_parse_alloc(const char *s, size_t len, struct imap_range **r_r, size_t *n_r);
/* r's bounds with '*' as star, lo <= hi (a range may be written high:low). */
void imap_range_bounds(const struct imap_range *r, uint32_t star, uint32_t *lo_r, uint32_t *hi_r);
/* Sorts r[0..n) and merges overlapping or adjacent ranges in place; the new count. */
size_t imap_ranges_merge(struct imap_range *r, size_t n);
/* seqset.c: the set argument a as sorted, merged, inclusive index ranges
 * (malloc'd, free it). "$" is the saved search result (SEARCHRES): its UIDs
 * still in the map. 0; -1 bad set or message number (reply BAD); -2 no memory. */
int imap_seqset_resolve(struct imap_session *is, const struct imap_arg *a, int uid_mode,
                        struct imap_range **ranges_r, size_t *n_r);

/* cmd_fetch.c */
void imap_cmd_fetch(struct imap_session *is);
void imap_fetch_start(struct imap_session *is, int uid_mode, uint32_t first_arg);
void imap_fetch_on_writable(struct imap_session *is);
void imap_fetch_seen_done(struct imap_session *is, petrel_write *w, int rc);
void imap_fetch_free(struct imap_session *is);

/* cmd_store.c: STORE, EXPUNGE, CLOSE's expunge, UID ... */
void imap_cmd_store(struct imap_session *is);
void imap_cmd_expunge(struct imap_session *is);
void imap_cmd_uid(struct imap_session *is);
/* Starts CLOSE's silent expunge; 1 when a write is pending. */
int imap_close_expunge(struct imap_session *is);
void imap_store_write_done(struct imap_session *is, petrel_write *w, int rc);
void imap_expunge_write_done(struct imap_session *is, petrel_write *w, int rc);
void imap_store_free(struct imap_session *is);

/* cmd_copy.c */
void imap_cmd_copy(struct imap_session *is);
void imap_cmd_move(struct imap_session *is);
void imap_uid_copy(struct imap_session *is, int move);
void imap_copy_write_done(struct imap_session *is, petrel_write *w, int rc);
void imap_copy_free(struct imap_session *is);

/* cmd_search.c */
void imap_cmd_search(struct imap_session *is);
void imap_search_start(struct imap_session *is, int uid_mode, uint32_t a0);
/* 1 when mailbox names go both ways in UTF-8 and quoted strings may hold UTF-8
 * (IMAP4rev2 or UTF8=ACCEPT enabled), 0 for modified UTF-7 (IMAP4rev1). */
static inline int imap_utf8_names(const struct imap_session *is)
{
    return is->rev2 || is->utf8_accept;
}

/* search_out.c: streams the numbers of a SEARCH response (stream.c). The line's
 * start is already written; hits (malloc'd, taken over) follow as " 1 2 3" (set = 0)
 * or as a set "1:3,7" (set = 1), then tail ("\r\n" included), then the tagged OK. */
void imap_search_out_start(struct imap_session *is, uint32_t *hits, uint32_t n, int set,
                           int uid_mode, const char *tail);

/* stream.c */
/* Takes job over and writes it: steps while the output has room, the rest from
 * imap_stream_on_writable with input paused and mode WAIT; then finish and free. A job
 * finished at once runs finish before this returns (the caller ends the command when the
 * mode is back to COMMAND, as the dispatcher does). */
void imap_stream_start(struct imap_session *is, const struct imap_stream_ops *ops, void *job);
void imap_stream_on_writable(struct imap_session *is);
/* Drops a stream without finishing it (session end). */
void imap_stream_free(struct imap_session *is);

/* setfmt.c (pure) */
#define IMAP_SETFMT_ELEM_MAX 24 /* ",4294967295:4294967295" and a NUL */
/* Ranges r[*pos..n) as a UID set "1:3,7" into buf (no NUL, no leading comma): whole
 * elements while cap leaves room for one more; advances *pos. The length written. */
size_t imap_set_format(const struct imap_range *r, size_t n, size_t *pos, char *buf, size_t cap);
/* Ascending UIDs uids[0..n) as merged ranges into out (room for n): their count. */
size_t imap_ranges_from_uids(const uint32_t *uids, size_t n, struct imap_range *out);

/* search_date.c: the calendar day (days since the epoch) of an RFC 5322 Date: value,
 * time and zone disregarded. 0, or -1 when it does not parse. */
int imap_rfc5322_day(const char *s, size_t n, int64_t *day_r);

/* cmd_idle.c */
void imap_cmd_idle(struct imap_session *is);
void imap_idle_line(struct imap_session *is, const char *line, size_t len);
void imap_idle_notify(struct imap_session *is);

/* cmd_qresync.c: QRESYNC (RFC 7162 3.2) */
#define IMAP_MAX_VANISHED 1000000u /* expunge records one VANISHED (EARLIER) collects */
/* A UID set of the client, as sorted, merged, inclusive UID ranges (not map indices). */
struct imap_uidset {
    struct imap_range *r;
    size_t n;
};
/* Parses a UID set argument ('*' = star; star_ok = 0 rejects it). 0, -1 bad, -2 no memory. */
int imap_uidset_parse(const char *s, size_t len, int star_ok, uint32_t star,
                      struct imap_uidset *u_r);
void imap_uidset_free(struct imap_uidset *u);
/*
 * A resync's pending output, collected under one read snapshot and written as a stream
 * (stream.c): "* VANISHED (EARLIER) set" lines (several when the set is long, RFC 7162
 * 3.2.10), then "* n FETCH (UID u FLAGS (..) MODSEQ (m))" of the changed messages, then
 * then(is, then_arg) carries the command on (its tagged reply). Memory: merged UID ranges
 * and 4 bytes per changed message, never the rendered text.
 */
struct imap_resync {
    struct imap_range *van; /* UIDs for VANISHED (EARLIER), ascending merged ranges */
    size_t nvan, vpos;
    uint32_t *changed; /* UIDs of changed messages, ascending */
    uint32_t nchanged, cpos;
    void (*then)(struct imap_session *is, uint32_t arg);
    uint32_t then_arg;
};
/* Collects into rs->van the UIDs of u expunged with a modseq > modseq, from the store's
 * expunge records (or the RFC's fallback past IMAP_MAX_VANISHED records). 0, or the
 * store's error / PETREL_ENOMEM (logged; rs unchanged). */
int imap_vanished_collect(struct imap_session *is, petrel_read *r, uint64_t modseq,
                          const struct imap_uidset *u, struct imap_resync *rs);
/* Takes rs (calloc'd, then set) over: streams it, then calls rs->then. */
void imap_resync_start(struct imap_session *is, struct imap_resync *rs);
void imap_resync_free(void *job);
/* SELECT/EXAMINE's (QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])) at args[i]
 * (the list after QRESYNC). 0, or -1 (BAD sent). */
struct imap_qresync_req {
    int on;
    uint32_t uidvalidity;
    uint64_t modseq;
    struct imap_uidset known; /* n == 0 and r == NULL: all UIDs */
};
int imap_qresync_parse(struct imap_session *is, uint32_t i, struct imap_qresync_req *q);
/* After SELECT's responses: what changed since q->modseq when the UIDVALIDITY matches,
 * collected under r (the SELECT's snapshot; uidnext the mailbox's: known-uids default to
 * 1:uidnext-1) into *rs_r (NULL when QRESYNC was not asked or does not apply). 0, or an
 * error (logged): the SELECT fails. */
int imap_qresync_collect(struct imap_session *is, petrel_read *r, const struct imap_qresync_req *q,
                         uint32_t uidnext, struct imap_resync **rs_r);

/* view.c */
/* Bytes [off, off + len) of a message view in one block: a pointer into the
 * view, or a malloc'd copy in *tmp_r (free it; NULL when not needed). NULL
 * on out of memory or a range outside the view. */
const char *imap_view_bytes(const struct petrel_view *v, uint64_t off, uint64_t len, char **tmp_r);

/* out.c */
/* Ascending UIDs written as a compact set ("1:3,7") after a prefix written before the
 * first one: imap_setw_add for each, imap_setw_end once ("\r\n" when any was written). */
struct imap_setw {
    const char *prefix;
    uint32_t lo, hi;
    int open, any;
};
void imap_setw_add(struct imap_session *is, struct imap_setw *w, uint32_t uid);
void imap_setw_end(struct imap_session *is, struct imap_setw *w);
/* Writes s as an IMAP string: atom-safe quoted string or a literal. */
void imap_write_string(struct imap_session *is, const char *s, size_t n);
/* Writes a store name as the client sees it (modified UTF-7 unless rev2). */
void imap_write_mailbox(struct imap_session *is, const char *name);
void imap_write_flags(struct imap_session *is, uint32_t flags, const char *kw, unsigned nkw);

/* mutf7.c: modified UTF-7 (RFC 3501 5.1.3). 0, or -1 on invalid input / no room. */
int imap_mutf7_to_utf8(const char *in, size_t n, char *out, size_t cap);
int imap_utf8_to_mutf7(const char *in, size_t n, char *out, size_t cap);

/* match.c: LIST pattern matching with '*' and '%' (hierarchy '/'). */
int imap_list_match(const char *pattern, const char *name);

#endif
