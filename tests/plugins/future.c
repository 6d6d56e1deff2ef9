/* future.c: a test plugin built for plugin ABI 2.0, a major this host does
 * not speak. Its note and descriptor both say 2.0; sonde must refuse it
 * naming both versions, before running any of its code. */
#include <stdlib.h>

#include <sonde/plugin.h>

__attribute__((section(".note.sonde"), used, aligned(4))) static const sonde_note note = {
    sizeof(SONDE_NOTE_NAME), sizeof(sonde_note_desc), SONDE_NOTE_TYPE, SONDE_NOTE_NAME,
    {SONDE_ABI_MAKE(2, 0), "future", "2.0.0"}};

/* If sonde ever ran this plugin's code, the test would see the process die. */
__attribute__((constructor)) static void ctor(void) { abort(); }

static const sonde_plugin plugin = {.struct_size = sizeof(sonde_plugin), .abi_version = SONDE_ABI_MAKE(2, 0),
                                    .name = "future", .version = "2.0.0"};

SONDE_EXPORT const sonde_plugin *sonde_plugin_v1(void) { return &plugin; }
