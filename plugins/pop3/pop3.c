/*
 * pop3.c - the POP3 plugin (RFC 1939, 2449, 2595, 3206, 5034): descriptor,
 * listener settings, session life and command dispatch.
 *
 * Listener keys (besides the host's):
 *   pop3_delete = allow | flag-only
 *     allow (default): DELE + QUIT expunges the messages.
 *     flag-only: DELE + QUIT sets PETREL_F_POP3_DELETED instead; IMAP still
 *     shows the messages, later POP3 sessions do not. A listener key, not a
 *     tenant setting: the store has no per-tenant settings yet.
 */
#include "pop3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct petrel_host *pop3_host;

static const char *pop3_state_name(enum pop3_state st)
{
    static const char *const names[] = {"authorization", "sasl", "transaction", "update",
                                        "closing"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

void pop3_enter_state(struct pop3_session *ps, enum pop3_state st)
{
    if (ps->state == st) return;
    pop3_host->log(ps->s, PETREL_LOG_DEBUG, "event=pop3_state from=%s to=%s",
                   pop3_state_name(ps->state), pop3_state_name(st));
    ps->state = st;
}

void pop3_close(struct pop3_session *ps)
{
    pop3_enter_state(ps, POP3_ST_CLOSING);
    pop3_host->close(ps->s);
}

void pop3_error(struct pop3_session *ps, const char *text)
{
    if (++ps->errors >= POP3_MAX_ERRORS) {
        pop3_host->writef(ps->s, "-ERR too many errors, bye\r\n");
        pop3_host->log(ps->s, PETREL_LOG_INFO, "event=pop3_too_many_errors errors=%u", ps->errors);
        pop3_close(ps);
        return;
    }
    pop3_host->writef(ps->s, "-ERR %s\r\n", text);
}

/* ------------------------------------------------------------ plugin and listener */

static int pop3_load(const struct petrel_host *h, char *err, size_t errlen)
{
    if (PETREL_ABI_MAJOR_OF(h->abi_version) != PETREL_ABI_MAJOR || !PETREL_HOST_HAS(h, unwatch)) {
        snprintf(err, errlen, "pop3: host ABI mismatch");
        return PETREL_EVERSION;
    }
    pop3_host = h;
    return 0;
}

static int pop3_listener_open(petrel_listener *l, void **data_r, char *err, size_t errlen)
{
    struct pop3_listener *pl = calloc(1, sizeof(*pl));
    if (!pl) {
        snprintf(err, errlen, "out of memory");
        return PETREL_ENOMEM;
    }
    const char *mode = pop3_host->config_get(l, "pop3_delete", "allow");
    if (strcmp(mode, "allow") == 0) {
        pl->delete_mode = POP3_DELETE_ALLOW;
    } else if (strcmp(mode, "flag-only") == 0) {
        pl->delete_mode = POP3_DELETE_FLAG_ONLY;
    } else {
        snprintf(err, errlen, "pop3_delete must be allow or flag-only, not '%s'", mode);
        free(pl);
        return PETREL_EINVAL;
    }
    *data_r = pl;
    return 0;
}

static void pop3_listener_close(petrel_listener *l, void *data)
{
    (void)l;
    free(data);
}

static const char *pop3_refuse_line(petrel_listener *l)
{
    (void)l;
    return "-ERR [SYS/TEMP] too many connections, try again later\r\n";
}

/* ------------------------------------------------------------ sessions */

static int pop3_session_start(petrel_session *s, void **data_r)
{
    struct pop3_session *ps = calloc(1, sizeof(*ps));
    if (!ps) return PETREL_ENOMEM;
    ps->s = s;
    ps->l = pop3_host->listener_data(pop3_host->session_listener(s));
    ps->state = POP3_ST_AUTH;
    *data_r = ps;
    pop3_host->set_max_line(s, POP3_MAX_LINE);
    /* no APOP timestamp: APOP is not offered (no plaintext-equivalent secrets are stored) */
    pop3_host->writef(s, "+OK Petrel POP3 server ready\r\n");
    return 0;
}

static void pop3_session_end(petrel_session *s, void *data)
{
    (void)s;
    struct pop3_session *ps = data;
    if (!ps) return;
    if (ps->locked[0]) pop3_lock_release(ps->locked);
    if (ps->state == POP3_ST_TRANS && ps->ndeleted)
        pop3_host->log(s, PETREL_LOG_INFO, "event=pop3_dropped deleted_kept=%u", ps->ndeleted);
    free(ps->msgs);
    free(ps);
}

typedef void (*pop3_cmd_fn)(struct pop3_session *ps, const struct pop3_req *r);

enum { POP3_IN_AUTH = 1, POP3_IN_TRANS = 2 };

static const struct {
    pop3_cmd_fn run;
    unsigned states;
} pop3_dispatch[POP3_CMD_COUNT] = {
    [POP3_CMD_USER] = {pop3_cmd_user, POP3_IN_AUTH},
    [POP3_CMD_PASS] = {pop3_cmd_pass, POP3_IN_AUTH},
    [POP3_CMD_APOP] = {pop3_cmd_apop, POP3_IN_AUTH},
    [POP3_CMD_AUTH] = {pop3_cmd_auth, POP3_IN_AUTH},
    [POP3_CMD_STLS] = {pop3_cmd_stls, POP3_IN_AUTH},
    [POP3_CMD_CAPA] = {pop3_cmd_capa, POP3_IN_AUTH | POP3_IN_TRANS},
    [POP3_CMD_QUIT] = {pop3_cmd_quit, POP3_IN_AUTH | POP3_IN_TRANS},
    [POP3_CMD_STAT] = {pop3_cmd_stat, POP3_IN_TRANS},
    [POP3_CMD_LIST] = {pop3_cmd_list, POP3_IN_TRANS},
    [POP3_CMD_RETR] = {pop3_cmd_retr, POP3_IN_TRANS},
    [POP3_CMD_DELE] = {pop3_cmd_dele, POP3_IN_TRANS},
    [POP3_CMD_NOOP] = {pop3_cmd_noop, POP3_IN_TRANS},
    [POP3_CMD_RSET] = {pop3_cmd_rset, POP3_IN_TRANS},
    [POP3_CMD_TOP] = {pop3_cmd_top, POP3_IN_TRANS},
    [POP3_CMD_UIDL] = {pop3_cmd_uidl, POP3_IN_TRANS},
};

static void pop3_on_line(petrel_session *s, void *data, const char *line, size_t len,
                         unsigned flags)
{
    struct pop3_session *ps = data;
    (void)s;
    if (ps->state == POP3_ST_CLOSING || ps->state == POP3_ST_UPDATE)
        return; /* nothing more is read once QUIT was said */
    if (ps->state == POP3_ST_SASL) {
        if (flags & PETREL_LINE_TOO_LONG) {
            pop3_sasl_line(ps, "*", 1); /* cancels the exchange */
            return;
        }
        pop3_sasl_line(ps, line, len);
        return;
    }
    if (ps->state == POP3_ST_AUTH && ++ps->preauth_cmds > POP3_MAX_PREAUTH_CMDS) {
        pop3_host->writef(s, "-ERR too many commands without login, bye\r\n");
        pop3_close(ps);
        return;
    }
    if (flags & PETREL_LINE_TOO_LONG) {
        pop3_error(ps, "line too long");
        return;
    }
    struct pop3_req r;
    int rc = pop3_parse(line, len, &r);
    if (rc == POP3_PARSE_UNKNOWN || rc == POP3_PARSE_EMPTY) {
        pop3_error(ps, "unknown command");
        return;
    }
    if (rc) {
        pop3_error(ps, "syntax error in arguments");
        return;
    }
    unsigned in = ps->state == POP3_ST_AUTH ? POP3_IN_AUTH : POP3_IN_TRANS;
    if (!(pop3_dispatch[r.cmd].states & in)) {
        pop3_error(ps, in == POP3_IN_AUTH ? "not logged in" : "command not valid in this state");
        return;
    }
    pop3_dispatch[r.cmd].run(ps, &r);
}

static void pop3_on_writable(petrel_session *s, void *data)
{
    (void)s;
    struct pop3_session *ps = data;
    if (ps->out.kind != POP3_OUT_NONE) pop3_stream_continue(ps);
}

static void pop3_on_notify(petrel_session *s, void *data, int what)
{
    struct pop3_session *ps = data;
    /* RFC 1939: an autologout does not enter UPDATE: nothing is deleted */
    if (what == PETREL_NOTIFY_IDLE)
        pop3_host->writef(s, "-ERR autologout: idle for too long\r\n");
    else if (what == PETREL_NOTIFY_SHUTDOWN)
        pop3_host->writef(s, "-ERR [SYS/TEMP] server shutting down\r\n");
    else
        return;
    if (ps) pop3_enter_state(ps, POP3_ST_CLOSING);
}

static void pop3_on_tls_done(petrel_session *s, void *data, int rc)
{
    (void)s;
    pop3_tls_done(data, rc);
}

static void pop3_on_auth_done(petrel_session *s, void *data, int rc)
{
    (void)s;
    pop3_auth_done(data, rc);
}

static void pop3_on_write_done(petrel_session *s, void *data, petrel_write *w, int rc)
{
    (void)s;
    pop3_write_done(data, w, rc);
}

static const char *const pop3_keys[] = {"pop3_delete", NULL};

static const struct petrel_plugin pop3_plugin = {
    .abi_version = PETREL_ABI_VERSION,
    .struct_size = sizeof(struct petrel_plugin),
    .name = "pop3",
    .version = "1.0",
    .config_keys = pop3_keys,
    .load = pop3_load,
    .listener_open = pop3_listener_open,
    .listener_close = pop3_listener_close,
    .session_start = pop3_session_start,
    .session_end = pop3_session_end,
    .on_line = pop3_on_line,
    .on_writable = pop3_on_writable,
    .on_notify = pop3_on_notify,
    .on_tls_done = pop3_on_tls_done,
    .on_auth_done = pop3_on_auth_done,
    .on_write_done = pop3_on_write_done,
    .refuse_line = pop3_refuse_line,
};

PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void)
{
    return &pop3_plugin;
}
