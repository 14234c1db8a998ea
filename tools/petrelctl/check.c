/*
 * check.c - petrelctl check [--repair]: store_check() over the whole store.
 * Exit 0 when the store is consistent (after a repair, when the second
 * check finds nothing), 1 when problems remain.
 */
#include <stdio.h>

#include "ctl.h"
#include "util/err.h"

struct check_ctx {
    ctl_t *c;
    out_json_t *w;
};

static void check_line(const char *problem, void *arg)
{
    struct check_ctx *x = arg;
    if (x->w)
        out_json_str(x->w, problem);
    else
        printf("%s\n", problem);
}

int cmd_check(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"repair", 0, NULL, 0}};
    struct check_ctx x = {.c = c};
    unsigned found = 0, left = 0;
    out_json_t w;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 1, 0, 0, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_store_existing(c, &st)) return CTL_FAIL;
    out_json_init(&w, stdout);
    if (c->json) {
        x.w = &w;
        out_json_obj_begin(&w);
        out_json_key(&w, "problems");
        out_json_arr_begin(&w);
    }
    rc = store_check(st, opts[0].set > 0, check_line, &x, &found);
    if (c->json) out_json_arr_end(&w);
    if (rc) {
        if (c->json) {
            out_json_obj_end(&w);
            out_json_done(&w);
        }
        return out_fail("check failed: %s", petrel_strerror(rc));
    }
    left = found;
    if (opts[0].set && found) {
        struct check_ctx again = {.c = c, .w = x.w};
        if (c->json) {
            out_json_key(&w, "remaining_problems");
            out_json_arr_begin(&w);
        } else {
            printf("repaired; checking again\n");
        }
        rc = store_check(st, 0, check_line, &again, &left);
        if (c->json) out_json_arr_end(&w);
        if (rc) return out_fail("check after repair failed: %s", petrel_strerror(rc));
    }
    if (c->json) {
        out_json_ku64(&w, "found", found);
        out_json_ku64(&w, "remaining", left);
        out_json_obj_end(&w);
        out_json_done(&w);
    } else if (left == 0) {
        printf(found ? "store is consistent after repairing %u problem%s\n"
                     : "store is consistent\n",
               found, found == 1 ? "" : "s");
    } else {
        printf("%u problem%s%s\n", left, left == 1 ? "" : "s",
               opts[0].set ? " remain after repair"
                           : " found (petrelctl check --repair fixes "
                             "what can be recomputed)");
    }
    return left ? CTL_FAIL : CTL_OK;
}
