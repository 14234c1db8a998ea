/*
 * cmd_any.c - commands valid in every state: CAPABILITY, NOOP, LOGOUT, ID,
 * and ENABLE (authenticated).
 */
#include "imap_int.h"

#include <string.h>

/*
 * Only what is implemented is advertised. IMAP4rev2 and the rest join the
 * list when they exist (docs/imap.md).
 */
void imap_write_capability(struct imap_session *is)
{
    petrel_session *s = is->s;
    imap_host->writef(
        s, "CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT "
           "UIDPLUS MOVE CHILDREN SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE ESEARCH "
           "SEARCHRES LIST-EXTENDED LIST-STATUS BINARY QUOTA QUOTA=RES-STORAGE "
           "QUOTA=RES-MESSAGE");
    if (imap_multiappend_ok()) imap_host->writef(s, " MULTIAPPEND");
    imap_host->writef(s, " UTF8=ACCEPT"); /* RFC 6855 / RFC 9755 */
    imap_host->writef(s, " QRESYNC");     /* RFC 7162 3.2 */
    if (is->state == IMAP_STATE_NOAUTH) {
        if (imap_host->tls_available(s)) imap_host->writef(s, " STARTTLS");
        if (imap_host->plaintext_allowed(s))
            imap_host->writef(s, " AUTH=PLAIN AUTH=LOGIN");
        else
            imap_host->writef(s, " LOGINDISABLED");
    }
}

void imap_cmd_capability(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "CAPABILITY takes no arguments");
        return;
    }
    imap_host->write(is->s, "* ", 2);
    imap_write_capability(is);
    imap_host->write(is->s, "\r\n", 2);
    imap_reply(is, "OK", "CAPABILITY completed");
}

void imap_cmd_noop(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "NOOP takes no arguments");
        return;
    }
    if (is->state == IMAP_STATE_SELECTED) imap_selected_sync(is, 1);
    imap_reply(is, "OK", "NOOP completed");
}

void imap_cmd_logout(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "LOGOUT takes no arguments");
        return;
    }
    imap_host->writef(is->s, "* BYE Logging out\r\n");
    imap_reply(is, "OK", "LOGOUT completed");
    imap_state_enter(is, IMAP_STATE_LOGOUT);
    imap_host->close(is->s);
}

/* RFC 2971: ID ("name" "value" ...) or ID NIL. The client's values are not kept. */
void imap_cmd_id(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    if (p->nargs < 1 || (p->args[0].type != IMAP_ARG_NIL && p->args[0].type != IMAP_ARG_LIST) ||
        p->args[0].end != p->nargs) {
        imap_reply_bad(is, "ID takes a list or NIL");
        return;
    }
    imap_host->writef(is->s, "* ID (\"name\" \"Petrel\" \"version\" \"0.1\")\r\n");
    imap_reply(is, "OK", "ID completed");
}

void imap_condstore_enable(struct imap_session *is)
{
    if (!is->condstore) imap_host->log(is->s, PETREL_LOG_DEBUG, "event=imap_enable what=CONDSTORE");
    is->condstore = 1;
}

/*
 * RFC 5161. CONDSTORE and IMAP4rev2 (RFC 9051: UTF-8 mailbox names, ESEARCH
 * for every SEARCH, no RECENT) and UTF8=ACCEPT (RFC 6855/9755: UTF-8 names and
 * quoted strings, no SEARCH CHARSET) can be enabled; others are ignored, as the RFC says.
 */
void imap_cmd_enable(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    if (p->nargs < 1) {
        imap_reply_bad(is, "ENABLE needs capability names");
        return;
    }
    for (uint32_t i = 0; i < p->nargs; i++) {
        if (p->args[i].type != IMAP_ARG_ATOM) {
            imap_reply_bad(is, "ENABLE takes atoms");
            return;
        }
    }
    int cs = 0, rev2 = 0, utf8 = 0, qr = 0;
    for (uint32_t i = 0; i < p->nargs; i++) {
        cs |= imap_arg_is_atom(p, &p->args[i], "CONDSTORE");
        rev2 |= imap_arg_is_atom(p, &p->args[i], "IMAP4rev2");
        utf8 |= imap_arg_is_atom(p, &p->args[i], "UTF8=ACCEPT");
        qr |= imap_arg_is_atom(p, &p->args[i], "QRESYNC");
    }
    /* only what this command newly enabled is listed */
    imap_host->writef(is->s, "* ENABLED%s%s%s%s\r\n", cs && !is->condstore ? " CONDSTORE" : "",
                      rev2 && !is->rev2 ? " IMAP4rev2" : "",
                      utf8 && !is->utf8_accept ? " UTF8=ACCEPT" : "",
                      qr && !is->qresync ? " QRESYNC" : "");
    if (cs) imap_condstore_enable(is);
    if (rev2 && !is->rev2)
        imap_host->log(is->s, PETREL_LOG_DEBUG, "event=imap_enable what=IMAP4rev2");
    if (rev2) is->rev2 = 1;
    if (utf8 && !is->utf8_accept) /* RFC 6855 3: UTF-8 names and quoted strings */
        imap_host->log(is->s, PETREL_LOG_DEBUG, "event=imap_enable what=UTF8=ACCEPT");
    if (utf8) is->utf8_accept = 1;
    if (qr && !is->qresync) /* RFC 7162 3.2.3: QRESYNC implies CONDSTORE */
        imap_host->log(is->s, PETREL_LOG_DEBUG, "event=imap_enable what=QRESYNC");
    if (qr) {
        is->qresync = 1;
        imap_condstore_enable(is);
    }
    is->p->utf8 = imap_utf8_names(is);
    imap_reply(is, "OK", "ENABLE completed");
}
