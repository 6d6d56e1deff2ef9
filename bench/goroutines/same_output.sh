#!/usr/bin/env bash
# bench/goroutines/same_output.sh OLD_SONDE NEW_SONDE PID...: the two sonde
# binaries print the same goroutines, byte for byte, for each process: the
# traceback, --json, --group, --group --json and --all-frames. For a change
# that must not change output (such as the resolved model, issue 16). The
# process is stopped between the reads (SIGSTOP, then SIGCONT on every exit
# path) so that both binaries see the same goroutines; ptrace works on a
# stopped process. Volatile fields (stopped_us) are masked.
# Exit status: 0 all identical, 1 a difference (shown), 2 usage.
set -uo pipefail
[ $# -ge 3 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
old=$1 new=$2
shift 2
tmp=$(mktemp -d)
stopped=""
cleanup() { for p in $stopped; do kill -CONT "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
status=0
for pid in "$@"; do
  kill -STOP "$pid" || { echo "same_output: cannot stop $pid" >&2; exit 2; }
  stopped="$stopped $pid"
  i=0
  for args in "" "--json" "--group" "--group --json" "--all-frames"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    "$old" goroutines -p "$pid" $args 2>"$tmp/old.err" | sed 's/"stopped_us":[0-9]*/"stopped_us":N/' >"$tmp/old.$i"
    # shellcheck disable=SC2086
    "$new" goroutines -p "$pid" $args 2>"$tmp/new.err" | sed 's/"stopped_us":[0-9]*/"stopped_us":N/' >"$tmp/new.$i"
    if [ ! -s "$tmp/old.$i" ]; then
      echo "same_output: pid $pid, goroutines $args: the old binary printed nothing: $(cat "$tmp/old.err")" >&2
      status=1
    elif cmp -s "$tmp/old.$i" "$tmp/new.$i"; then
      echo "same  pid $pid goroutines $args ($(wc -c <"$tmp/new.$i") bytes)"
    else
      echo "DIFF  pid $pid goroutines $args:"
      diff "$tmp/old.$i" "$tmp/new.$i" | head -20
      status=1
    fi
  done
  kill -CONT "$pid"
done
exit $status
