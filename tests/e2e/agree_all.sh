#!/usr/bin/env bash
# agree_all.sh SONDE [OUTDIR]: build the agreement fixture with every installed
# Go toolchain (build_fixtures.sh) and run agree.py against each build.
#
#   EXTRA=10000 agree_all.sh build/sonde    # with 10000 extra parked goroutines
#   STRIPPED=1  agree_all.sh build/sonde    # the -s -w builds too
#
# OUTDIR (where fixtures are built, kept between runs) defaults to
# $TMPDIR/sonde-e2e-fixtures. Exits 1 if any run fails, 2 if none could run.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: $0 SONDE [OUTDIR]" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
sonde=$1
out=${2:-${TMPDIR:-/tmp}/sonde-e2e-fixtures}

"$here/build_fixtures.sh" "$out" || exit 2

fixtures=()
for f in "$out"/agree-go1.*; do
  case $f in
    *.tmp.*) continue ;;
    *-stripped) [ "${STRIPPED:-0}" = 1 ] || continue ;;
  esac
  fixtures+=("$f")
done
[ ${#fixtures[@]} -gt 0 ] || { echo "agree_all: no fixture built in $out" >&2; exit 2; }

failed=()
for f in "${fixtures[@]}"; do
  python3 "$here/agree.py" --sonde "$sonde" --fixture "$f" --extra "${EXTRA:-0}" || failed+=("$(basename "$f")")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "agree_all: ${#failed[@]} of ${#fixtures[@]} failed: ${failed[*]}" >&2
  exit 1
fi
echo "agree_all: all ${#fixtures[@]} fixtures agree"
