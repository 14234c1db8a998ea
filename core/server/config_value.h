/*
 * server/config_value.h - value parsers for the config file (internal to config.c).
 *
 * Each takes a value as [v, v+len) (not NUL-terminated), returns 0 or
 * PETREL_EINVAL / PETREL_ETOOBIG (out of range), and writes nothing on failure.
 */
#ifndef PETREL_SERVER_CONFIG_VALUE_H
#define PETREL_SERVER_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"

/* Decimal in [min, max]: PETREL_EINVAL when not a number, PETREL_ETOOBIG when outside. */
int cfg_value_uint(const char *v, size_t len, uint64_t min, uint64_t max, uint64_t *n_r);

/* Decimal with an optional K, M or G suffix (x1024, any case), then checked as cfg_value_uint. */
int cfg_value_size(const char *v, size_t len, uint64_t min, uint64_t max, uint64_t *n_r);

/* Index of v in the NULL-terminated names, or PETREL_EINVAL. */
int cfg_value_enum(const char *v, size_t len, const char *const *names, int *idx_r);

/* "a.b.c.d:port", "[v6]:port" or "*:port" (port 1..65535). */
int cfg_value_address(const char *v, size_t len, struct srv_address *a_r);

/* True when a and b cannot both be bound (same port, overlapping addresses). */
bool cfg_address_overlap(const struct srv_address *a, const struct srv_address *b);

/* A new config holding only the defaults (config.c; used by the parser and the dev default). */
int srv_config_new_defaults(const char *file, struct srv_config **cfg_r);

#endif
