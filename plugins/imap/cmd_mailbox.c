/*
 * cmd_mailbox.c - CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS,
 * NAMESPACE; mailbox name conversion at the protocol edge.
 */
#include "imap_int.h"

#include <string.h>
#include <strings.h>

int imap_mailbox_arg(struct imap_session *is, const struct imap_arg *a, char *out, size_t cap)
{
    const char *s = imap_arg_str(is->p, a);
    if (!s || a->len == 0 || a->len >= IMAP_MAX_NAME || strlen(s) != a->len) {
        imap_reply(is, "NO", "[CANNOT] Invalid mailbox name");
        return -1;
    }
    if (imap_utf8_names(is)) { /* IMAP4rev2 / UTF8=ACCEPT: UTF-8 as it is */
        if (a->len >= cap || !imap_utf8_valid(s, a->len)) goto bad;
        memcpy(out, s, a->len + 1);
    } else if (imap_mutf7_to_utf8(s, a->len, out, cap)) {
        goto bad;
    }
    /* INBOX is case-insensitive, also as the parent of other names */
    if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
        memcpy(out, "INBOX", 5);
    return 0;
bad:
    imap_reply(is, "NO", "[CANNOT] Invalid mailbox name");
    return -1;
}

int imap_mailbox_find(struct imap_session *is, const char *name, const char *missing,
                      struct petrel_mailbox_info *mb_r)
{
    petrel_read *r = imap_host->read_begin(is->s);
    *mb_r = (struct petrel_mailbox_info){.struct_size = sizeof(*mb_r)};
    int rc = r ? imap_host->mailbox_get(r, name, mb_r) : PETREL_EIO;
    imap_host->read_end(&r);
    if (rc)
        imap_reply(is, "NO", "%s",
                   rc == PETREL_ENOTFOUND ? missing : "[UNAVAILABLE] Cannot open the mailbox");
    return rc ? -1 : 0;
}

struct imap_floor_find {
    uint32_t id;
    uint64_t floor;
    uint32_t uidnext;
};

uint64_t imap_floor_of(const struct petrel_mailbox_info *m)
{
    int has = m->struct_size >= offsetof(struct petrel_mailbox_info, vanished_floor) +
                                   sizeof(m->vanished_floor);
    return has ? m->vanished_floor : 0;
}

static int imap_floor_cb(const struct petrel_mailbox_info *m, void *arg)
{
    struct imap_floor_find *f = arg;
    if (m->id != f->id) return 0;
    f->floor = imap_floor_of(m);
    f->uidnext = m->uidnext;
    return 1;
}

uint64_t imap_vanished_floor(struct imap_session *is, petrel_read *r, uint32_t *uidnext_r)
{
    struct imap_floor_find f = {is->sel.id, UINT64_MAX, UINT32_MAX};
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    if (is->sel.name && imap_host->mailbox_get(r, is->sel.name, &mb) == 0 && mb.id == f.id)
        imap_floor_cb(&mb, &f);
    else /* renamed since SELECT: find it by id */
        imap_host->mailbox_list(r, imap_floor_cb, &f);
    if (uidnext_r) *uidnext_r = f.uidnext;
    return f.floor;
}

/* Submits w with one operation; imap_simple_write_done answers. */
static void imap_submit_simple(struct imap_session *is, petrel_write *w, int op)
{
    if (op < 0 || imap_host->write_submit(w) != 0) {
        imap_host->write_free(&w);
        imap_reply(is, "NO", "[SERVERBUG] Cannot start the change");
        return;
    }
    is->pending = IMAP_PEND_SIMPLE;
    is->mode = IMAP_MODE_WAIT;
}

static petrel_write *imap_write_new(struct imap_session *is)
{
    petrel_write *w = imap_host->write_new(is->s);
    if (!w) imap_reply(is, "NO", "[SERVERBUG] Out of memory");
    return w;
}

void imap_simple_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    if (rc == 0) rc = imap_host->w_result(w, 0, 0, NULL, NULL);
    switch (rc) {
    case 0:
        imap_reply(is, "OK", "%s completed", is->p->name);
        return;
    case PETREL_EEXIST:
        imap_reply(is, "NO", "[ALREADYEXISTS] Mailbox already exists");
        return;
    case PETREL_ENOTFOUND:
        imap_reply(is, "NO", "[NONEXISTENT] No such mailbox");
        return;
    case PETREL_EINVAL:
    case PETREL_EPERM:
        imap_reply(is, "NO", "[CANNOT] Not permitted for this mailbox");
        return;
    case PETREL_EQUOTA:
    case PETREL_ETENANTQUOTA:
        imap_reply(is, "NO", "[OVERQUOTA] Quota exceeded");
        return;
    default:
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_write_failed cmd=%s rc=%d", is->p->name,
                       rc);
        imap_reply(is, "NO", "[UNAVAILABLE] Temporary failure, try again");
    }
}

/* One mailbox-name argument, converted; -1 when a reply was sent. */
static int imap_one_name(struct imap_session *is, uint32_t nargs, char *name, size_t cap)
{
    if (is->p->nargs != nargs || !imap_arg_is_string(&is->p->args[0])) {
        imap_reply_bad(is, "Wrong arguments");
        return -1;
    }
    if (imap_mailbox_arg(is, &is->p->args[0], name, cap)) return -1;
    return 0;
}

/* CREATE-SPECIAL-USE (RFC 6154): "(USE (\Sent ...))" after the name -> PETREL_SU_* bits. */
static int imap_create_use(struct imap_session *is, uint32_t *su_r)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } su[] = {{"\\Sent", PETREL_SU_SENT},       {"\\Drafts", PETREL_SU_DRAFTS},
              {"\\Trash", PETREL_SU_TRASH},     {"\\Junk", PETREL_SU_JUNK},
              {"\\Archive", PETREL_SU_ARCHIVE}, {"\\All", PETREL_SU_ALL},
              {"\\Flagged", PETREL_SU_FLAGGED}};
    struct imap_parser *p = is->p;
    *su_r = 0;
    if (p->nargs == 1) return 0;
    /* args: name, (, USE, (, flags..., ) ) */
    if (p->args[1].type != IMAP_ARG_LIST || p->args[1].end != p->nargs || p->nargs < 4 ||
        !imap_arg_is_atom(p, &p->args[2], "USE") || p->args[3].type != IMAP_ARG_LIST ||
        p->args[3].end != p->nargs)
        return -1;
    for (uint32_t j = 4; j < p->nargs; j++) {
        size_t k = 0;
        while (k < sizeof(su) / sizeof(su[0]) && !imap_arg_is_atom(p, &p->args[j], su[k].name))
            k++;
        if (k == sizeof(su) / sizeof(su[0])) return -2;
        *su_r |= su[k].bit;
    }
    return 0;
}

void imap_cmd_create(struct imap_session *is)
{
    char name[IMAP_MAX_NAME * 2];
    uint32_t use = 0;
    if (is->p->nargs < 1 || !imap_arg_is_string(&is->p->args[0])) {
        imap_reply_bad(is, "CREATE mailbox [(USE (attributes))]");
        return;
    }
    int urc = imap_create_use(is, &use);
    if (urc == -1) {
        imap_reply_bad(is, "CREATE mailbox [(USE (attributes))]");
        return;
    }
    if (urc == -2) {
        imap_reply(is, "NO", "[USEATTR] Unsupported special-use attribute");
        return;
    }
    if (imap_mailbox_arg(is, &is->p->args[0], name, sizeof(name))) return;
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '/') /* "foo/" creates foo (RFC 3501 6.3.3) */
        name[n - 1] = '\0';
    if (strcmp(name, "INBOX") == 0) {
        imap_reply(is, "NO", "[ALREADYEXISTS] INBOX always exists");
        return;
    }
    petrel_write *w = imap_write_new(is);
    if (w) imap_submit_simple(is, w, imap_host->w_mailbox_create(w, name, use));
}

void imap_cmd_delete(struct imap_session *is)
{
    char name[IMAP_MAX_NAME * 2];
    if (imap_one_name(is, 1, name, sizeof(name))) return;
    if (strcmp(name, "INBOX") == 0) {
        imap_reply(is, "NO", "[CANNOT] INBOX cannot be deleted");
        return;
    }
    petrel_write *w = imap_write_new(is);
    if (w) imap_submit_simple(is, w, imap_host->w_mailbox_delete(w, name));
}

void imap_cmd_rename(struct imap_session *is)
{
    char from[IMAP_MAX_NAME * 2], to[IMAP_MAX_NAME * 2];
    struct imap_parser *p = is->p;
    if (p->nargs != 2 || !imap_arg_is_string(&p->args[0]) || !imap_arg_is_string(&p->args[1])) {
        imap_reply_bad(is, "RENAME from to");
        return;
    }
    if (imap_mailbox_arg(is, &p->args[0], from, sizeof(from)) ||
        imap_mailbox_arg(is, &p->args[1], to, sizeof(to)))
        return;
    petrel_write *w = imap_write_new(is);
    if (w) imap_submit_simple(is, w, imap_host->w_mailbox_rename(w, from, to));
}

static void imap_subscribe(struct imap_session *is, int on)
{
    char name[IMAP_MAX_NAME * 2];
    if (imap_one_name(is, 1, name, sizeof(name))) return;
    petrel_write *w = imap_write_new(is);
    if (w) imap_submit_simple(is, w, imap_host->w_subscribe(w, name, on));
}

void imap_cmd_subscribe(struct imap_session *is)
{
    imap_subscribe(is, 1);
}

void imap_cmd_unsubscribe(struct imap_session *is)
{
    imap_subscribe(is, 0);
}

void imap_cmd_namespace(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "NAMESPACE takes no arguments");
        return;
    }
    imap_host->writef(is->s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
    imap_reply(is, "OK", "NAMESPACE completed");
}

static int imap_count_cb(const struct petrel_msg_info *m, void *arg)
{
    (void)m;
    (*(uint32_t *)arg)++;
    return 0;
}

uint32_t imap_recent_count(petrel_read *r, const struct petrel_mailbox_info *mb)
{
    uint32_t n = 0;
    if (mb->first_recent_uid && mb->first_recent_uid < mb->uidnext)
        imap_host->msg_list(r, mb->id, mb->first_recent_uid, UINT32_MAX, imap_count_cb, &n);
    return n;
}

static int imap_deleted_bytes_cb(const struct petrel_msg_info *m, void *arg)
{
    if (m->flags & PETREL_F_DELETED)
        *(uint64_t *)arg += m->size;
    return 0;
}

/* STATUS DELETED-STORAGE (RFC 9208 section 4.2): the bytes EXPUNGE would free.
 * The store counts \Deleted messages but not their bytes, so a mailbox that
 * has some is walked (one pass over its message records, no message read). */
static uint64_t imap_deleted_storage(petrel_read *r, const struct petrel_mailbox_info *mb)
{
    uint64_t bytes = 0;
    if (mb->deleted > 0)
        imap_host->msg_list(r, mb->id, 1, UINT32_MAX, imap_deleted_bytes_cb, &bytes);
    return bytes;
}

/* STATUS items args[first, end) are atoms this plugin knows: 0, or -1. */
int imap_status_items_check(struct imap_session *is, uint32_t first, uint32_t end)
{
    struct imap_parser *p = is->p;
    static const char *const ok[] = {"MESSAGES", "RECENT",  "UIDNEXT",       "UIDVALIDITY",
                                     "UNSEEN",   "SIZE",    "DELETED",       "HIGHESTMODSEQ",
                                     "DELETED-STORAGE"};
    if (first >= end) return -1;
    for (uint32_t j = first; j < end; j++) {
        int known = 0;
        for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++)
            known |= imap_arg_is_atom(p, &p->args[j], ok[k]);
        if (!known) return -1;
        if (is->rev2 && imap_arg_is_atom(p, &p->args[j], "RECENT")) return -1; /* RFC 9051 */
        if (imap_arg_is_atom(p, &p->args[j], "HIGHESTMODSEQ")) imap_condstore_enable(is);
    }
    return 0;
}

void imap_status_write(struct imap_session *is, petrel_read *r,
                       const struct petrel_mailbox_info *mb, uint32_t first, uint32_t end)
{
    struct imap_parser *p = is->p;
    imap_host->write(is->s, "* STATUS ", 9);
    imap_write_mailbox(is, mb->name);
    imap_host->write(is->s, " (", 2);
    for (uint32_t j = first; j < end; j++) {
        const struct imap_arg *a = &p->args[j];
        const char *sep = j > first ? " " : "";
        if (imap_arg_is_atom(p, a, "MESSAGES"))
            imap_host->writef(is->s, "%sMESSAGES %u", sep, mb->messages);
        else if (imap_arg_is_atom(p, a, "RECENT"))
            imap_host->writef(is->s, "%sRECENT %u", sep, imap_recent_count(r, mb));
        else if (imap_arg_is_atom(p, a, "UIDNEXT"))
            imap_host->writef(is->s, "%sUIDNEXT %u", sep, mb->uidnext);
        else if (imap_arg_is_atom(p, a, "UIDVALIDITY"))
            imap_host->writef(is->s, "%sUIDVALIDITY %u", sep, mb->uidvalidity);
        else if (imap_arg_is_atom(p, a, "UNSEEN"))
            imap_host->writef(is->s, "%sUNSEEN %u", sep, mb->unseen);
        else if (imap_arg_is_atom(p, a, "SIZE"))
            imap_host->writef(is->s, "%sSIZE %llu", sep, (unsigned long long)mb->bytes);
        else if (imap_arg_is_atom(p, a, "HIGHESTMODSEQ"))
            imap_host->writef(is->s, "%sHIGHESTMODSEQ %llu", sep,
                              (unsigned long long)mb->highestmodseq);
        else if (imap_arg_is_atom(p, a, "DELETED-STORAGE"))
            imap_host->writef(is->s, "%sDELETED-STORAGE %llu", sep,
                              (unsigned long long)imap_deleted_storage(r, mb));
        else
            imap_host->writef(is->s, "%sDELETED %u", sep, mb->deleted);
    }
    imap_host->write(is->s, ")\r\n", 3);
}

void imap_cmd_status(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    char name[IMAP_MAX_NAME * 2];
    if (p->nargs < 2 || !imap_arg_is_string(&p->args[0]) || p->args[1].type != IMAP_ARG_LIST ||
        p->args[1].end != p->nargs || p->nargs == 2) {
        imap_reply_bad(is, "STATUS mailbox (items)");
        return;
    }
    if (imap_status_items_check(is, 2, p->nargs)) {
        imap_reply_bad(is, "Unknown STATUS item");
        return;
    }
    if (imap_mailbox_arg(is, &p->args[0], name, sizeof(name))) return;
    petrel_read *r = imap_host->read_begin(is->s);
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    int rc = r ? imap_host->mailbox_get(r, name, &mb) : PETREL_EIO;
    if (rc) {
        imap_host->read_end(&r);
        imap_reply(is, "NO",
                   rc == PETREL_ENOTFOUND ? "[NONEXISTENT] No such mailbox"
                                          : "[UNAVAILABLE] Cannot read the mailbox");
        return;
    }
    imap_status_write(is, r, &mb, 2, p->nargs);
    imap_host->read_end(&r);
    imap_reply(is, "OK", "STATUS completed");
}
