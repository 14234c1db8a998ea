/*
 * queue.c - petrelctl queue list|show|delete: the outbound work items
 * (delivery status notifications to remote return paths, store_dsn_*).
 * Nothing sends them yet (no outbound relay): an operator sees and removes
 * them here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "util/str.h"

static const char *queue_action(uint32_t a)
{
    return a == STORE_DSN_DELIVERED ? "delivered" : a == STORE_DSN_FAILED ? "failed" : "?";
}

static const char *queue_ret(uint32_t r)
{
    return r == STORE_DSN_RET_FULL ? "FULL" : r == STORE_DSN_RET_HDRS ? "HDRS" : "";
}

static void queue_json_item(out_json_t *w, const store_dsn_t *d)
{
    out_json_obj_begin(w);
    out_json_ku64(w, "id", d->id);
    out_json_kstr(w, "kind", "dsn");
    out_json_kstr(w, "action", queue_action(d->action));
    out_json_kstr(w, "status", d->status);
    out_json_kstr(w, "return_path", d->return_path);
    out_json_kstr(w, "final_recipient", d->rcpt);
    out_json_kstr(w, "orcpt", d->orcpt[0] ? d->orcpt : NULL);
    out_json_kstr(w, "envid", d->envid[0] ? d->envid : NULL);
    out_json_kstr(w, "ret", d->ret ? queue_ret(d->ret) : NULL);
    out_json_ki64(w, "arrival", d->arrival);
    out_json_kstr(w, "reporting_mta", d->reporting_mta);
    out_json_kstr(w, "diagnostic", d->diagnostic[0] ? d->diagnostic : NULL);
    out_json_ku64(w, "size", d->size);
    out_json_obj_end(w);
}

struct queue_list_ctx {
    ctl_t *c;
    out_json_t w;
    unsigned n;
};

static int queue_list_one(const store_dsn_t *d, void *arg)
{
    struct queue_list_ctx *x = arg;
    x->n++;
    if (x->c->json) {
        queue_json_item(&x->w, d);
        return 0;
    }
    printf("%-8" PRIu64 " %-9s %-6s %-32s %s\n", d->id, queue_action(d->action), d->status,
           d->return_path, d->rcpt);
    return 0;
}

int cmd_queue_list(ctl_t *c, int argc, char **argv)
{
    struct queue_list_ctx x = {.c = c};
    store_txn_t *txn;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 0, 0, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_read(c, &txn)) return CTL_FAIL;
    out_json_init(&x.w, stdout);
    if (c->json)
        out_json_arr_begin(&x.w);
    else
        printf("%-8s %-9s %-6s %-32s %s\n", "ID", "ACTION", "STATUS", "TO (RETURN PATH)",
               "ABOUT (FINAL RECIPIENT)");
    rc = store_dsn_list(txn, queue_list_one, &x);
    store_txn_abort(&txn);
    if (c->json) {
        out_json_arr_end(&x.w);
        out_json_done(&x.w);
    }
    return rc < 0 ? ctl_store_fail(rc, "queue") : CTL_OK;
}

static int queue_id(ctl_t *c, const char *s, uint64_t *id_r)
{
    if (str_to_u64(s, strlen(s), id_r) || *id_r == 0)
        return ctl_usage(c, "'%s' is not a queue item id", s);
    return 0;
}

int cmd_queue_show(ctl_t *c, int argc, char **argv)
{
    store_txn_t *txn;
    store_dsn_t d;
    uint64_t id;
    args_t a;
    char what[64], t[64];
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (queue_id(c, a.pos[0], &id)) return CTL_USAGE;
    if (ctl_read(c, &txn)) return CTL_FAIL;
    rc = store_dsn_get(txn, id, &d);
    store_txn_abort(&txn);
    snprintf(what, sizeof(what), "queue item %" PRIu64, id);
    if (rc) return ctl_store_fail(rc, what);
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        queue_json_item(&w, &d);
        out_json_done(&w);
        return CTL_OK;
    }
    printf("id:              %" PRIu64 "\nkind:            dsn (RFC 3464 delivery status "
           "notification)\naction:          %s\nstatus:          %s\nreturn path:     %s\n"
           "final recipient: %s\n",
           d.id, queue_action(d.action), d.status, d.return_path, d.rcpt);
    if (d.orcpt[0]) printf("orcpt:           %s\n", d.orcpt);
    if (d.envid[0]) printf("envid:           %s\n", d.envid);
    if (d.ret) printf("ret:             %s\n", queue_ret(d.ret));
    if (d.diagnostic[0]) printf("diagnostic:      %s\n", d.diagnostic);
    printf("arrival:         %s\nreporting mta:   %s\nmessage size:    %" PRIu64 "\n",
           out_time(d.arrival, t, sizeof(t)), d.reporting_mta, d.size);
    return CTL_OK;
}

static int queue_del_run(store_txn_t *txn, void *arg)
{
    return store_dsn_del(txn, *(uint64_t *)arg);
}

int cmd_queue_delete(ctl_t *c, int argc, char **argv)
{
    store_t *st;
    uint64_t id;
    args_t a;
    char what[64];
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (queue_id(c, a.pos[0], &id)) return CTL_USAGE;
    if (ctl_store_existing(c, &st)) return CTL_FAIL;
    rc = store_write(st, queue_del_run, &id);
    snprintf(what, sizeof(what), "queue item %" PRIu64, id);
    if (rc) return ctl_store_fail(rc, what);
    printf("deleted queue item %" PRIu64 "\n", id);
    return CTL_OK;
}
