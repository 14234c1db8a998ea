/* test_server_conn.c - core/server/conn.c + listener.c over real loopback sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server_test_util.h"

#include <malloc.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TS_ASAN 1
#endif
#endif
#ifdef TS_ASAN
/* from the sanitizer runtime (gcc ships no header for it) */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}
#endif

static void expect_line(int fd, const char *want)
{
    char buf[512];
    assert_true(tc_line(fd, buf, sizeof(buf)) >= 0);
    assert_string_equal(buf, want);
}

static void test_line_framing(void **state)
{
    (void)state;
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    assert_non_null(srv);
    int fd = tc_connect(srv->port, NULL);
    assert_true(fd >= 0);
    /* many lines in one packet, CRLF and bare LF, an empty line */
    assert_int_equal(tc_send(fd, "one\r\ntwo\nthree\r\n\r\n"), 0);
    expect_line(fd, "L 1 one");
    expect_line(fd, "L 0 two");
    expect_line(fd, "L 1 three");
    expect_line(fd, "L 1 ");
    /* a line split across reads, CR and LF in different packets */
    assert_int_equal(tc_send(fd, "spl"), 0);
    ts_sleep_ms(30);
    assert_int_equal(tc_send(fd, "it\r"), 0);
    ts_sleep_ms(30);
    assert_int_equal(tc_send(fd, "\nnext\n"), 0);
    expect_line(fd, "L 1 split");
    expect_line(fd, "L 0 next");
    close(fd);
    ts_stop(&srv);
}

static void test_line_too_long(void **state)
{
    (void)state;
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    set.max_line = 100;
    struct ts_server *srv = ts_start(&set, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    char big[6000];
    /* complete line of 101 bytes: too long, reported once */
    memset(big, 'a', 101);
    memcpy(big + 101, "\nok\r\n", 6);
    assert_int_equal(tc_send(fd, big), 0);
    expect_line(fd, "TOOLONG 100");
    expect_line(fd, "L 1 ok");
    /* no newline and the buffer full: reported once, rest discarded to LF */
    memset(big, 'b', 5000);
    big[5000] = '\0';
    assert_int_equal(tc_send(fd, big), 0);
    expect_line(fd, "OVERFLOW 100");
    ts_sleep_ms(30);
    assert_int_equal(tc_send(fd, big), 0); /* still the same line: silently dropped */
    assert_int_equal(tc_send(fd, "tail\r\nafter\r\n"), 0);
    expect_line(fd, "L 1 after");
    close(fd);
    ts_stop(&srv);
}

static void test_raw_then_line_same_packet(void **state)
{
    (void)state;
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    /* the raw bytes contain CRLF (must not be framed) and a line follows at once */
    assert_int_equal(tc_send(fd, "RAW 7\r\nab\r\ncdeNEXT\r\n"), 0);
    expect_line(fd, "+ go");
    expect_line(fd, "RAW ab");
    expect_line(fd, "cde"); /* "ab\r\ncde" was raw: the echo holds its CRLF */
    expect_line(fd, "L 1 NEXT");
    /* raw split across packets */
    assert_int_equal(tc_send(fd, "RAW 6\r\nxyz"), 0);
    expect_line(fd, "+ go");
    ts_sleep_ms(30);
    assert_int_equal(tc_send(fd, "uvwafter\n"), 0);
    expect_line(fd, "RAW xyzuvw");
    expect_line(fd, "L 0 after");
    close(fd);
    ts_stop(&srv);
}

static void test_pause_keeps_pipelined_input(void **state)
{
    (void)state;
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    uint64_t t0 = srv_clock_ms();
    assert_int_equal(tc_send(fd, "PAUSE 150\r\nA\r\nB\r\nPAUSE 50\r\nC\r\n"), 0);
    expect_line(fd, "PAUSED");
    expect_line(fd, "L 1 A");
    assert_true(srv_clock_ms() - t0 >= 140); /* A was held until resume */
    expect_line(fd, "L 1 B");
    expect_line(fd, "PAUSED");
    expect_line(fd, "L 1 C");
    assert_int_equal(atomic_load(&srv->lines), 5);
    close(fd);
    ts_stop(&srv);
}

/* Input that arrives while paused waits for the resume, and the wait does not spin
 * (a pause keeps the read interest until input comes, then drops it). */
static void test_pause_input_arriving_later(void **state)
{
    (void)state;
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    uint64_t t0 = srv_clock_ms();
    assert_int_equal(tc_send(fd, "PAUSE 300\r\n"), 0);
    expect_line(fd, "PAUSED");
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    assert_int_equal(tc_send(fd, "A\r\n"), 0);
    expect_line(fd, "L 1 A");
    getrusage(RUSAGE_SELF, &ru1);
    assert_true(srv_clock_ms() - t0 >= 290); /* A was held until the resume */
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                          ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                          ru0.ru_stime.tv_usec) / 1e6;
    assert_true(cpu < 0.15); /* a level-triggered spin would burn the whole pause */
    /* and the connection reads normally again */
    assert_int_equal(tc_send(fd, "B\r\n"), 0);
    expect_line(fd, "L 1 B");
    assert_int_equal(atomic_load(&srv->lines), 3);
    close(fd);
    ts_stop(&srv);
}

static void test_backpressure_bounded(void **state)
{
    (void)state;
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    set.out_high = 64 * 1024;
    set.out_low = 16 * 1024;
    set.out_max = 256 * 1024;
    struct ts_server *srv = ts_start(&set, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    int small = 16 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    const uint64_t total = 16u * 1024 * 1024; /* 64x out_max */
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "BIG %llu\r\n", (unsigned long long)total);
    assert_int_equal(tc_send(fd, cmd), 0);
    /* the client reads nothing: the server fills the kernel, then its buffer */
    for (int i = 0; i < 300 && atomic_load(&srv->max_out) < set.out_high; i++)
        ts_sleep_ms(10);
    assert_true(atomic_load(&srv->max_out) >= set.out_high);
    ts_sleep_ms(50);
    /* input is no longer read: pipelined lines are not delivered */
    unsigned before = atomic_load(&srv->lines);
    assert_int_equal(tc_send(fd, "ping\r\n"), 0);
    ts_sleep_ms(100);
    assert_int_equal(atomic_load(&srv->lines), before);
    assert_true(atomic_load(&srv->max_out) <= set.out_high + 8192);
    /* now read everything: all bytes arrive, then the held line is served */
    static char rb[65536];
    uint64_t got = 0;
    while (got < total) {
        ssize_t r = recv(fd, rb, sizeof(rb) < total - got ? sizeof(rb) : (size_t)(total - got), 0);
        assert_true(r > 0);
        for (ssize_t i = 0; i < r; i++)
            if (rb[i] != 'x')
                fail_msg("unexpected byte at %llu", (unsigned long long)(got + (uint64_t)i));
        got += (uint64_t)r;
    }
    expect_line(fd, "L 1 ping");
    assert_true(atomic_load(&srv->max_out) <= set.out_high + 8192);
    close(fd);
    ts_stop(&srv);
}

static void test_output_hard_max_closes(void **state)
{
    (void)state;
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    set.out_high = 32 * 1024;
    set.out_low = 8 * 1024;
    set.out_max = 128 * 1024;
    struct ts_server *srv = ts_start(&set, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    assert_int_equal(tc_send(fd, "FLOOD 100000000\r\n"), 0);
    static char rb[65536];
    size_t got = 0;
    for (;;) {
        ssize_t r = recv(fd, rb, sizeof(rb), 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    assert_true(got <= set.out_max);
    for (int i = 0; i < 100 && atomic_load(&srv->closes) == 0; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->last_close_reason), SRV_CLOSE_OVERFLOW);
    assert_true(atomic_load(&srv->max_out) <= set.out_max);
    close(fd);
    ts_stop(&srv);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    /* wide margins: a loaded CI machine (sanitizers, -j2) may stall a thread for
     * a few hundred ms, which must not look like idleness */
    set.idle_ms = 1200;
    struct ts_server *srv = ts_start(&set, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    uint64_t t0 = srv_clock_ms();
    for (int i = 0; i < 3; i++) { /* activity keeps it alive past 1200 ms */
        ts_sleep_ms(500);
        assert_int_equal(tc_send(fd, "x\r\n"), 0);
        expect_line(fd, "L 1 x");
    }
    expect_line(fd, "TIMEOUT idle"); /* goodbye is flushed before the close */
    uint64_t took = srv_clock_ms() - t0;
    assert_true(took >= 1500 + 1190);
    char buf[16];
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0); /* EOF */
    for (int i = 0; i < 100 && atomic_load(&srv->closes) == 0; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->last_close_reason), SRV_CLOSE_IDLE);
    close(fd);
    ts_stop(&srv);
}

static void test_session_timeout(void **state)
{
    (void)state;
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    set.idle_ms = 1000;
    set.session_ms = 400;
    struct ts_server *srv = ts_start(&set, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    uint64_t t0 = srv_clock_ms();
    for (int i = 0; i < 2; i++) { /* activity does not extend a session timeout */
        ts_sleep_ms(50);
        assert_int_equal(tc_send(fd, "x\r\n"), 0);
        expect_line(fd, "L 1 x");
    }
    expect_line(fd, "TIMEOUT session");
    uint64_t took = srv_clock_ms() - t0;
    assert_true(took >= 390 && took < 1500);
    for (int i = 0; i < 100 && atomic_load(&srv->closes) == 0; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->last_close_reason), SRV_CLOSE_SESSION);
    close(fd);
    ts_stop(&srv);
}

/* A client that never reads: the goodbye cannot be flushed; the close gives
 * up after flush_ms and memory stayed bounded meanwhile. */
static void test_flush_timeout_non_reader(void **state)
{
    (void)state;
    srv_conn_settings_t set;
    srv_conn_settings_default(&set);
    set.out_high = 32 * 1024;
    set.out_low = 8 * 1024;
    set.out_max = 128 * 1024;
    set.idle_ms = 200;
    set.flush_ms = 200;
    struct ts_server *srv = ts_start(&set, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    uint64_t t0 = srv_clock_ms();
    assert_int_equal(tc_send(fd, "BIG 100000000\r\n"), 0);
    for (int i = 0; i < 300 && atomic_load(&srv->closes) == 0; i++)
        ts_sleep_ms(10);
    uint64_t took = srv_clock_ms() - t0;
    assert_int_equal(atomic_load(&srv->closes), 1);
    /* normally the goodbye cannot drain (FLUSH_TIMEOUT); the kernel may
     * still take our backlog when it grows its send buffer late (IDLE) */
    int why = atomic_load(&srv->last_close_reason);
    assert_true(why == SRV_CLOSE_FLUSH_TIMEOUT || why == SRV_CLOSE_IDLE);
    assert_true(took >= 190 && took < 2000); /* idle 200 (+ flush 200) */
    assert_true(atomic_load(&srv->max_out) <= set.out_high + 8192);
    close(fd);
    ts_stop(&srv);
}

static void test_quit_flushes_and_eof(void **state)
{
    (void)state;
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    int fd = tc_connect(srv->port, NULL);
    assert_int_equal(tc_send(fd, "INFO\r\nQUIT\r\nNOTSEEN\r\n"), 0);
    expect_line(fd, "INFO tls=0 version=- cipher=- loopback=1");
    expect_line(fd, "BYE");
    char buf[16];
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
    close(fd);
    /* client EOF after a pipelined command: the command is still served */
    fd = tc_connect(srv->port, NULL);
    assert_int_equal(tc_send(fd, "last\r\n"), 0);
    shutdown(fd, SHUT_WR);
    expect_line(fd, "L 1 last");
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
    close(fd);
    for (int i = 0; i < 100 && atomic_load(&srv->closes) < 2; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->closes), 2);
    assert_int_equal(atomic_load(&srv->last_close_reason), SRV_CLOSE_EOF);
    ts_stop(&srv);
}

static void test_connection_limits(void **state)
{
    (void)state;
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 3, 2);
    char buf[64];
    int a = tc_connect(srv->port, "127.0.0.1");
    int b = tc_connect(srv->port, "127.0.0.1");
    assert_int_equal(tc_send(a, "a\r\n"), 0);
    expect_line(a, "L 1 a");
    assert_int_equal(tc_send(b, "b\r\n"), 0);
    expect_line(b, "L 1 b");
    int c = tc_connect(srv->port, "127.0.0.1"); /* third from the same address */
    assert_true(tc_line(c, buf, sizeof(buf)) >= 0);
    assert_string_equal(buf, "TOO MANY ip");
    assert_int_equal(tc_line(c, buf, sizeof(buf)), -1); /* then closed */
    close(c);
    int d = tc_connect(srv->port, "127.0.0.2"); /* another address: accepted */
    assert_int_equal(tc_send(d, "d\r\n"), 0);
    expect_line(d, "L 1 d");
    int e = tc_connect(srv->port, "127.0.0.3"); /* over the total */
    assert_true(tc_line(e, buf, sizeof(buf)) >= 0);
    assert_string_equal(buf, "TOO MANY total");
    close(e);
    /* a slot is given back when a connection closes */
    close(a);
    srv_limits_key_t k;
    struct sockaddr_storage ss = {0};
    ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &((struct sockaddr_in *)&ss)->sin_addr);
    srv_limits_key_from(&ss, &k);
    for (int i = 0; i < 200 && srv_limits_count(srv->limits, &k) != 1; i++)
        ts_sleep_ms(10);
    assert_int_equal(srv_limits_count(srv->limits, &k), 1);
    int f = tc_connect(srv->port, "127.0.0.1");
    assert_int_equal(tc_send(f, "f\r\n"), 0);
    expect_line(f, "L 1 f");
    close(b);
    close(d);
    close(f);
    for (int i = 0; i < 200 && srv_limits_total(srv->limits) != 0; i++)
        ts_sleep_ms(10);
    assert_int_equal(srv_limits_total(srv->limits), 0);
    ts_stop(&srv);
}

static void test_addr_parse_and_v6_bind(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(srv_addr_parse("127.0.0.1:2143", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 2143);
    assert_int_equal(srv_addr_parse("[::1]:2143", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(srv_addr_parse("0.0.0.0:143", &ss, &len), 0);
    assert_int_equal(srv_addr_parse("[::]:143", &ss, &len), 0);
    assert_int_equal(srv_addr_parse("::1:143", &ss, &len), PETREL_EINVAL);
    assert_int_equal(srv_addr_parse("127.0.0.1:70000", &ss, &len), PETREL_EINVAL);
    assert_int_equal(srv_addr_parse("127.0.0.1", &ss, &len), PETREL_EINVAL);
    assert_int_equal(srv_addr_parse("[::1]143", &ss, &len), PETREL_EINVAL);
    /* v4 and v6 on the same port, several SO_REUSEPORT sockets each */
    srv_listener_t *l4 = NULL, *l6 = NULL;
    srv_listener_cfg_t c4 = {.name = "v4", .address = "127.0.0.1:0", .nsockets = 2};
    assert_int_equal(srv_listener_bind(&c4, &l4), 0);
    char a6[32];
    snprintf(a6, sizeof(a6), "[::1]:%u", srv_listener_port(l4));
    srv_listener_cfg_t c6 = {.name = "v6", .address = a6, .nsockets = 2};
    int rc = srv_listener_bind(&c6, &l6);
    if (rc == 0) /* the machine may lack IPv6 loopback; then EIO is the right answer */
        assert_int_equal(srv_listener_port(l6), srv_listener_port(l4));
    else
        assert_int_equal(rc, PETREL_EIO);
    srv_listener_free(&l6);
    srv_listener_free(&l4);
    assert_null(l4);
}

/* [::1] with IPV6_V6ONLY: served over IPv6, loopback detected, and the
 * IPv4 side of the port is not taken. */
static void test_ipv6_listener(void **state)
{
    (void)state;
    ts_address = "[::1]:0";
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    ts_address = NULL;
    assert_non_null(srv);
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(srv->port)};
    sa.sin6_addr = in6addr_loopback;
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(tc_send(fd, "INFO\r\n"), 0);
    expect_line(fd, "INFO tls=0 version=- cipher=- loopback=1");
    close(fd);
    /* IPV6_V6ONLY: with "[::]:P" bound (never connected to), a plain IPv4
     * socket without SO_REUSE* can still bind 0.0.0.0:P; a dual-stack
     * socket would make that EADDRINUSE */
    srv_listener_t *l6 = NULL;
    srv_listener_cfg_t c6 = {.name = "any6", .address = "[::]:0", .nsockets = 1};
    assert_int_equal(srv_listener_bind(&c6, &l6), 0);
    int s4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(srv_listener_port(l6))};
    assert_int_equal(bind(s4, (struct sockaddr *)&a4, sizeof(a4)), 0);
    close(s4);
    srv_listener_free(&l6);
    ts_stop(&srv);
}

static srv_loop_t *spread_loops[2];
static atomic_uint spread_count[2];

static void spread_accept(void *ud, srv_loop_t *loop, const srv_accept_t *a)
{
    for (int i = 0; i < 2; i++)
        if (loop == spread_loops[i]) atomic_fetch_add(&spread_count[i], 1);
    ts_on_accept(ud, loop, a);
}

/* Two workers, one SO_REUSEPORT socket each: connections land on both loops
 * and each is served by the loop that accepted it. */
static void test_workers_spread_accepts(void **state)
{
    (void)state;
    enum { N = 24 };
    struct ts_server *srv = calloc(1, sizeof(*srv));
    ts_current = srv;
    srv_conn_settings_default(&srv->set);
    srv_workers_t *w = NULL;
    assert_int_equal(srv_workers_start(2, &w), 0);
    spread_loops[0] = srv_workers_loop(w, 0);
    spread_loops[1] = srv_workers_loop(w, 1);
    srv_listener_t *l = NULL;
    srv_listener_cfg_t cfg = {.name = "spread", .address = "127.0.0.1:0", .nsockets = 2};
    assert_int_equal(srv_listener_bind(&cfg, &l), 0);
    static const srv_listener_cbs_t cbs = {spread_accept, ts_on_refuse};
    assert_int_equal(srv_listener_start(l, spread_loops, 2, NULL, &cbs, srv), 0);
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = tc_connect(srv_listener_port(l), NULL);
        assert_int_equal(tc_send(fds[i], "hi\r\n"), 0);
        expect_line(fds[i], "L 1 hi");
    }
    assert_int_equal(atomic_load(&spread_count[0]) + atomic_load(&spread_count[1]), N);
    assert_true(atomic_load(&spread_count[0]) > 0);
    assert_true(atomic_load(&spread_count[1]) > 0);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    for (int i = 0; i < 300 && atomic_load(&srv->closes) != N; i++)
        ts_sleep_ms(10);
    assert_int_equal(atomic_load(&srv->closes), N);
    srv_listener_stop(l); /* posted to each loop */
    srv_workers_stop(&w);
    srv_listener_free(&l);
    free(srv);
    ts_current = NULL;
}

static void test_conn_size_budget(void **state)
{
    (void)state;
    print_message("sizeof(struct srv_conn) = %zu\n", srv_conn_sizeof());
    assert_true(srv_conn_sizeof() <= 512);
}

/* Server-side heap per idle plain connection (conn + the test's session),
 * measured with one malloc arena so every thread's allocations are seen. */
static void test_idle_footprint(void **state)
{
    (void)state;
    enum { N = 200 };
    static int fds[N];
    struct ts_server *srv = ts_start(NULL, SRV_TLS_NONE, NULL, 0, 0);
    /* warm up: one connection grows the loop's timer heap etc. */
    int w = tc_connect(srv->port, NULL);
    assert_int_equal(tc_send(w, "w\r\n"), 0);
    expect_line(w, "L 1 w");
    ts_sleep_ms(50);
    size_t before = heap_in_use();
    for (int i = 0; i < N; i++) {
        fds[i] = tc_connect(srv->port, NULL);
        assert_true(fds[i] >= 0);
        assert_int_equal(tc_send(fds[i], "hello\r\n"), 0); /* buffers used, then released */
        expect_line(fds[i], "L 1 hello");
    }
    ts_sleep_ms(50);
    size_t after = heap_in_use();
    size_t per = (after - before) / N;
    print_message("idle plain connection: %zu bytes of heap (struct srv_conn %zu)\n", per,
                  srv_conn_sizeof());
    assert_true(after > before);
    assert_true(per < 2048);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    close(w);
    ts_stop(&srv);
}

int main(void)
{
    mallopt(M_ARENA_MAX, 1); /* before any thread: the footprint test sees every allocation */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_framing),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_raw_then_line_same_packet),
        cmocka_unit_test(test_pause_keeps_pipelined_input),
        cmocka_unit_test(test_pause_input_arriving_later),
        cmocka_unit_test(test_backpressure_bounded),
        cmocka_unit_test(test_output_hard_max_closes),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_session_timeout),
        cmocka_unit_test(test_flush_timeout_non_reader),
        cmocka_unit_test(test_quit_flushes_and_eof),
        cmocka_unit_test(test_connection_limits),
        cmocka_unit_test(test_addr_parse_and_v6_bind),
        cmocka_unit_test(test_ipv6_listener),
        cmocka_unit_test(test_workers_spread_accepts),
        cmocka_unit_test(test_conn_size_budget),
        cmocka_unit_test(test_idle_footprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
