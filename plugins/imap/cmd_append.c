/*
 * cmd_append.c - APPEND mailbox [(flags)] [date-time] literal (RFC 3501
 * 6.3.11, UIDPLUS APPENDUID). The literal's size was checked against the
 * listener's max_message_size by the parser before "+" was sent. The OK is
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

void imap_cmd_append(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    char name[IMAP_MAX_NAME * 2];
    struct imap_flags f = {0};
    int64_t date = 0;
    uint32_t i = 1;
    if (p->nargs < 2 || !imap_arg_is_string(&p->args[0])) goto bad;
    if (p->args[i].type == IMAP_ARG_LIST) {
        if (imap_flags_parse(is, i + 1, p->args[i].end, &f)) goto bad;
        i = p->args[i].end;
    }
    if (i < p->nargs && p->args[i].type == IMAP_ARG_QUOTED) {
        if (imap_date_time_parse(imap_arg_str(p, &p->args[i]), p->args[i].len, &date)) goto bad;
        i++;
    }
    if (i + 1 != p->nargs || p->args[i].type != IMAP_ARG_LITERAL)
        goto bad; /* MULTIAPPEND is not implemented */
    if (imap_mailbox_arg(is, &p->args[0], name, sizeof(name))) return;
    if (p->args[i].len == 0) {
        imap_reply(is, "NO", "Cannot save an empty message");
        return;
    }
    petrel_read *r = imap_host->read_begin(is->s);
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    int rc = r ? imap_host->mailbox_get(r, name, &mb) : PETREL_EIO;
    imap_host->read_end(&r);
    if (rc) {
        imap_reply(is, "NO",
                   rc == PETREL_ENOTFOUND ? "[TRYCREATE] No such mailbox"
                                          : "[UNAVAILABLE] Cannot open the mailbox");
        return;
    }
    petrel_write *w = imap_host->write_new(is->s);
    if (!w ||
        imap_host->w_append(w, mb.id, imap_arg_str(p, &p->args[i]), p->args[i].len, date, f.flags,
                            f.kw, f.nkw) < 0 ||
        imap_host->write_submit(w) != 0) {
        imap_host->write_free(&w);
        imap_reply(is, "NO", "[SERVERBUG] Cannot start the append");
        return;
    }
    is->append_mailbox = mb.id;
    is->append_uidvalidity = mb.uidvalidity;
    is->pending = IMAP_PEND_APPEND;
    is->mode = IMAP_MODE_WAIT;
    return;
bad:
    imap_reply_bad(is, "APPEND mailbox [(flags)] [\"date-time\"] literal");
}

void imap_append_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    uint32_t uid = 0;
    if (rc == 0) rc = imap_host->w_result(w, 0, 0, &uid, NULL);
    if (rc == 0) {
        if (is->state == IMAP_STATE_SELECTED && is->sel.id == is->append_mailbox)
            imap_selected_sync(is, 1);
        imap_reply(is, "OK", "[APPENDUID %u %u] APPEND completed", is->append_uidvalidity, uid);
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
