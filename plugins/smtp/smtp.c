/*
 * smtp.c - the SMTP plugin (smtp.so): descriptor, listener settings,
 * session life, the state transition function and input dispatch.
 *
 * One plugin serves three listener modes (`mode = mx | submission | lmtp`):
 * inbound mail for local users, authenticated submission, and LMTP behind
 * another MTA. docs/smtp.md lists the settings and the decisions.
 */
#include "smtp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct petrel_host *smtp_host;

static const char *const smtp_state_names[] = {
    "greeted", "ready", "mail", "rcpt", "data", "bdat", "auth", "wait", "quit",
};

void smtp_state_enter(petrel_session *s, struct smtp_session *ss, int state)
{
    if (ss->state == state)
        return;
    smtp_host->log(s, PETREL_LOG_DEBUG, "event=smtp_state from=%s to=%s",
                   smtp_state_names[ss->state], smtp_state_names[state]);
    ss->state = state;
}

void smtp_reply(petrel_session *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) - 2 ? (size_t)n : sizeof(buf) - 3;
    buf[len++] = '\r';
    buf[len++] = '\n';
    smtp_host->write(s, buf, len);
}

int smtp_error(petrel_session *s, struct smtp_session *ss)
{
    if (++ss->errors < ss->cfg->max_errors)
        return 0;
    smtp_host->log(s, PETREL_LOG_INFO, "event=smtp_too_many_errors errors=%u", ss->errors);
    smtp_reply(s, "421 4.7.0 %s Too many errors, closing connection", smtp_host->hostname());
    smtp_state_enter(s, ss, SMTP_S_QUIT);
    smtp_host->close(s);
    return 1;
}

void smtp_envelope_reset(struct smtp_session *ss)
{
    ss->has_mail = 0;
    memset(&ss->mail, 0, sizeof(ss->mail));
    free(ss->rcpts);
    ss->rcpts = NULL;
    ss->nrcpts = ss->caprcpts = 0;
    smtp_data_free(&ss->data);
    ss->bdat_left = 0;
    ss->bdat_last = 0;
    ss->bdat_chunk = 0;
    free(ss->targets);
    ss->targets = NULL;
    ss->ntargets = 0;
}

/* ------------------------------------------------------------ load, listeners */

static int smtp_load(const struct petrel_host *h, char *err, size_t errlen)
{
    if (PETREL_ABI_MAJOR_OF(h->abi_version) != PETREL_ABI_MAJOR ||
        !PETREL_HOST_HAS(h, resolve_rcpt) || !PETREL_HOST_HAS(h, w_deliver) ||
        !PETREL_HOST_HAS(h, sender_allowed)) {
        snprintf(err, errlen, "smtp: host lacks ABI %d functions (resolve_rcpt, w_deliver, "
                              "sender_allowed)", PETREL_ABI_MAJOR);
        return PETREL_EVERSION;
    }
    smtp_host = h;
    return 0;
}

/* A decimal setting within [lo, hi]. */
static int smtp_conf_uint(petrel_listener *l, const char *key, unsigned def, unsigned lo,
                          unsigned hi, unsigned *v_r, char *err, size_t errlen)
{
    const char *v = smtp_host->config_get(l, key, NULL);
    if (!v) {
        *v_r = def;
        return 0;
    }
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) {
        snprintf(err, errlen, "%s must be a number from %u to %u", key, lo, hi);
        return PETREL_EINVAL;
    }
    *v_r = (unsigned)x;
    return 0;
}

static int smtp_conf_bool(petrel_listener *l, const char *key, int def, int *v_r, char *err,
                          size_t errlen)
{
    const char *v = smtp_host->config_get(l, key, NULL);
    if (!v)
        *v_r = def;
    else if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
        *v_r = 1;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
        *v_r = 0;
    else {
        snprintf(err, errlen, "%s must be yes or no", key);
        return PETREL_EINVAL;
    }
    return 0;
}

static int smtp_conf_mode(petrel_listener *l, int *mode_r, char *err, size_t errlen)
{
    const char *m = smtp_host->config_get(l, "mode", "mx");
    if (!strcmp(m, "mx"))
        *mode_r = SMTP_MODE_MX;
    else if (!strcmp(m, "submission"))
        *mode_r = SMTP_MODE_SUBMISSION;
    else if (!strcmp(m, "lmtp"))
        *mode_r = SMTP_MODE_LMTP;
    else {
        snprintf(err, errlen, "mode must be mx, submission or lmtp");
        return PETREL_EINVAL;
    }
    return 0;
}

static int smtp_listener_open(petrel_listener *l, void **data_r, char *err, size_t errlen)
{
    struct smtp_listener *sl = calloc(1, sizeof(*sl));
    if (!sl) {
        snprintf(err, errlen, "out of memory");
        return PETREL_ENOMEM;
    }
    const char *mms = smtp_host->config_get(l, "max_message_size", "52428800");
    sl->max_message_size = strtoull(mms, NULL, 10);
    if (sl->max_message_size == 0)
        sl->max_message_size = 52428800;
    int rc = smtp_conf_mode(l, &sl->mode, err, errlen);
    if (!rc)
        rc = smtp_conf_uint(l, "max_recipients", SMTP_DEF_MAX_RECIPIENTS, 1,
                            SMTP_MAX_RECIPIENTS_CAP, &sl->max_recipients, err, errlen);
    if (!rc)
        rc = smtp_conf_uint(l, "max_errors", SMTP_DEF_MAX_ERRORS, 1, 1000, &sl->max_errors, err,
                            errlen);
    if (!rc)
        rc = smtp_conf_uint(l, "max_auth_failures", SMTP_DEF_MAX_AUTH_FAILURES, 1, 100,
                            &sl->max_auth_failures, err, errlen);
    if (!rc)
        rc = smtp_conf_bool(l, "reject_bare_eol", 1, &sl->reject_bare_eol, err, errlen);
    if (!rc)
        rc = smtp_conf_bool(l, "plus_folder", 1, &sl->plus_folder, err, errlen);
    if (!rc) /* the host does the lookup (declaring the key asks for it); checked here */
        rc = smtp_conf_bool(l, "reverse_dns", 1, &sl->reverse_dns, err, errlen);
    if (rc) {
        free(sl);
        return rc;
    }
    *data_r = sl;
    return 0;
}

static void smtp_listener_close(petrel_listener *l, void *data)
{
    (void)l;
    free(data);
}

/* ------------------------------------------------------------ sessions */

static int smtp_session_start(petrel_session *s, void **data_r)
{
    struct smtp_session *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return PETREL_ENOMEM;
    ss->cfg = smtp_host->listener_data(smtp_host->session_listener(s));
    ss->dsn_op = -1;
    *data_r = ss;
    smtp_host->set_max_line(s, SMTP_LINE_MAX);
    smtp_reply(s, "220 %s %s Petrel", smtp_host->hostname(),
               ss->cfg->mode == SMTP_MODE_LMTP ? "LMTP" : "ESMTP");
    return 0;
}

static void smtp_session_end(petrel_session *s, void *data)
{
    (void)s;
    struct smtp_session *ss = data;
    if (!ss)
        return;
    smtp_envelope_reset(ss);
    free(ss);
}

static void smtp_on_line(petrel_session *s, void *data, const char *line, size_t len,
                         unsigned flags)
{
    struct smtp_session *ss = data;
    switch (ss->state) {
    case SMTP_S_DATA:
        smtp_data_on_line(s, ss, line, len, flags);
        return;
    case SMTP_S_AUTH:
        smtp_auth_line(s, ss, line, len);
        return;
    case SMTP_S_QUIT:
    case SMTP_S_WAIT:
        return;
    default:
        break;
    }
    if (flags & PETREL_LINE_TOO_LONG) {
        smtp_reply(s, "500 5.5.2 Line too long (max %u bytes with CRLF)", SMTP_LINE_MAX + 2);
        smtp_error(s, ss);
        return;
    }
    struct smtp_cmd c;
    if (smtp_cmd_parse(line, len, &c)) {
        smtp_reply(s, "500 5.5.2 Syntax error");
        smtp_error(s, ss);
        return;
    }
    smtp_cmd_dispatch(s, ss, &c);
}

static void smtp_on_notify(petrel_session *s, void *data, int what)
{
    (void)data;
    if (what == PETREL_NOTIFY_IDLE)
        smtp_reply(s, "421 4.4.2 %s Idle for too long, closing connection",
                   smtp_host->hostname());
    else if (what == PETREL_NOTIFY_SHUTDOWN)
        smtp_reply(s, "421 4.3.2 %s Service shutting down, closing connection",
                   smtp_host->hostname());
}

static const char *smtp_refuse_line(petrel_listener *l)
{
    (void)l;
    return "421 4.7.0 Too many connections, try again later\r\n";
}

static const char *const smtp_keys[] = {
    "mode", "max_recipients", "max_errors", "max_auth_failures", "reject_bare_eol",
    "plus_folder", "reverse_dns", NULL,
};

static const struct petrel_plugin smtp_plugin = {
    .abi_version = PETREL_ABI_VERSION,
    .struct_size = sizeof(struct petrel_plugin),
    .name = "smtp",
    .version = "1.0",
    .config_keys = smtp_keys,
    .load = smtp_load,
    .listener_open = smtp_listener_open,
    .listener_close = smtp_listener_close,
    .session_start = smtp_session_start,
    .session_end = smtp_session_end,
    .on_line = smtp_on_line,
    .on_data = smtp_on_data,
    .on_notify = smtp_on_notify,
    .on_tls_done = smtp_on_tls_done,
    .on_auth_done = smtp_on_auth_done,
    .on_write_done = smtp_on_write_done,
    .refuse_line = smtp_refuse_line,
};

PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void)
{
    return &smtp_plugin;
}
