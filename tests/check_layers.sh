#!/usr/bin/env bash
# check_layers.sh [ROOT]: the include rules of the tree.
#   host/: base <- target <- goruntime <- plugins <- session <- cli; a lower
#          layer never includes a higher one, and every folder of host/ is a
#          known layer (a new folder must be given its place here). cli/
#          parses and prints: it includes no target/ header (what it reads
#          of a target comes through session/).
#   plugins/ (the shared objects): each plugin includes only its own headers
#          (files in its own folder, or its generated protobuf-c code) and,
#          of sonde's, only plugin-api/ (<sonde/...>), never host/.
#   size:  no file under host/ over 700 lines.
#   offsets: no hard-coded Go runtime offset outside the layout contract
#          (check_offsets.sh, which says what counts).
set -u
root=${1:-$(dirname "$0")/..}
rank() { case $1 in base) echo 0;; target) echo 1;; goruntime) echo 2;; plugins) echo 3;; session) echo 4;; cli) echo 5;; *) echo "";; esac; }
bad=0
for d in "$root"/host/*/; do
  layer=$(basename "$d")
  if [ -z "$(rank "$layer")" ]; then
    echo "unknown layer: host/$layer is not in check_layers.sh's list (base target goruntime plugins session cli)"
    bad=1
  fi
done
for f in "$root"/host/*/*.[ch]; do
  layer=$(basename "$(dirname "$f")")
  [ -n "$(rank "$layer")" ] || continue
  while IFS= read -r inc; do
    dep=${inc%%/*}
    r=$(rank "$dep")
    if [ -n "$r" ] && [ "$r" -gt "$(rank "$layer")" ]; then
      echo "layer violation: ${f#$root/} ($layer) includes \"$inc\" ($dep)"
      bad=1
    fi
    if [ "$layer" = cli ] && [ "$dep" = target ]; then
      echo "layer violation: ${f#$root/} (cli) includes \"$inc\": the CLI reads a target only through session/"
      bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
nplugin=0
for f in "$root"/plugins/*/*.[ch]; do
  [ -e "$f" ] || continue
  nplugin=$((nplugin + 1))
  dir=$(dirname "$f")
  while IFS= read -r inc; do
    case $inc in
      */* | ..*) echo "plugin include: ${f#$root/} includes \"$inc\": a plugin includes only its own folder's headers"; bad=1 ;;
      *.pb-c.h) ;; # generated into the build tree from the plugin's own .proto
      *) [ -e "$dir/$inc" ] || { echo "plugin include: ${f#$root/} includes \"$inc\", which is not in ${dir#$root/}"; bad=1; } ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  while IFS= read -r inc; do
    case $inc in
      sonde/*) [ -e "$root/plugin-api/$inc" ] || { echo "plugin include: ${f#$root/} includes <$inc>, not in plugin-api/"; bad=1; } ;;
      base/* | target/* | goruntime/* | plugins/* | session/* | cli/*)
        echo "plugin include: ${f#$root/} includes <$inc>: host headers are not the plugin API"; bad=1 ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f")
done
[ "$nplugin" -gt 0 ] || { echo "check_layers: no plugin sources under $root/plugins"; bad=1; }
# No file under host/ over 700 lines (issue 16): a longer one holds more
# than one job; split it by job.
max_lines=700
for f in "$root"/host/*/*.[ch]; do
  n=$(wc -l <"$f")
  [ "$n" -gt "$max_lines" ] || continue
  echo "file size: ${f#$root/} has $n lines, over $max_lines: split it by job"
  bad=1
done
# No runtime struct offset written as a number outside the layout contract.
# shellcheck source=check_offsets.sh
. "$(dirname "${BASH_SOURCE[0]}")/check_offsets.sh"
check_offsets "$root" || bad=1
[ "$bad" -eq 0 ] && echo "layers ok: base <- target <- goruntime <- plugins <- session <- cli; $nplugin plugin files include only plugin-api/ and their own headers; host files at most $max_lines lines; cli/ includes no target/ header; no runtime offset outside the layout contract"
exit $bad
