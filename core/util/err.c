#include "util/err.h"

const char *petrel_strerror(int err)
{
    switch (err) {
    case PETREL_OK: return "success";
    case PETREL_EINVAL: return "invalid argument";
    case PETREL_ENOMEM: return "out of memory";
    case PETREL_ENOTFOUND: return "not found";
    case PETREL_EEXIST: return "already exists";
    case PETREL_EQUOTA: return "user quota exceeded";
    case PETREL_ETENANTQUOTA: return "tenant quota exceeded";
    case PETREL_EIO: return "storage or system error";
    case PETREL_ECONFLICT: return "transaction conflict, retry";
    case PETREL_EVERSION: return "written by a newer version";
    case PETREL_ENOTSTORE: return "not a Petrel store";
    case PETREL_ECORRUPT: return "stored data is inconsistent";
    case PETREL_ETOOBIG: return "size limit exceeded";
    case PETREL_EBUSY: return "in use";
    case PETREL_EPERM: return "not permitted";
    case PETREL_EAGAIN: return "temporary failure, try again later";
    case PETREL_EPENDING: return "pending";
    case PETREL_ECLOSED: return "closed";
    case PETREL_ENOTSUP: return "not supported";
    case PETREL_EMODIFIED: return "modified since the given modseq";
    case PETREL_ENEEDTLS: return "TLS required";
    default: return "unknown error";
    }
}
