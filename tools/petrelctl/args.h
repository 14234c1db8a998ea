/*
 * args.h - petrelctl's argument parsing and value parsers. Pure: no I/O, no
 * store; unit-tested in tests/unit/test_petrelctl_args.c.
 *
 * Every parser returns 0 or PETREL_EINVAL; on error nothing is written to
 * the out-parameters. Error texts go to a caller-supplied buffer.
 */
#ifndef PETRELCTL_ARGS_H
#define PETRELCTL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#define ARGS_POS_MAX 16

/* One long option a command accepts: "--name" or "--name VALUE" / "--name=VALUE". */
typedef struct args_opt {
    const char *name;  /* without the leading "--" */
    int has_arg;       /* 1: takes a value */
    const char *value; /* set by args_parse: the (last) value given, or NULL */
    int set;           /* set by args_parse: how many times it was given */
} args_opt_t;

typedef struct args {
    const char *pos[ARGS_POS_MAX]; /* positional arguments, pointers into argv */
    int npos;
    int help; /* --help or -h was given */
} args_t;

/*
 * Parses argv[0..argc) against opts (flags are reset first). "--" ends the
 * options. Errors (PETREL_EINVAL, text in err): an unknown option, a missing
 * value, a value given to a flag, more than ARGS_POS_MAX positionals.
 */
int args_parse(int argc, char *const *argv, args_opt_t *opts, size_t nopts, args_t *a, char *err,
               size_t errlen);
/* The option called name in opts, or NULL. */
args_opt_t *args_find(args_opt_t *opts, size_t nopts, const char *name);

/*
 * SIZE: bytes ("1048576", "1048576B") or a number with a binary suffix K, M,
 * G, T (powers of 1024, optional "B" or "iB", any case), with an optional
 * decimal fraction: "500M", "2G", "1.5T", "0.5k". Overflow is an error.
 */
int args_parse_size(const char *s, uint64_t *bytes_r);
/* As args_parse_size, but "unlimited" (any case) and "0" give 0 (the store's "no limit"). */
int args_parse_quota(const char *s, uint64_t *bytes_r);
/* A plain decimal count ("unlimited" gives 0 when allow_unlimited). */
int args_parse_count(const char *s, int allow_unlimited, uint64_t *n_r);

/*
 * DATE, as a unix time (UTC): "YYYY-MM-DD" (midnight), "YYYY-MM-DDTHH:MM[:SS][Z]"
 * (a space may replace the T), "@UNIXTIME", or an age relative to now:
 * "30d", "12h", "2w" (now - age). now is passed in for testability.
 */
int args_parse_date(const char *s, int64_t now, int64_t *t_r);

/* "smtp,pop3,imap" (any case, any order, "all", "none") -> STORE_PROTO_* bits. */
int args_parse_protocols(const char *s, uint32_t *bits_r);
/* Bits -> "smtp,pop3,imap" ("none" for 0). Returns dst. */
char *args_format_protocols(uint32_t bits, char *dst, size_t dstsize);

/*
 * FLAGS for deliver: names separated by commas or spaces, with or without a
 * leading backslash, any case: seen, answered, flagged, deleted, draft. Any
 * other word is an IMAP keyword: up to kwmax pointers into kwbuf (a copy of
 * s, split in place) go to kws_r. Keywords must be atoms (no spaces or
 * specials); a word beginning with '\' that is no system flag is an error.
 */
#define ARGS_KEYWORDS_MAX 32
int args_parse_flags(const char *s, uint32_t *flags_r, char *kwbuf, size_t kwbufsize,
                     const char **kws_r, size_t kwmax, size_t *nkw_r);

/* Formats bytes for humans: "512 B", "1.5 KiB", "2.0 GiB". Returns dst. */
char *args_format_size(uint64_t bytes, char *dst, size_t dstsize);

#endif
