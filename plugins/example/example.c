/*
 * example.c - a small, complete Petrel plugin: a line-based echo/time service.
 *
 * It shows everything a protocol plugin does: the exported entry point and
 * descriptor, a listener option, a greeting, a command table, STARTTLS, an
 * asynchronous login, a store read, goodbyes on idle and shutdown. It is
 * the template docs/plugin-abi.md walks through.
 *
 *   S: +OK petrel-example ready on mail.example.com
 *   C: ECHO hello            S: +OK hello
 *   C: TIME                  S: +OK 2026-11-26T12:00:00Z
 *   C: STARTTLS              S: +OK begin TLS       (then the TLS handshake)
 *   C: LOGIN user@dom pass   S: +OK logged in as user@dom
 *   C: WHOAMI                S: +OK user@dom
 *   C: COUNT                 S: +OK 3 messages in INBOX
 *   C: APPEND some text      S: +OK appended uid 4    (after the durable commit)
 *   C: WATCH                 S: +OK watching INBOX
 *                            S: * INBOX changed        (whenever INBOX changes)
 *   C: INFO                  S: +OK tls=TLSv1.3 peer=127.0.0.1
 *   C: QUIT                  S: +OK bye
 */
#include <petrel/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EXAMPLE_MAX_LINE 1024
#define EXAMPLE_MAX_ERRORS 10 /* bad commands before we hang up */

static const struct petrel_host *host;

/* Per-listener settings. */
struct example_listener {
    char greeting[128];
};

/* Per-session state. */
struct example_session {
    unsigned errors;
    int logged_in;
};

static int example_load(const struct petrel_host *h, char *err, size_t errlen)
{
    if (PETREL_ABI_MAJOR_OF(h->abi_version) != PETREL_ABI_MAJOR) {
        snprintf(err, errlen, "host ABI mismatch");
        return PETREL_EVERSION;
    }
    host = h;
    return 0;
}

static int example_listener_open(petrel_listener *l, void **data_r, char *err, size_t errlen)
{
    struct example_listener *el = calloc(1, sizeof(*el));
    if (!el) {
        snprintf(err, errlen, "out of memory");
        return PETREL_ENOMEM;
    }
    const char *g = host->config_get(l, "greeting", "petrel-example ready");
    if (strlen(g) >= sizeof(el->greeting) || strpbrk(g, "\r\n")) {
        snprintf(err, errlen, "greeting must be one line under %zu bytes", sizeof(el->greeting));
        free(el);
        return PETREL_EINVAL;
    }
    strcpy(el->greeting, g);
    *data_r = el;
    return 0;
}

static void example_listener_close(petrel_listener *l, void *data)
{
    (void)l;
    free(data);
}

static int example_session_start(petrel_session *s, void **data_r)
{
    struct example_session *es = calloc(1, sizeof(*es));
    if (!es)
        return PETREL_ENOMEM;
    *data_r = es;
    struct example_listener *el = host->listener_data(host->session_listener(s));
    host->set_max_line(s, EXAMPLE_MAX_LINE);
    host->writef(s, "+OK %s on %s\r\n", el->greeting, host->hostname());
    return 0;
}

static void example_session_end(petrel_session *s, void *data)
{
    (void)s;
    free(data);
}

/* ------------------------------------------------------------ commands */

static void cmd_echo(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)es;
    host->write(s, "+OK ", 4);
    host->write(s, arg, n);
    host->write(s, "\r\n", 2);
}

static void cmd_time(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)es, (void)arg, (void)n;
    char buf[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    host->writef(s, "+OK %s\r\n", buf);
}

static void cmd_starttls(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)es, (void)arg, (void)n;
    if (!host->tls_available(s)) {
        host->writef(s, "-ERR TLS not available\r\n");
        return;
    }
    host->writef(s, "+OK begin TLS\r\n");
    host->starttls(s);
}

static void cmd_login(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    char buf[EXAMPLE_MAX_LINE + 1];
    memcpy(buf, arg, n);
    buf[n] = '\0';
    char *pass = strchr(buf, ' ');
    if (es->logged_in || !pass) {
        host->writef(s, "-ERR %s\r\n", es->logged_in ? "already logged in" : "LOGIN user pass");
        return;
    }
    *pass++ = '\0';
    if (!host->plaintext_allowed(s)) {
        host->writef(s, "-ERR use STARTTLS first\r\n");
        return;
    }
    int rc = host->auth_plain(s, PETREL_PROTO_NONE, buf, pass);
    memset(buf, 0, sizeof(buf)); /* the password does not linger on our stack */
    if (rc == PETREL_EAGAIN) /* throttled: refused before any password check */
        host->writef(s, "-ERR try again later\r\n");
    else if (rc != PETREL_EPENDING)
        host->writef(s, "-ERR login failed\r\n");
    /* else: on_auth_done answers */
}

/* Commands after login: says so and returns 0 before it. */
static int example_logged_in(petrel_session *s, struct example_session *es)
{
    if (!es->logged_in)
        host->writef(s, "-ERR not logged in\r\n");
    return es->logged_in;
}

/* A store read: a short snapshot, never kept across callbacks. */
static int example_inbox(petrel_session *s, struct petrel_mailbox_info *mb)
{
    petrel_read *r = host->read_begin(s);
    mb->struct_size = sizeof(*mb);
    int rc = r ? host->mailbox_get(r, "INBOX", mb) : PETREL_EIO;
    host->read_end(&r);
    return rc;
}

static void cmd_whoami(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)arg, (void)n;
    if (!es->logged_in)
        host->writef(s, "-ERR not logged in\r\n");
    else
        host->writef(s, "+OK %s\r\n", host->session_user(s));
}

static void cmd_count(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)arg, (void)n;
    if (!example_logged_in(s, es))
        return;
    struct petrel_mailbox_info mb;
    int rc = example_inbox(s, &mb);
    if (rc)
        host->writef(s, "-ERR cannot read INBOX\r\n");
    else
        host->writef(s, "+OK %u messages in INBOX\r\n", mb.messages);
}

/* A store write: built, submitted, answered in on_write_done after the commit. */
static void cmd_append(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    if (!example_logged_in(s, es))
        return;
    struct petrel_mailbox_info mb;
    int rc = example_inbox(s, &mb);
    char msg[EXAMPLE_MAX_LINE + 64];
    int len = snprintf(msg, sizeof(msg), "Subject: example\r\n\r\n%.*s\r\n", (int)n, arg);
    petrel_write *w = rc ? NULL : host->write_new(s);
    if (!w || host->w_append(w, mb.id, msg, (size_t)len, 0, 0, NULL, 0) < 0 ||
        host->write_submit(w) != 0) {
        host->write_free(&w);
        host->writef(s, "-ERR cannot append now\r\n");
    }
    /* no answer yet: input is paused until on_write_done */
}

static void cmd_watch(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)arg, (void)n;
    if (!example_logged_in(s, es))
        return;
    struct petrel_mailbox_info mb;
    int rc = example_inbox(s, &mb);
    if (rc == 0)
        rc = host->watch(s, mb.id);
    host->writef(s, rc ? "-ERR cannot watch\r\n" : "+OK watching INBOX\r\n");
}

static void cmd_info(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)es, (void)arg, (void)n;
    const char *version = "none", *cipher = "";
    host->tls_info(s, &version, &cipher);
    host->writef(s, "+OK tls=%s peer=%s\r\n", version, host->peer_addr(s));
}

static void cmd_quit(petrel_session *s, struct example_session *es, const char *arg, size_t n)
{
    (void)es, (void)arg, (void)n;
    host->writef(s, "+OK bye\r\n");
    host->close(s);
}

static const struct example_cmd {
    const char *name;
    void (*run)(petrel_session *s, struct example_session *es, const char *arg, size_t n);
} example_cmds[] = {
    {"ECHO", cmd_echo},   {"TIME", cmd_time},     {"STARTTLS", cmd_starttls},
    {"LOGIN", cmd_login}, {"WHOAMI", cmd_whoami}, {"COUNT", cmd_count},
    {"INFO", cmd_info},   {"QUIT", cmd_quit},     {"APPEND", cmd_append},
    {"WATCH", cmd_watch},
};

static void example_on_line(petrel_session *s, void *data, const char *line, size_t len,
                            unsigned flags)
{
    struct example_session *es = data;
    if (flags & PETREL_LINE_TOO_LONG) {
        host->writef(s, "-ERR line too long\r\n");
        return;
    }
    size_t w = 0;
    while (w < len && line[w] != ' ')
        w++;
    const char *arg = w < len ? line + w + 1 : line + len;
    size_t arglen = w < len ? len - w - 1 : 0;
    for (size_t i = 0; i < sizeof(example_cmds) / sizeof(example_cmds[0]); i++) {
        if (strlen(example_cmds[i].name) == w && strncasecmp(example_cmds[i].name, line, w) == 0) {
            example_cmds[i].run(s, es, arg, arglen);
            return;
        }
    }
    if (++es->errors >= EXAMPLE_MAX_ERRORS) {
        host->writef(s, "-ERR too many errors, bye\r\n");
        host->close(s);
        return;
    }
    host->writef(s, "-ERR unknown command\r\n");
}

static void example_on_notify(petrel_session *s, void *data, int what)
{
    (void)data;
    if (what == PETREL_NOTIFY_MAILBOX)
        host->writef(s, "* INBOX changed\r\n");
    else if (what == PETREL_NOTIFY_IDLE)
        host->writef(s, "-ERR idle for too long, bye\r\n");
    else if (what == PETREL_NOTIFY_SHUTDOWN)
        host->writef(s, "-ERR server shutting down, bye\r\n");
}

static void example_on_tls_done(petrel_session *s, void *data, int rc)
{
    (void)data;
    host->log(s, PETREL_LOG_INFO, "event=example_tls ok=%d", rc == 0);
}

static void example_on_auth_done(petrel_session *s, void *data, int rc)
{
    struct example_session *es = data;
    if (rc == 0) {
        es->logged_in = 1;
        host->writef(s, "+OK logged in as %s\r\n", host->session_user(s));
    } else if (rc == PETREL_EAGAIN) {
        host->writef(s, "-ERR try again later\r\n");
    } else {
        host->writef(s, "-ERR login failed\r\n");
    }
}

static void example_on_write_done(petrel_session *s, void *data, petrel_write *w, int rc)
{
    (void)data;
    uint32_t uid = 0;
    if (rc == 0)
        rc = host->w_result(w, 0, 0, &uid, NULL);
    host->write_free(&w);
    if (rc == 0)
        host->writef(s, "+OK appended uid %u\r\n", uid);
    else if (rc == PETREL_EQUOTA || rc == PETREL_ETENANTQUOTA)
        host->writef(s, "-ERR over quota\r\n");
    else
        host->writef(s, "-ERR append failed\r\n");
}

static const char *example_refuse_line(petrel_listener *l)
{
    (void)l;
    return "-ERR too many connections, try later\r\n";
}

static const char *const example_keys[] = {"greeting", NULL};

static const struct petrel_plugin example_plugin = {
    .abi_version = PETREL_ABI_VERSION,
    .struct_size = sizeof(struct petrel_plugin),
    .name = "example",
    .version = "1.0",
    .config_keys = example_keys,
    .load = example_load,
    .listener_open = example_listener_open,
    .listener_close = example_listener_close,
    .session_start = example_session_start,
    .session_end = example_session_end,
    .on_line = example_on_line,
    .on_notify = example_on_notify,
    .on_tls_done = example_on_tls_done,
    .on_auth_done = example_on_auth_done,
    .on_write_done = example_on_write_done,
    .refuse_line = example_refuse_line,
};

PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void)
{
    return &example_plugin;
}
