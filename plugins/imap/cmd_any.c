/*
 * cmd_any.c - commands valid in every state: CAPABILITY, NOOP, LOGOUT, ID,
 * and ENABLE (authenticated).
 */
#include "imap_int.h"

#include <string.h>

/*
 * Only what is implemented is advertised. IMAP4rev2, CONDSTORE, ESEARCH and
 * the rest join the list when they exist (docs/imap.md).
 */
void imap_write_capability(struct imap_session *is)
{
    petrel_session *s = is->s;
    imap_host->writef(s, "CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT "
                         "UIDPLUS MOVE CHILDREN SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE");
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
 * RFC 5161. CONDSTORE is the one enableable capability so far (IMAP4rev2 and
 * UTF8=ACCEPT go here when implemented); others are ignored, as the RFC says.
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
    int cs = 0;
    for (uint32_t i = 0; i < p->nargs; i++)
        cs |= imap_arg_is_atom(p, &p->args[i], "CONDSTORE");
    /* only what this command newly enabled is listed */
    imap_host->writef(is->s, "* ENABLED%s\r\n", cs && !is->condstore ? " CONDSTORE" : "");
    if (cs) imap_condstore_enable(is);
    imap_reply(is, "OK", "ENABLE completed");
}
