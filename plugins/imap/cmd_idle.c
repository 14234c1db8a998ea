/*
 * cmd_idle.c - IDLE (RFC 2177): "+ idling", then mailbox changes are pushed
 * as they happen (host->watch -> on_notify) until the client sends DONE.
 * An idling session holds no thread and no read snapshot.
 */
#include "imap_int.h"

#include <strings.h>

void imap_cmd_idle(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "IDLE takes no arguments");
        return;
    }
    imap_host->writef(is->s, "+ idling\r\n");
    is->mode = IMAP_MODE_IDLE;
    if (is->state == IMAP_STATE_SELECTED) imap_selected_sync(is, 1);
}

void imap_idle_line(struct imap_session *is, const char *line, size_t len)
{
    is->mode = IMAP_MODE_COMMAND;
    if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
        imap_reply(is, "OK", "IDLE terminated");
    else
        imap_reply_bad(is, "Expected DONE");
    imap_command_end(is);
}

void imap_idle_notify(struct imap_session *is)
{
    if (is->mode == IMAP_MODE_IDLE && is->state == IMAP_STATE_SELECTED) imap_selected_sync(is, 1);
}
