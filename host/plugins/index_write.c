/* index_write.c: the plugin index written back (idx_write, index.h), as
 * libyaml's emitter writes it, so that what `sonde index update` writes is
 * read back by index.c the same way (cmd_plugins.c checks it does). */
#include "plugins/index.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "base/error.h"

static bool emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style) {
  yaml_event_t ev;
  size_t len = strlen(s);
  if (len > INT32_MAX) return false;
  return yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s, (int)len, 1, 1, style) &&
         yaml_emitter_emit(em, &ev);
}

static bool emit_mapping_start(yaml_emitter_t *em) {
  yaml_event_t ev;
  return yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
         yaml_emitter_emit(em, &ev);
}

static bool emit_mapping_end(yaml_emitter_t *em) {
  yaml_event_t ev;
  return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
}

/* The emitter would write "", "~" or "null" plain, which reads back as null
 * (absent) rather than as that text. */
static bool emit_pair(yaml_emitter_t *em, const char *k, const char *v, yaml_scalar_style_t style) {
  bool null_like = !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
  return emit_scalar(em, k, YAML_PLAIN_SCALAR_STYLE) &&
         emit_scalar(em, v, null_like ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : style);
}

static bool emit_entry(yaml_emitter_t *em, const idx_entry *e) {
  char abi[32];
  snprintf(abi, sizeof abi, "%u.%u", e->abi_major, e->abi_minor);
  const char *compat[3][2] = {{"go", e->go_text}, {"kernel", e->kernel_text}, {"sonde", e->host_text}};
  bool any = false;
  for (int i = 0; i < 3; i++) {
    if (compat[i][1] && !strcmp(compat[i][1], "*")) compat[i][1] = NULL;
    any = any || compat[i][1];
  }
  if (!emit_mapping_start(em) || !emit_pair(em, "name", e->name, YAML_ANY_SCALAR_STYLE) ||
      !emit_pair(em, "file", e->file, YAML_ANY_SCALAR_STYLE) ||
      !emit_pair(em, "version", e->version, YAML_DOUBLE_QUOTED_SCALAR_STYLE) ||
      /* Quoted, so that other YAML readers do not see "1.10" as the number 1.1. */
      !emit_pair(em, "abi", abi, YAML_DOUBLE_QUOTED_SCALAR_STYLE) ||
      !emit_pair(em, "sha256", e->sha256, YAML_ANY_SCALAR_STYLE))
    return false;
  if (e->description && !emit_pair(em, "description", e->description, YAML_ANY_SCALAR_STYLE)) return false;
  if (any) {
    if (!emit_scalar(em, "compat", YAML_PLAIN_SCALAR_STYLE) || !emit_mapping_start(em)) return false;
    for (int i = 0; i < 3; i++)
      if (compat[i][1] && !emit_pair(em, compat[i][0], compat[i][1], YAML_DOUBLE_QUOTED_SCALAR_STYLE)) return false;
    if (!emit_mapping_end(em)) return false;
  }
  return emit_mapping_end(em);
}

int idx_write(FILE *f, const idx_index *ix) {
  for (size_t i = 0; i < ix->n; i++) {
    const idx_entry *e = &ix->e[i];
    if (e->error)
      return se_set(SE_CONFIG, "cannot write the plugin index: entry %zu is invalid (%s); fix or remove it first",
                    i + 1, e->error);
    if (!e->name || !e->file || !e->version || !e->sha256)
      return se_set(SE_CONFIG, "cannot write the plugin index: entry %zu (%s) lacks a name, file, version or sha256",
                    i + 1, e->name ? e->name : "unnamed");
  }
  yaml_emitter_t em;
  if (!yaml_emitter_initialize(&em)) return se_set(SE_NOMEM, "out of memory writing the plugin index");
  yaml_emitter_set_output_file(&em, f);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_width(&em, -1); /* never fold a long description */
  yaml_emitter_set_indent(&em, 2);
  fputs("# sonde plugin compatibility index\n", f);
  char schema[16];
  snprintf(schema, sizeof schema, "%d", IDX_SCHEMA);
  yaml_event_t ev;
  bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&em, &ev) &&
            yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&em, &ev) &&
            emit_mapping_start(&em) && emit_pair(&em, "schema", schema, YAML_PLAIN_SCALAR_STYLE) &&
            emit_scalar(&em, "plugins", YAML_PLAIN_SCALAR_STYLE) &&
            yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) &&
            yaml_emitter_emit(&em, &ev);
  for (size_t i = 0; ok && i < ix->n; i++) ok = emit_entry(&em, &ix->e[i]);
  ok = ok && yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) && emit_mapping_end(&em) &&
       yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
       yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
  int rc = 0;
  if (!ok) {
    const char *problem = em.problem ? em.problem : "unknown error";
    rc = em.error == YAML_MEMORY_ERROR   ? se_set(SE_NOMEM, "out of memory writing the plugin index")
         : em.error == YAML_WRITER_ERROR ? se_set(SE_IO, "cannot write the plugin index: %s", problem)
                                         : se_set(SE_CONFIG, "cannot write the plugin index: %s", problem);
  }
  yaml_emitter_delete(&em);
  if (!rc && (fflush(f) != 0 || ferror(f))) rc = se_set(SE_IO, "cannot write the plugin index: %s", strerror(errno));
  return rc;
}

