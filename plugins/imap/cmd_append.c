/*
 * cmd_append.c - APPEND mailbox [(flags)] [date-time] literal (RFC 3501
 * 6.3.11, UIDPLUS APPENDUID) and MULTIAPPEND (RFC 3502: more messages
 * after the first, all or none stored). Each literal's size was checked
 * against the listener's max_message_size, and the command's total against
 * IMAP_MULTIAPPEND_MAX_BYTES, by the parser before "+" was sent. The OK is
 * sent only after the durable commit (on_write_done).
 */
#include "imap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d") -> unix time; -1 when malformed. */
int imap_date_time_parse(const char *s, size_t n, int64_t *t_r)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4] = {0};
    int day, year, hh, mm, ss, zone, used = 0;
    char sign;
    if (n < 25 || n > 26) return -1;
    char buf[32];
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (sscanf(buf, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year, &hh, &mm, &ss, &sign,
               &zone, &used) != 8 ||
        (size_t)used != n || (sign != '+' && sign != '-'))
        return -1;
    const char *mp = strstr(months, mon);
    if (!mp || (mp - months) % 3 || day < 1 || day > 31 || year < 1900 || year > 9999 || hh > 23 ||
        mm > 59 || ss > 60 || zone < 0 || zone % 100 > 59 || zone > 2359)
        return -1;
    struct tm tm = {.tm_mday = day,
                    .tm_mon = (int)((mp - months) / 3),
                    .tm_year = year - 1900,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss};
    int64_t t = (int64_t)timegm(&tm);
    int64_t off = (int64_t)(zone / 100 * 3600 + zone % 100 * 60);
    *t_r = sign == '+' ? t - off : t + off;
    return 0;
}

/* One message of an APPEND: [(flags)] [date-time] literal. */
struct append_msg {
    struct imap_flags f;
    int64_t date;
    uint32_t lit;     /* the literal's argument index */
    int utf8_refused; /* the UTF8 (literal8) form without ENABLE UTF8=ACCEPT */
};

/*
 * Reads the message that starts at argument *i and moves *i past it. 0, or
 * -1 on bad syntax. (The UTF8 (~{n}) form of RFC 6855 goes here too.)
 */
static int append_msg_parse(struct imap_session *is, uint32_t *i, struct append_msg *m)
{
    struct imap_parser *p = is->p;
    uint32_t k = *i;
    memset(m, 0, sizeof(*m));
    if (k < p->nargs && p->args[k].type == IMAP_ARG_LIST) {
        if (imap_flags_parse(is, k + 1, p->args[k].end, &m->f)) return -1;
        k = p->args[k].end;
    }
    if (k < p->nargs && p->args[k].type == IMAP_ARG_QUOTED) {
        if (imap_date_time_parse(imap_arg_str(p, &p->args[k]), p->args[k].len, &m->date)) return -1;
        k++;
    }
    if (k + 1 < p->nargs && imap_arg_is_atom(p, &p->args[k], "UTF8") &&
        p->args[k + 1].type == IMAP_ARG_LIST) {
        /* RFC 6855 4: UTF8 (literal8); the message is stored as it is. Without
         * ENABLE UTF8=ACCEPT the server "MUST reject, with a NO" */
        uint32_t l = k + 1;
        if (p->args[l].end != l + 2 || p->args[l + 1].type != IMAP_ARG_LITERAL) return -1;
        m->utf8_refused = !is->utf8_accept;
        m->lit = l + 1;
        *i = l + 2;
        return 0;
    }
    if (k >= p->nargs || p->args[k].type != IMAP_ARG_LITERAL) return -1;
    m->lit = k;
    *i = k + 1;
    return 0;
}

/*
 * The messages of args[1..]: syntax (BAD), count and empty messages (NO).
 * 0 and the count, or -1 when a reply was sent.
 */
static int append_msgs_check(struct imap_session *is, uint32_t *n_r)
{
    struct imap_parser *p = is->p;
    struct append_msg m;
    uint32_t n = 0;
    int empty = 0;
    for (uint32_t i = 1; i < p->nargs; n++) {
        if (append_msg_parse(is, &i, &m)) {
            imap_reply_bad(is, "APPEND mailbox [(flags)] [\"date-time\"] literal ...");
            return -1;
        }
        empty |= p->args[m.lit].len == 0;
        if (m.utf8_refused) {
            imap_reply(is, "NO", "APPEND UTF8 needs ENABLE UTF8=ACCEPT");
            return -1;
        }
    }
    if (n == 0) {
        imap_reply_bad(is, "APPEND mailbox [(flags)] [\"date-time\"] literal ...");
        return -1;
    }
    if (n > 1 && !imap_multiappend_ok()) {
        imap_reply_bad(is, "One message per APPEND");
        return -1;
    }
    if (n > IMAP_MULTIAPPEND_MAX_MESSAGES) { /* the parser's literal cap stops this first */
        imap_reply(is, "NO", "[LIMIT] Too many messages in one APPEND");
        return -1;
    }
    if (empty) {
        imap_reply(is, "NO", "Cannot save an empty message");
        return -1;
    }
    *n_r = n;
    return 0;
}

int imap_multiappend_ok(void)
{
    return PETREL_HOST_HAS(imap_host, w_atomic);
}

/*
 * APPEND and MULTIAPPEND (RFC 3502): every message of the command goes into
 * ONE atomic write (host w_atomic), so a failure of any (over quota, say)
 * stores none. The whole command (all literals) has been read by the parser
 * before this runs, within its literal caps, so a syntax error anywhere is a
 * BAD that stores nothing.
 */
void imap_cmd_append(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    char name[IMAP_MAX_NAME * 2];
    uint32_t n;
    if (p->nargs < 2 || !imap_arg_is_string(&p->args[0])) {
        imap_reply_bad(is, "APPEND mailbox [(flags)] [\"date-time\"] literal ...");
        return;
    }
    if (append_msgs_check(is, &n)) return;
    if (imap_mailbox_arg(is, &p->args[0], name, sizeof(name))) return;
    struct petrel_mailbox_info mb;
    if (imap_mailbox_find(is, name, "[TRYCREATE] No such mailbox", &mb)) return;
    petrel_write *w = imap_host->write_new(is->s);
    int rc = w ? 0 : PETREL_ENOMEM;
    if (rc == 0 && imap_multiappend_ok()) rc = imap_host->w_atomic(w);
    struct append_msg m;
    for (uint32_t i = 1, k = 0; rc == 0 && k < n; k++) {
        (void)append_msg_parse(is, &i, &m); /* checked above */
        const struct imap_arg *a = &p->args[m.lit];
        int op = imap_host->w_append(w, mb.id, imap_arg_str(p, a), a->len, m.date, m.f.flags,
                                     m.f.kw, m.f.nkw);
        rc = op < 0 ? op : 0;
    }
    if (rc == 0) rc = imap_host->write_submit(w);
    if (rc) {
        imap_host->write_free(&w);
        imap_reply(is, "NO", "[SERVERBUG] Cannot start the append");
        return;
    }
    is->append_mailbox = mb.id;
    is->append_uidvalidity = mb.uidvalidity;
    is->append_count = n;
    is->pending = IMAP_PEND_APPEND;
    is->mode = IMAP_MODE_WAIT;
}

/* "a:b,c" of the new UIDs (ascending within one commit; ranges for consecutive runs). */
static void append_uidset(petrel_write *w, uint32_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (uint32_t k = 0; k < n;) {
        uint32_t lo = 0, hi, next;
        (void)imap_host->w_result(w, (int)k, 0, &lo, NULL);
        hi = lo;
        for (k++; k < n; k++) {
            next = 0;
            (void)imap_host->w_result(w, (int)k, 0, &next, NULL);
            if (next != hi + 1) break;
            hi = next;
        }
        int c = hi == lo ? snprintf(out + len, cap - len, "%s%u", len ? "," : "", lo)
                         : snprintf(out + len, cap - len, "%s%u:%u", len ? "," : "", lo, hi);
        if (c < 0 || (size_t)c >= cap - len) return; /* cannot happen: cap fits n ranges */
        len += (size_t)c;
    }
}

void imap_append_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    /* an atomic write's rc is its first failure; a single APPEND's op result too */
    for (uint32_t k = 0; rc == 0 && k < is->append_count; k++)
        rc = imap_host->w_result(w, (int)k, 0, NULL, NULL);
    if (rc == 0) {
        char set[IMAP_MULTIAPPEND_MAX_MESSAGES * 22 + 1];
        append_uidset(w, is->append_count, set, sizeof(set));
        if (is->state == IMAP_STATE_SELECTED && is->sel.id == is->append_mailbox)
            imap_selected_sync(is, 1);
        /* not imap_reply: its text buffer is smaller than the longest set */
        imap_host->writef(is->s, "%s OK [APPENDUID %u %s] APPEND completed\r\n", is->p->tag,
                          is->append_uidvalidity, set);
    } else if (rc == PETREL_EQUOTA || rc == PETREL_ETENANTQUOTA) {
        imap_reply(is, "NO", "[OVERQUOTA] Quota exceeded");
    } else if (rc == PETREL_ETOOBIG) {
        imap_reply(is, "NO", "[TOOBIG] Message too big");
    } else if (rc == PETREL_ENOTFOUND) {
        imap_reply(is, "NO", "[TRYCREATE] No such mailbox");
    } else {
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_append_failed rc=%d", rc);
        imap_reply(is, "NO", "[UNAVAILABLE] Temporary failure, try again");
    }
}
