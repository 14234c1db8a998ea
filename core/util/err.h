/* err.h - the PETREL_E* codes (include/petrel/errors.h) and their text. */
#ifndef PETREL_UTIL_ERR_H
#define PETREL_UTIL_ERR_H

#include <petrel/errors.h>

/* A static, human-readable description of a PETREL_E* code (or "unknown error"). */
const char *petrel_strerror(int err);

#endif
