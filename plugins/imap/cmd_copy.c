/*
 * cmd_copy.c - COPY / UID COPY and MOVE / UID MOVE (RFC 6851) with COPYUID
 * (UIDPLUS, RFC 4315). One write with one operation per message.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

struct imap_copy {
    uint32_t *uids;
    uint32_t n;
    uint32_t dst_uidvalidity;
    int move;
    int uid_mode;
};

void imap_copy_free(struct imap_session *is)
{
    if (!is->copy) return;
    free(is->copy->uids);
    free(is->copy);
    is->copy = NULL;
}

static void copy_start(struct imap_session *is, int uid_mode, uint32_t a0, int move)
{
    struct imap_parser *p = is->p;
    char name[IMAP_MAX_NAME * 2];
    if (p->nargs != a0 + 2 || !imap_arg_is_string(&p->args[a0 + 1])) {
        imap_reply_bad(is, move ? "MOVE set mailbox" : "COPY set mailbox");
        return;
    }
    if (move && is->sel.readonly) {
        imap_reply(is, "NO", "[READ-ONLY] Mailbox is read-only");
        return;
    }
    struct imap_range *r;
    size_t nr;
    int rc = imap_seqset_resolve(is, &p->args[a0], uid_mode, &r, &nr);
    if (rc) {
        if (rc == -1)
            imap_reply_bad(is, "Invalid sequence set");
        else
            imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    if (imap_mailbox_arg(is, &p->args[a0 + 1], name, sizeof(name))) {
        free(r);
        return;
    }
    struct petrel_mailbox_info mb;
    if (imap_mailbox_find(is, name, "[TRYCREATE] No such mailbox", &mb)) {
        free(r);
        return;
    }
    size_t total = 0;
    for (size_t k = 0; k < nr; k++)
        total += (size_t)(r[k].hi - r[k].lo) + 1;
    struct imap_copy *c = calloc(1, sizeof(*c));
    petrel_write *w = NULL;
    if (c && total && (c->uids = calloc(total, sizeof(uint32_t)))) w = imap_host->write_new(is->s);
    for (size_t k = 0; w && k < nr; k++)
        for (uint32_t i = r[k].lo; i <= r[k].hi; i++) {
            uint32_t uid = imap_uidmap_uid_at(&is->sel.map, i + 1);
            c->uids[c->n++] = uid;
            if (move)
                imap_host->w_move(w, is->sel.id, uid, mb.id);
            else
                imap_host->w_copy(w, is->sel.id, uid, mb.id);
        }
    free(r);
    if (!w || imap_host->write_submit(w) != 0) {
        imap_host->write_free(&w);
        if (c) free(c->uids);
        free(c);
        if (total == 0)
            imap_reply(is, "OK", "%s%s completed", uid_mode ? "UID " : "", move ? "MOVE" : "COPY");
        else
            imap_reply(is, "NO", "[SERVERBUG] Cannot start the copy");
        return;
    }
    c->dst_uidvalidity = mb.uidvalidity;
    c->move = move;
    c->uid_mode = uid_mode;
    is->copy = c;
    is->pending = IMAP_PEND_COPY;
    is->mode = IMAP_MODE_WAIT;
}

/* A UID list as a compact set: "1:3,7". */
static void write_uid_set(struct imap_session *is, const uint32_t *u, uint32_t n)
{
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        while (j + 1 < n && u[j + 1] == u[j] + 1)
            j++;
        if (j > i)
            imap_host->writef(is->s, "%s%u:%u", i ? "," : "", u[i], u[j]);
        else
            imap_host->writef(is->s, "%s%u", i ? "," : "", u[i]);
        i = j + 1;
    }
}

void imap_copy_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    struct imap_copy *c = is->copy;
    const char *verb = c->move ? "MOVE" : "COPY", *uid = c->uid_mode ? "UID " : "";
    uint32_t *dst = calloc(c->n ? c->n : 1, sizeof(uint32_t));
    uint32_t ok = 0;
    int orc = rc;
    for (uint32_t k = 0; rc == 0 && dst && k < c->n; k++) {
        uint32_t nu = 0;
        int r1 = imap_host->w_result(w, (int)k, 0, &nu, NULL);
        if (r1 && !orc) orc = r1;
        if (r1 == 0) c->uids[ok] = c->uids[k], dst[ok++] = nu;
    }
    if (rc || !dst || ok == 0) {
        int e = rc ? rc : orc;
        free(dst);
        imap_copy_free(is);
        if (e == PETREL_EQUOTA || e == PETREL_ETENANTQUOTA)
            imap_reply(is, "NO", "[OVERQUOTA] Quota exceeded");
        else
            imap_reply(is, "NO", "[UNAVAILABLE] %s failed", verb);
        return;
    }
    /* MOVE: the COPYUID comes untagged, before the EXPUNGEs (RFC 6851) */
    imap_host->writef(is->s, "%s OK [COPYUID %u ", c->move ? "*" : is->p->tag, c->dst_uidvalidity);
    write_uid_set(is, c->uids, ok);
    imap_host->write(is->s, " ", 1);
    write_uid_set(is, dst, ok);
    free(dst);
    int move = c->move;
    imap_copy_free(is);
    if (move) {
        imap_host->writef(is->s, "] Moved\r\n");
        imap_selected_sync(is, 1);
        imap_reply(is, "OK", "%s%s completed", uid, verb);
    } else {
        imap_host->writef(is->s, "] %s%s completed\r\n", uid, verb);
    }
}

void imap_cmd_copy(struct imap_session *is)
{
    copy_start(is, 0, 0, 0);
}

void imap_cmd_move(struct imap_session *is)
{
    copy_start(is, 0, 0, 1);
}

void imap_uid_copy(struct imap_session *is, int move)
{
    copy_start(is, 1, 1, move);
}
