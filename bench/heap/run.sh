#!/usr/bin/env bash
# bench/heap/run.sh: how long `sonde heap` takes on a process holding a
# large heap, how long it keeps the target stopped, and how much memory it
# needs. Issue 7's target for a heap snapshot: under 1 s wall and under
# 100 MB of RSS for a 1 GB heap (about 10 million small objects).
#
# The fixture (bench/heap/fixture) holds -mb MiB: 90% in 64-byte objects
# with pointers, 10% in 1 MiB slices, then runs the GC. sonde heap --stats
# runs REPS times; each rep's wall time (/usr/bin/time), target-stopped time
# and peak RSS (sonde's own --stats) are recorded, and the fixture must be
# running and untraced after each. No peer is measured: Delve and gdb have
# no heap view, and viewcore needs a core dump.
#
# Run by hand, as root (or with ptrace rights), on an otherwise idle machine.
# Never run in CI. See docs/BENCHMARKS.md.
#
# Usage: bench/heap/run.sh [--mb 1024] [--go 1.27] [--reps 5]
set -uo pipefail
export LC_ALL=C

mb=1024
v=1.27
reps=5
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb="$2"; shift 2 ;;
    --go) v="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_paths

build_sonde_release "$root" "$build" "$out/cmake.log"
build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"

log "Go $v: starting the fixture with a $mb MiB heap"
fixture_start "$out/fixture-go$v" -mb "$mb" # it holds its heap until its input ends
ready=$(grep '^READY ' "$out/fixture.log")
heap_alloc=$(sed -n 's/.*heap_alloc=\([0-9]*\).*/\1/p' <<<"$ready")
heap_objects=$(sed -n 's/.*heap_objects=\([0-9]*\).*/\1/p' <<<"$ready")
log "fixture pid $fx_pid: HeapAlloc $heap_alloc, HeapObjects $heap_objects"

results="$out/results.tsv"
printf 'rep\twall_ms\tstopped_ms\trss_mib\tspans\tobjects\tbytes\n' >"$results"
for ((r = 1; r <= reps; r++)); do
  /usr/bin/time -f '%e' -o "$out/time" "$sonde" heap -p "$fx_pid" --json --stats >"$out/heap.json" 2>"$out/stats.err" ||
    die "sonde heap failed: $(cat "$out/stats.err")"
  wall=$(awk '{printf "%.0f", $1 * 1000}' "$out/time")
  stats=$(grep 'sonde: stats:' "$out/stats.err")
  stop=$(sed -n 's/.*target stopped \([0-9.]*\) ms.*/\1/p' <<<"$stats")
  rss=$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$stats")
  read -r spans objects bytes < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["spans"], d["objects"], d["bytes"])' "$out/heap.json")
  printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$wall" "$stop" "$rss" "$spans" "$objects" "$bytes" >>"$results"
  log "rep $r/$reps: wall $wall ms, stopped $stop ms, RSS $rss MiB; $spans spans, $objects objects, $bytes bytes"
  check_target "sonde heap" || die "the fixture was harmed"
done

col() { awk -F'\t' -v c="$1" 'NR > 1 {print $c}' "$results" | sort -n; }
med() { awk '{a[NR]=$1} END{print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "sonde $sonde_rev, Go $v, $(nproc) CPUs, load average at start $load_start, $reps reps"
echo
echo "| heap | spans | objects (HeapObjects) | wall ms, median (min) | target stopped ms, median (min) | peak RSS MiB, median (max) |"
echo "|---|---|---|---|---|---|"
echo "| $mb MiB (HeapAlloc $((heap_alloc / 1048576)) MiB) | $(col 5 | tail -1) | $(col 6 | tail -1) ($heap_objects) |" \
     "$(col 2 | med) ($(col 2 | head -1)) | $(col 3 | med) ($(col 3 | head -1)) | $(col 4 | med) ($(col 4 | tail -1)) |"
