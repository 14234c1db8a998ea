/*
 * cmd.c - the command table and dispatch: {name, allowed states, handler}.
 */
#include "imap_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AUTHED IMAP_LOGGED_IN
#define SELECTED IMAP_IN(IMAP_STATE_SELECTED)
#define NOAUTH IMAP_IN(IMAP_STATE_NOAUTH)

static const struct imap_cmd imap_cmds[] = {
    {"CAPABILITY", IMAP_ANY_STATE, imap_cmd_capability},
    {"NOOP", IMAP_ANY_STATE, imap_cmd_noop},
    {"LOGOUT", IMAP_ANY_STATE, imap_cmd_logout},
    {"ID", IMAP_ANY_STATE, imap_cmd_id},
    {"STARTTLS", NOAUTH, imap_cmd_starttls},
    {"LOGIN", NOAUTH, imap_cmd_login},
    {"AUTHENTICATE", NOAUTH, imap_cmd_authenticate},
    {"ENABLE", IMAP_IN(IMAP_STATE_AUTH), imap_cmd_enable}, /* RFC 5161: not when selected */
    {"SELECT", AUTHED, imap_cmd_select},
    {"EXAMINE", AUTHED, imap_cmd_examine},
    {"CREATE", AUTHED, imap_cmd_create},
    {"DELETE", AUTHED, imap_cmd_delete},
    {"RENAME", AUTHED, imap_cmd_rename},
    {"SUBSCRIBE", AUTHED, imap_cmd_subscribe},
    {"UNSUBSCRIBE", AUTHED, imap_cmd_unsubscribe},
    {"LIST", AUTHED, imap_cmd_list},
    {"LSUB", AUTHED, imap_cmd_lsub},
    {"STATUS", AUTHED, imap_cmd_status},
    {"APPEND", AUTHED, imap_cmd_append},
    {"NAMESPACE", AUTHED, imap_cmd_namespace},
    {"CHECK", SELECTED, imap_cmd_check},
    {"CLOSE", SELECTED, imap_cmd_close},
    {"UNSELECT", SELECTED, imap_cmd_unselect},
    {"FETCH", SELECTED, imap_cmd_fetch},
    {"STORE", SELECTED, imap_cmd_store},
    {"EXPUNGE", SELECTED, imap_cmd_expunge},
    {"UID", SELECTED, imap_cmd_uid},
    {"COPY", SELECTED, imap_cmd_copy},
    {"SEARCH", SELECTED, imap_cmd_search},
    {"MOVE", SELECTED, imap_cmd_move},
    {"IDLE", AUTHED, imap_cmd_idle},
    {"GETQUOTAROOT", AUTHED, imap_cmd_getquotaroot},
    {"GETQUOTA", AUTHED, imap_cmd_getquota},
    {"SETQUOTA", AUTHED, imap_cmd_setquota},
};

const struct imap_cmd *imap_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(imap_cmds) / sizeof(imap_cmds[0]); i++)
        if (strcmp(imap_cmds[i].name, name) == 0) return &imap_cmds[i];
    return NULL;
}

void imap_reply(struct imap_session *is, const char *status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    imap_host->writef(is->s, "%s %s %s\r\n", is->p->tag, status, text);
}

void imap_reply_bad(struct imap_session *is, const char *text)
{
    unsigned cap = is->state == IMAP_STATE_NOAUTH ? IMAP_MAX_BAD_PREAUTH : IMAP_MAX_BAD_COMMANDS;
    imap_reply(is, "BAD", "%s", text);
    if (++is->bad_commands >= cap) {
        imap_host->writef(is->s, "* BYE Too many errors\r\n");
        imap_state_enter(is, IMAP_STATE_LOGOUT);
        imap_host->close(is->s);
    }
}

void imap_cmd_dispatch(struct imap_session *is)
{
    const struct imap_cmd *c = imap_cmd_find(is->p->name);
    if (!c) {
        imap_host->log(is->s, PETREL_LOG_DEBUG, "event=imap_unknown_command");
        imap_reply_bad(is, "Unknown command");
    } else if (!(c->states & IMAP_IN(is->state))) {
        imap_reply_bad(is, is->state == IMAP_STATE_NOAUTH ? "Log in first"
                                                          : "Command not valid in this state");
    } else {
        is->bad_commands = 0;
        c->run(is);
    }
    if (is->mode == IMAP_MODE_COMMAND) imap_command_end(is);
}
