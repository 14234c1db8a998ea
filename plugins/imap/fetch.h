/*
 * fetch.h - FETCH state: the requested items and the cursor of a response
 * streamed across on_writable callbacks. Owned by the session (is->fetch).
 */
#ifndef IMAP_FETCH_H
#define IMAP_FETCH_H

#include "imap_int.h"

#include <stdio.h>

#define FETCH_MAX_BODIES 16 /* BODY[...] items in one FETCH */
#define FETCH_MAX_FIELDS 64 /* HEADER.FIELDS names */
#define FETCH_CHUNK 65536   /* literal bytes written per step */

enum {
    FETCH_FLAGS = 1,
    FETCH_UID = 2,
    FETCH_DATE = 4,
    FETCH_SIZE = 8,
    FETCH_ENVELOPE = 16,
    FETCH_BODY = 32,
    FETCH_BODYSTRUCTURE = 64,
    FETCH_MODSEQ = 128,
};

enum { FETCH_BINARY = 1, FETCH_BINARY_SIZE = 2 };

struct fetch_body {
    char label[300]; /* the response's item name: BODY[HEADER.FIELDS (A B)]<0> */
    char part[64];   /* "1.2" or "" */
    int kind;        /* PETREL_SECTION_* */
    int fields;      /* 0, 1 HEADER.FIELDS, 2 HEADER.FIELDS.NOT */
    int peek;
    int binary; /* FETCH_BINARY (decoded content) or FETCH_BINARY_SIZE (RFC 3516) */
    int partial;
    uint64_t p_off, p_len;
    char namebuf[1024];
    const char *names[FETCH_MAX_FIELDS];
    size_t nnames;
};

struct imap_fetch {
    uint32_t items;
    int uid_mode;
    uint64_t changedsince; /* CHANGEDSINCE modifier: only messages with a greater modseq */
    int has_changedsince;  /* CHANGEDSINCE given (0 is a valid value) */
    int vanished;          /* VANISHED modifier (QRESYNC, RFC 7162 3.2.6) */
    struct fetch_body bodies[FETCH_MAX_BODIES];
    unsigned nbodies;
    struct imap_range *ranges; /* index ranges, inclusive */
    size_t nranges;
    size_t cur_range;
    uint32_t cur_idx;
    int cur_body;        /* -1: the message's response not started */
    uint64_t lit_off;    /* bytes of the current body literal already written */
    uint32_t *seen_uids; /* messages given \Seen by this FETCH (ascending) */
    uint32_t nseen;
};

/* 1 when some item is BINARY[..] or BINARY.SIZE[..]. */
int imap_fetch_has_binary(const struct imap_fetch *f);

/* Items from args[i] (an atom or a list) and optional modifiers after it:
 * (CHANGEDSINCE n [VANISHED]), in either order. 0 or -1. */
int imap_fetch_parse(struct imap_parser *p, uint32_t i, struct imap_fetch *f);

#endif
