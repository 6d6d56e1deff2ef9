/* config_priv.h: what config.c (parsing) lends config_find.c (finding and
 * trusting the file); not for the rest of sonde. */
#ifndef SONDE_PLUGINS_CONFIG_PRIV_H
#define SONDE_PLUGINS_CONFIG_PRIV_H

#include <stddef.h>

#include "plugins/config.h"

/* dir + "/" + rel, with rel's leading "./" dropped; rel "." is dir itself.
 * malloc'd; NULL when out of memory. */
char *cfg__join(const char *dir, const char *rel);

/* Parses len bytes read from name (origin: cfg_config.origin), as
 * cfg_load_buffer does. */
int cfg__load(cfg_config *out, const char *name, const char *origin, const char *buf, size_t len, cfg_warn_fn warn,
              void *payload);

bool cfg__from_cwd(const char *origin);

#endif
