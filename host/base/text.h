/* text.h: the host's text and byte helpers (UTF-8, booleans, numbers,
 * little-endian loads). They are the ones plugins get through
 * <sonde/util.h>, so host and plugins read input the same way: one
 * header-only implementation, plugin-api/sonde/text.h. */
#ifndef SONDE_BASE_TEXT_H
#define SONDE_BASE_TEXT_H

#include <sonde/text.h>

#endif
