/* noentry.c: a test plugin with a note but without the entry symbol: its
 * entry is misspelled, as a typo would leave it. */
#include <sonde/plugin.h>

SONDE_PLUGIN_NOTE("noentry", "1.0.0");

static const sonde_plugin plugin = {.struct_size = sizeof(sonde_plugin), .abi_version = SONDE_ABI_VERSION,
                                    .name = "noentry", .version = "1.0.0"};

SONDE_EXPORT const sonde_plugin *sonde_plugin_V1(void);
SONDE_EXPORT const sonde_plugin *sonde_plugin_V1(void) { return &plugin; }
