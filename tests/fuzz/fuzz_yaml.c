/* fuzz_yaml.c: sonde's one YAML reader (host/base/yaml.h) under small
 * limits, and the limits it promises: no tree deeper, larger or with longer
 * values than allowed, no NUL inside a value, mappings of key-value pairs.
 *
 * Input: the text. Every parser of YAML in sonde (index, layout tables)
 * reads through yml_parse; this harness reaches its limits fastest. */
#include "fuzz.h"

#include <string.h>

#include "base/error.h"
#include "base/yaml.h"

static const yml_limits k_lim = {.what = "a fuzzed file", .code = SE_CONFIG, .max_depth = 6, .max_nodes = 256,
                                 .max_scalar = 64, .depth_hint = NULL};

/* Checks the tree's shape; returns the number of nodes. */
static size_t walk(const yml_node *y, size_t depth) {
  size_t nodes = 1;
  FZ_CHECK(y->line >= 1 && y->col >= 1, "a node at %d:%d", y->line, y->col);
  (void)yml_kind_name(y);
  (void)yml_is_null(y);
  if (y->kind == YML_SCALAR) {
    FZ_CHECK(y->s && strlen(y->s) == y->len, "a scalar of %zu bytes with a NUL inside, or none at its end", y->len);
    FZ_CHECK(y->len <= k_lim.max_scalar, "a scalar of %zu bytes", y->len);
    FZ_CHECK(!y->n, "a scalar with children");
    return nodes;
  }
  FZ_CHECK(depth + 1 <= k_lim.max_depth, "collections nested %zu deep", depth + 1);
  FZ_CHECK(y->kind != YML_MAP || y->n % 2 == 0, "a mapping of %zu nodes", y->n);
  for (size_t i = 0; i < y->n; i++) nodes += walk(y->kid[i], depth + 1);
  if (y->kind == YML_MAP && y->n) {
    (void)yml_get(y, y->kid[0]->kind == YML_SCALAR ? y->kid[0]->s : "x");
    (void)yml_text(y, "schema");
  }
  return nodes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  se_clear();
  yml_node *root = NULL;
  int rc = yml_parse("fuzz.yaml", (const char *)data, size, &k_lim, &root);
  if (rc == 0 && root) {
    size_t nodes = walk(root, 0);
    FZ_CHECK(nodes <= k_lim.max_nodes, "%zu nodes", nodes);
  } else if (rc) {
    FZ_CHECK(!root, "a refused file left a tree");
    FZ_CHECK(!strncmp(se_msg(), "fuzz.yaml:", 10), "a message without its position: %s", se_msg());
  }
  yml_free(root);
  se_clear();
  return 0;
}
