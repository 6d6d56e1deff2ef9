#!/usr/bin/env bash
# check_layers.sh: lower layers of host/ never include higher ones.
#   base <- target <- goruntime <- plugins <- cli ; plugins/ (the shared objects) see only plugin-api/.
set -u
root=${1:-$(dirname "$0")/..}
rank() { case $1 in base) echo 0;; target) echo 1;; goruntime) echo 2;; plugins) echo 3;; cli) echo 4;; *) echo 9;; esac; }
bad=0
for f in "$root"/host/*/*.[ch]; do
  layer=$(basename "$(dirname "$f")")
  while IFS= read -r inc; do
    dep=${inc%%/*}
    if [ "$(rank "$dep")" -gt "$(rank "$layer")" ] && [ "$(rank "$dep")" -ne 9 ]; then
      echo "layer violation: ${f#$root/} ($layer) includes \"$inc\" ($dep)"
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
[ "$bad" -eq 0 ] && echo "layers ok: base <- target <- goruntime <- plugins <- cli"
exit $bad
