/*
 * imap.c - the IMAP plugin's entry point and session callbacks: input is cut
 * into commands by the parser (parser.c) and dispatched by cmd.c.
 */
#include "imap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct petrel_host *imap_host;

static int imap_load(const struct petrel_host *h, char *err, size_t errlen)
{
    if (PETREL_ABI_MAJOR_OF(h->abi_version) != PETREL_ABI_MAJOR ||
        !PETREL_HOST_HAS(h, msg_envelope)) {
        snprintf(err, errlen, "imap: host ABI too old");
        return PETREL_EVERSION;
    }
    imap_host = h;
    return 0;
}

const char *imap_state_name(enum imap_state st)
{
    static const char *const names[] = {"not_authenticated", "authenticated", "selected", "logout"};
    return (unsigned)st < 4 ? names[st] : "?";
}

/* The one place the session state changes: logged, and limits follow it. */
void imap_state_enter(struct imap_session *is, enum imap_state st)
{
    if (st == is->state) return;
    imap_host->log(is->s, PETREL_LOG_DEBUG, "event=imap_state from=%s to=%s",
                   imap_state_name(is->state), imap_state_name(st));
    if (is->state == IMAP_STATE_SELECTED) imap_selected_clear(is);
    if (is->state == IMAP_STATE_NOAUTH && st != IMAP_STATE_LOGOUT) {
        is->p->text_max = IMAP_PARSER_TEXT_MAX;
        is->p->literal_max = IMAP_PARSER_LITERAL_MAX;
        is->p->append_literal_max = is->max_message_size;
        is->p->append_total_max = imap_multiappend_ok() ? IMAP_MULTIAPPEND_MAX_BYTES : 0;
        if (is->p->append_total_max < is->max_message_size)
            is->p->append_total_max = is->max_message_size;
        /* + 1: the mailbox name may be a literal too */
        is->p->append_literals_max = imap_multiappend_ok() ? IMAP_MULTIAPPEND_MAX_MESSAGES + 1 : 2;
    }
    is->state = st;
}

void imap_command_end(struct imap_session *is)
{
    imap_parser_reset(is->p);
    is->mode = IMAP_MODE_COMMAND;
}

static int imap_session_start(petrel_session *s, void **data_r)
{
    struct imap_session *is = calloc(1, sizeof(*is));
    if (!is) return PETREL_ENOMEM;
    is->p = imap_parser_new();
    if (!is->p) {
        free(is);
        return PETREL_ENOMEM;
    }
    is->s = s;
    const char *mms =
        imap_host->config_get(imap_host->session_listener(s), "max_message_size", "52428800");
    is->max_message_size = strtoull(mms, NULL, 10);
    is->p->text_max = IMAP_PREAUTH_TEXT_MAX;
    is->p->literal_max = IMAP_PREAUTH_LITERAL_MAX;
    is->p->append_literal_max = 0;
    imap_host->set_max_line(s, IMAP_MAX_LINE);
    *data_r = is;
    imap_host->write(s, "* OK [", 6);
    imap_write_capability(is);
    imap_host->writef(s, "] %s IMAP server ready\r\n", imap_host->hostname());
    return 0;
}

static void imap_session_end(petrel_session *s, void *data)
{
    (void)s;
    struct imap_session *is = data;
    if (!is) return;
    imap_fetch_free(is);
    imap_stream_free(is);
    imap_store_free(is);
    imap_copy_free(is);
    imap_selected_clear(is);
    imap_parser_free(&is->p);
    free(is);
}

/* A parser error: BAD (or NO [TOOBIG]); a desynchronised stream ends the session. */
static void imap_parse_error(struct imap_session *is, int rc, int nonsync)
{
    struct imap_parser *p = is->p;
    const char *tag = p->tag[0] ? p->tag : "*";
    imap_host->log(is->s, PETREL_LOG_INFO, "event=imap_bad_input rc=%d reason=\"%s\"", rc,
                   p->error ? p->error : "-");
    if (rc == IMAP_PARSE_ETOOBIG)
        imap_host->writef(is->s, "%s NO [TOOBIG] %s\r\n", tag, p->error);
    else
        imap_host->writef(is->s, "%s BAD %s\r\n", tag, p->error ? p->error : "Syntax error");
    unsigned cap = is->state == IMAP_STATE_NOAUTH ? IMAP_MAX_BAD_PREAUTH : IMAP_MAX_BAD_COMMANDS;
    if (nonsync || rc == IMAP_PARSE_ENOMEM || ++is->bad_commands >= cap) {
        /* the client sends literal bytes we refused: we cannot find the next command */
        imap_host->writef(is->s, "* BYE %s\r\n",
                          nonsync ? "Literal refused, closing" : "Too many errors");
        imap_state_enter(is, IMAP_STATE_LOGOUT);
        imap_host->close(is->s);
    }
    imap_command_end(is);
}

/* 1 when a line ends in a non-synchronising literal "{n+}": its bytes follow anyway. */
static int imap_line_nonsync(const char *line, size_t len)
{
    return len >= 4 && line[len - 1] == '}' && line[len - 2] == '+';
}

static void imap_parse_result(struct imap_session *is, int rc, int nonsync)
{
    if (rc == IMAP_PARSE_DONE) {
        imap_cmd_dispatch(is);
    } else if (rc == IMAP_PARSE_LITERAL) {
        if (is->p->lit_sync) imap_host->write(is->s, "+ OK\r\n", 6);
        if (is->p->lit_size == 0)
            (void)imap_parser_literal(is->p, NULL, 0);
        else if (imap_host->read_raw(is->s, is->p->lit_size) != 0)
            imap_host->close(is->s);
    } else if (rc < 0) {
        imap_parse_error(is, rc, nonsync);
    }
}

static void imap_on_line(petrel_session *s, void *data, const char *line, size_t len,
                         unsigned flags)
{
    (void)s;
    struct imap_session *is = data;
    if (is->state == IMAP_STATE_LOGOUT) return;
    if (is->mode == IMAP_MODE_IDLE) {
        imap_idle_line(is, line, len);
        return;
    }
    if (is->mode == IMAP_MODE_SASL) {
        imap_sasl_line(is, line, len);
        return;
    }
    if (flags & PETREL_LINE_TOO_LONG) {
        char tag[sizeof(is->p->tag)];
        memcpy(tag, is->p->tag, sizeof(tag)); /* a continuation line: the command's tag */
        imap_parser_reset(is->p);
        if (tag[0])
            memcpy(is->p->tag, tag, sizeof(tag));
        else
            imap_parser_peek_tag(is->p, line, len);
        is->p->error = "Line too long";
        is->p->lit_size = 0;
        imap_parse_error(is, IMAP_PARSE_ELIMIT, 0);
        return;
    }
    imap_parse_result(is, imap_parser_line(is->p, line, len), imap_line_nonsync(line, len));
}

static void imap_on_data(petrel_session *s, void *data, const void *p, size_t n, int last)
{
    (void)s, (void)last;
    struct imap_session *is = data;
    int rc = imap_parser_literal(is->p, p, n);
    if (rc < 0) imap_parse_error(is, rc, 0);
}

static void imap_on_notify(petrel_session *s, void *data, int what)
{
    struct imap_session *is = data;
    if (what == PETREL_NOTIFY_IDLE) {
        imap_host->writef(s, "* BYE Idle for too long\r\n");
        imap_state_enter(is, IMAP_STATE_LOGOUT);
    } else if (what == PETREL_NOTIFY_SHUTDOWN) {
        imap_host->writef(s, "* BYE Server shutting down\r\n");
        imap_state_enter(is, IMAP_STATE_LOGOUT);
    } else if (what == PETREL_NOTIFY_MAILBOX)
        imap_idle_notify(is); /* otherwise reported at the next legal point (NOOP, ...) */
}

static void imap_on_tls_done(petrel_session *s, void *data, int rc)
{
    (void)data;
    imap_host->log(s, PETREL_LOG_INFO, "event=imap_starttls ok=%d", rc == 0);
}

static void imap_on_auth_done(petrel_session *s, void *data, int rc)
{
    (void)s;
    imap_auth_done(data, rc);
}

static void imap_on_write_done(petrel_session *s, void *data, petrel_write *w, int rc)
{
    (void)s;
    struct imap_session *is = data;
    enum imap_pending what = is->pending;
    is->pending = IMAP_PEND_NONE;
    is->mode = IMAP_MODE_COMMAND;
    if (what == IMAP_PEND_FETCH_SEEN) {
        imap_fetch_seen_done(is, w, rc); /* the FETCH goes on; it ends the command */
        imap_host->write_free(&w);
        return;
    }
    if (what == IMAP_PEND_SELECT)
        imap_select_write_done(is, w, rc);
    else if (what == IMAP_PEND_APPEND)
        imap_append_write_done(is, w, rc);
    else if (what == IMAP_PEND_STORE)
        imap_store_write_done(is, w, rc);
    else if (what == IMAP_PEND_EXPUNGE)
        imap_expunge_write_done(is, w, rc);
    else if (what == IMAP_PEND_COPY)
        imap_copy_write_done(is, w, rc);
    else
        imap_simple_write_done(is, w, rc);
    imap_host->write_free(&w);
    if (is->mode == IMAP_MODE_COMMAND) imap_command_end(is); /* else a stream goes on */
}

static void imap_on_writable(petrel_session *s, void *data)
{
    (void)s;
    imap_fetch_on_writable(data);
    imap_stream_on_writable(data);
}

static const char *imap_refuse_line(petrel_listener *l)
{
    (void)l;
    return "* BYE Too many connections, try again later\r\n";
}

static const char *const imap_config_keys[] = {NULL};

static const struct petrel_plugin imap_plugin = {
    .abi_version = PETREL_ABI_VERSION,
    .struct_size = sizeof(struct petrel_plugin),
    .name = "imap",
    .version = "0.1",
    .config_keys = imap_config_keys,
    .load = imap_load,
    .session_start = imap_session_start,
    .session_end = imap_session_end,
    .on_line = imap_on_line,
    .on_data = imap_on_data,
    .on_writable = imap_on_writable,
    .on_notify = imap_on_notify,
    .on_tls_done = imap_on_tls_done,
    .on_auth_done = imap_on_auth_done,
    .on_write_done = imap_on_write_done,
    .refuse_line = imap_refuse_line,
};

PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void)
{
    return &imap_plugin;
}
