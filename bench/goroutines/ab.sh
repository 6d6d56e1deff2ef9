#!/usr/bin/env bash
# bench/goroutines/ab.sh OLD_SONDE NEW_SONDE [--go "1.27 1.21"] [--n 100000] [--reps 10]:
# two sonde builds side by side on one fixture process (bench/goroutines/fixture),
# alternating old/new reps times, so that the machine's noise falls on both.
# Prints, per Go version and binary, the median and range of the wall time of
# `sonde goroutines -p PID --stats`, of how long it kept the target stopped,
# and of its peak RSS. For changes that must not make the dump slower
# (docs/BENCHMARKS.md). Run by hand, as root, never in CI.
set -uo pipefail
export LC_ALL=C
[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
old=$1 new=$2
shift 2
gos="1.27" n=100000 reps=10
while [ $# -gt 0 ]; do
  case "$1" in
    --go) gos=$2; shift 2 ;; --n) n=$2; shift 2 ;; --reps) reps=$2; shift 2 ;;
    *) echo "ab.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$here/.out/ab
mkdir -p "$out"
fx=""
trap '[ -n "$fx" ] && kill "$fx" 2>/dev/null' EXIT
median() { sort -n | awk '{a[NR]=$1} END{printf "%.1f (%.1f-%.1f)", (NR%2?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2), a[1], a[NR]}'; }
echo "| Go | goroutines | binary | wall ms | target stopped ms | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for v in $gos; do
  build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"
  "$out/fixture-go$v" -n "$n" >"$out/fixture.log" 2>&1 &
  fx=$!
  for ((i = 0; i < 1200; i++)); do grep -q '^READY ' "$out/fixture.log" && break; sleep 0.1; done
  grep -q '^READY ' "$out/fixture.log" || die "fixture not ready: $(cat "$out/fixture.log")"
  : >"$out/old.tsv"; : >"$out/new.tsv"
  for ((r = 0; r <= reps; r++)); do
    for which in old new; do
      bin=$old; [ $which = new ] && bin=$new
      t0=${EPOCHREALTIME/./}
      "$bin" goroutines -p "$fx" --stats >/dev/null 2>"$out/err" || die "$which: $(cat "$out/err")"
      t1=${EPOCHREALTIME/./}
      [ "$r" = 0 ] && continue # warm-up
      s=$(grep '^sonde: stats:' "$out/err")
      printf '%s\t%s\t%s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1000}')" \
        "$(sed -n 's/.*target stopped \([0-9.]*\) ms.*/\1/p' <<<"$s")" \
        "$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$s")" >>"$out/$which.tsv"
    done
  done
  for which in old new; do
    echo "| $v | $n | $which | $(cut -f1 "$out/$which.tsv" | median) | $(cut -f2 "$out/$which.tsv" | median) | $(cut -f3 "$out/$which.tsv" | median) |"
  done
  kill "$fx"; wait "$fx" 2>/dev/null; fx=""
done
