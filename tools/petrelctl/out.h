/*
 * out.h - petrelctl's output: a small streaming JSON writer (for --json) and
 * the one-line error/warning helpers. The JSON writer has no I/O state but
 * its FILE*; nesting is bounded by OUT_JSON_DEPTH_MAX (deeper calls are
 * ignored and flagged in w->err).
 */
#ifndef PETRELCTL_OUT_H
#define PETRELCTL_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OUT_JSON_DEPTH_MAX 16

typedef struct out_json {
    FILE *f;
    int depth;
    int count[OUT_JSON_DEPTH_MAX]; /* values written at each level, for commas */
    int after_key;                 /* a key was just written: no comma before the value */
    int err;
} out_json_t;

void out_json_init(out_json_t *w, FILE *f);
void out_json_obj_begin(out_json_t *w);
void out_json_obj_end(out_json_t *w);
void out_json_arr_begin(out_json_t *w);
void out_json_arr_end(out_json_t *w);
void out_json_key(out_json_t *w, const char *key);
/* A JSON string from n bytes (control characters and invalid UTF-8 escaped as \u00XX). */
void out_json_strn(out_json_t *w, const char *s, size_t n);
void out_json_str(out_json_t *w, const char *s); /* NULL writes null */
void out_json_u64(out_json_t *w, uint64_t v);
void out_json_i64(out_json_t *w, int64_t v);
void out_json_bool(out_json_t *w, int v);
void out_json_null(out_json_t *w);
/* Shorthands: key + value. */
void out_json_kstr(out_json_t *w, const char *key, const char *s);
void out_json_ku64(out_json_t *w, const char *key, uint64_t v);
void out_json_ki64(out_json_t *w, const char *key, int64_t v);
void out_json_kbool(out_json_t *w, const char *key, int v);
/* Ends the document with a newline. */
void out_json_done(out_json_t *w);

/* "2026-11-26T12:57:17Z", or "never" for 0. Returns dst. */
char *out_time(int64_t t, char *dst, size_t dstsize);

/* "petrelctl: <message>" on stderr, one line; returns 1 (the failure exit code). */
int out_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "petrelctl: warning: <message>" on stderr. */
void out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
