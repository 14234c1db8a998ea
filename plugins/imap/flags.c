/*
 * flags.c - flag lists of APPEND and STORE: system flags to PETREL_F_* bits,
 * keywords checked (atoms, bounded) and returned as pointers into the parser.
 */
#include "imap_int.h"

#include <string.h>
#include <strings.h>

int imap_flags_parse(struct imap_session *is, uint32_t first, uint32_t end, struct imap_flags *f)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } sys[] = {{"\\Seen", PETREL_F_SEEN},
               {"\\Answered", PETREL_F_ANSWERED},
               {"\\Flagged", PETREL_F_FLAGGED},
               {"\\Deleted", PETREL_F_DELETED},
               {"\\Draft", PETREL_F_DRAFT}};
    struct imap_parser *p = is->p;
    memset(f, 0, sizeof(*f));
    for (uint32_t j = first; j < end; j = p->args[j].end) {
        const struct imap_arg *a = &p->args[j];
        if (a->type != IMAP_ARG_ATOM) return -1;
        const char *s = imap_arg_str(p, a);
        if (s[0] == '\\') {
            size_t k = 0;
            while (k < sizeof(sys) / sizeof(sys[0]) && strcasecmp(sys[k].name, s) != 0)
                k++;
            if (k == sizeof(sys) / sizeof(sys[0])) {
                if (strcasecmp(s, "\\Recent") == 0) continue; /* not settable by clients; ignored */
                return -1;
            }
            f->flags |= sys[k].bit;
            continue;
        }
        if (a->len > IMAP_MAX_KEYWORD_LEN || strpbrk(s, "[]%*") != NULL) return -1;
        if (f->nkw >= IMAP_MAX_KEYWORDS) return -1;
        f->kw[f->nkw++] = s;
    }
    return 0;
}
