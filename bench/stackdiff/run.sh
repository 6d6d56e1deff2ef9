#!/usr/bin/env bash
# bench/stackdiff/run.sh: how long `sonde stackdiff snapshot` and `diff` take
# on a process with many goroutines, and how much memory they need.
#
# The fixture starts N workers DEPTH frames deep, then, between snapshot A
# and snapshot B, moves 30% of them to another wait, ends 20% and starts 10%
# more: a diff with every kind of change. Measured: the snapshot's wall time
# and peak RSS (and, for reference, how long `sonde goroutines --stats`
# keeps the target stopped at the same moment: the snapshot reads the same
# way), the files' size, and the diff's wall time and peak RSS, text and
# JSON. Issue 6's target: a diff of two 100,000-goroutine snapshots in
# under a second. No peer is measured: Delve, gdb and viewcore have no diff.
#
# Run by hand, as root (or with ptrace rights), on an otherwise idle machine.
# Never run in CI. See docs/BENCHMARKS.md.
#
# Usage: bench/stackdiff/run.sh [--n 100000] [--depth 12] [--go 1.27] [--reps 5]
#
# Writes the markdown results table to stdout; progress goes to stderr; raw
# per-run numbers to bench/stackdiff/.out/results.tsv.
set -uo pipefail
export LC_ALL=C

n=100000
depth=12
v=1.27
reps=5

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --n) n="$2"; shift 2 ;;
    --depth) depth="$2"; shift 2 ;;
    --go) v="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_paths

# ---- build sonde with its plugins (Release) and the fixture -------------------
build_sonde_release "$root" "$build" "$out/cmake.log"
cmake --build "$build" --target sonde_plugin_index -j"$(nproc)" >>"$out/cmake.log" 2>&1 ||
  die "plugin build failed, see $out/cmake.log"
host_opts=(--plugin-dir "$build/plugins" --index "$build/plugins/plugins.yaml")
build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"

# ---- the fixture, driven through a fifo ----------------------------------------
fixture_start "$out/fixture-go$v" -depth "$depth"

# say COMMAND: sends it and waits for the fixture's next OK.
oks=0
say() {
  local i
  echo "$1" >&"$fixture_fd"
  oks=$((oks + 1))
  for ((i = 0; i < 3000; i++)); do
    [ "$(grep -c '^OK' "$out/fixture.log")" -ge "$oks" ] && return 0
    kill -0 "$fx_pid" 2>/dev/null || die "fixture exited: $(cat "$out/fixture.log")"
    sleep 0.1
  done
  die "fixture did not finish '$1' in 300 s"
}

# timed OUT ERR CMD...: runs sonde CMD, sets t_ms (wall) and t_rss (MiB).
timed() {
  local o=$1 e=$2
  shift 2
  /usr/bin/time -f '%e %M' -o "$out/time" "$sonde" "$@" >"$o" 2>"$e" || die "sonde $* failed: $(cat "$e")"
  read -r t_s t_kb <"$out/time"
  t_ms=$(awk -v s="$t_s" 'BEGIN{printf "%.0f", s * 1000}')
  t_rss=$(awk -v k="$t_kb" 'BEGIN{printf "%.0f", k / 1024}')
}

median() { sort -n | awk '{a[NR]=$1} END{print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
minimum() { sort -n | head -n 1; }
maximum() { sort -n | tail -n 1; }

results="$out/results.tsv"
printf 'what\trep\twall_ms\trss_mib\n' >"$results"

log "Go $v: starting $n workers, $depth frames deep"
say "start $n"
"$sonde" goroutines -p "$fx_pid" --stats >/dev/null 2>"$out/stats.err" || die "sonde goroutines failed"
stop_ms=$(sed -n 's/.*target stopped \([0-9.]*\) ms.*/\1/p' "$out/stats.err")
timed /dev/null "$out/snap.err" stackdiff snapshot -p "$fx_pid" -o "$out/a.json" "${host_opts[@]}"
snap_a_ms=$t_ms snap_a_rss=$t_rss
check_target "stackdiff snapshot" || die "the fixture was harmed"

log "moving $((n * 3 / 10)), ending $((n / 5)), starting $((n / 10))"
say "move $((n * 3 / 10))"
say "end $((n / 5))"
say "start $((n / 10))"
timed /dev/null "$out/snap.err" stackdiff snapshot -p "$fx_pid" -o "$out/b.json" "${host_opts[@]}"
snap_b_ms=$t_ms snap_b_rss=$t_rss
check_target "stackdiff snapshot" || die "the fixture was harmed"
size_a=$(stat -c %s "$out/a.json") size_b=$(stat -c %s "$out/b.json")
ng_a=$(head -c 400 "$out/a.json" | sed -n 's/.*"goroutine_count": \([0-9]*\).*/\1/p')
ng_b=$(head -c 400 "$out/b.json" | sed -n 's/.*"goroutine_count": \([0-9]*\).*/\1/p')
log "A: $ng_a goroutines, $size_a bytes, $snap_a_ms ms; B: $ng_b goroutines, $size_b bytes, $snap_b_ms ms"
fixture_stop

for ((r = 1; r <= reps; r++)); do
  for fmt in text json; do
    args=()
    [ "$fmt" = json ] && args=(--json)
    timed "$out/diff.$fmt" "$out/diff.err" stackdiff diff "${args[@]}" "$out/a.json" "$out/b.json" "${host_opts[@]}"
    printf 'diff-%s\t%d\t%s\t%s\n' "$fmt" "$r" "$t_ms" "$t_rss" >>"$results"
    log "rep $r/$reps: diff ($fmt) $t_ms ms, RSS $t_rss MiB"
  done
done
summary=$(sed -n 's/^goroutines: //p' "$out/diff.text")

row() { # row WHAT
  local w=$1
  echo "$(awk -F'\t' -v w="$w" '$1 == w {print $3}' "$results" | median) ($(awk -F'\t' -v w="$w" '$1 == w {print $3}' "$results" | minimum))" \
       "$(awk -F'\t' -v w="$w" '$1 == w {print $4}' "$results" | median) ($(awk -F'\t' -v w="$w" '$1 == w {print $4}' "$results" | maximum))"
}

echo "sonde $sonde_rev, Go $v, $(nproc) CPUs, load average at start $load_start, $reps reps"
echo
echo "| step | goroutines | wall ms | peak RSS MiB |"
echo "|---|---|---|---|"
echo "| snapshot A ($((size_a / 1048576)) MiB of JSON) | $ng_a | $snap_a_ms | $snap_a_rss |"
echo "| snapshot B ($((size_b / 1048576)) MiB) | $ng_b | $snap_b_ms | $snap_b_rss |"
read -r dt_wall dt_wmin dt_rss dt_rmax <<<"$(row diff-text | tr -d '()')"
read -r dj_wall dj_wmin dj_rss dj_rmax <<<"$(row diff-json | tr -d '()')"
echo "| diff A B, text: median (min) wall, median (max) RSS | $ng_a / $ng_b | $dt_wall ($dt_wmin) | $dt_rss ($dt_rmax) |"
echo "| diff A B, JSON ($(($(stat -c %s "$out/diff.json") / 1048576)) MiB) | $ng_a / $ng_b | $dj_wall ($dj_wmin) | $dj_rss ($dj_rmax) |"
echo
echo "target stopped for the snapshot of A: ${stop_ms:-?} ms (sonde goroutines --stats at the same moment; the snapshot reads the same way)."
echo "diff summary: $summary"
