/*
 * log.h - one line per event, key=value, to stderr or a log file.
 *
 *   log_info("event=store_open path=%s maps=%zu", path, size);
 *
 * Lines carry a timestamp and level; callers supply the key=value body.
 * Never log a password, token or message body. Thread-safe: each line is
 * written with one write(2).
 */
#ifndef PETREL_UTIL_LOG_H
#define PETREL_UTIL_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* Sends log lines to fd (default 2). Not thread-safe: call at start-up. */
void log_set_fd(int fd);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);

void log_write(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level lvl, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_write(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_LVL_ERROR, __VA_ARGS__)

#endif
