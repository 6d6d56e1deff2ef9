#!/usr/bin/env bash
# bench/heap/run.sh: how long a heap snapshot of a process holding a large
# heap takes, how long it keeps the target stopped, and how much memory sonde
# needs. Issue 7's target for a heap snapshot: under 1 s wall and under
# 100 MB of RSS for a 1 GB heap (about 10 million small objects).
#
# The fixture (bench/heap/fixture) holds -mb MiB: 80% in 64-byte objects
# with pointers, 10% in 1 KiB objects with a pointer (on Go 1.22+ each has
# an allocation header naming its type: ~105,000 of them for 1 GiB), 10% in
# large objects (100 of 64 KiB of pointers, typed through their span, and
# 1 MiB byte slices), then runs the GC. Each of REPS reps runs, in turn:
#   heap-types  sonde heap -p PID --json --stats            (reads types)
#   json-t0     sonde heap -p PID --json --stats --types 0  (--json reads
#               types all the same: it is measured to show it)
#   heap-notypes sonde heap -p PID --stats --types 0        (text: no types)
#   memwatch    sonde memwatch snapshot -p PID -o F.json --pprof F.pb.gz
# Wall time: bash EPOCHREALTIME around /usr/bin/time (1 ms resolution; it
# includes starting /usr/bin/time, about 1 ms); peak RSS: /usr/bin/time %M;
# target stopped and read syscalls: sonde heap's --stats (plugin commands
# have no --stats, so memwatch gets wall and RSS only). After each command
# the fixture must be running and untraced. No peer is measured: Delve and
# gdb have no heap view, and viewcore needs a core dump.
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
usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
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
# the plugins and the build's index (build/plugins/plugins.yaml) for memwatch
cmake --build "$build" --target sonde_plugin_index -j"$(nproc)" >>"$out/cmake.log" 2>&1 ||
  die "plugin build failed, see $out/cmake.log"
plugins="$build/plugins"
grep -q 'name: memwatch' "$plugins/plugins.yaml" 2>/dev/null || die "no memwatch in $plugins/plugins.yaml"
echo '# bench/heap: no settings, defaults only' >"$out/empty.ini"
host_opts=(--config "$out/empty.ini" --index "$plugins/plugins.yaml" --plugin-dir "$plugins")

build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"

log "Go $v: starting the fixture with a $mb MiB heap"
fixture_start "$out/fixture-go$v" -mb "$mb" # it holds its heap until its input ends
ready=$(grep '^READY ' "$out/fixture.log")
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$ready"; }
heap_alloc=$(field heap_alloc)
heap_objects=$(field heap_objects)
log "fixture pid $fx_pid: HeapAlloc $heap_alloc, HeapObjects $heap_objects; $(field small_objects) small," \
    "$(field hdr_objects) of $(field hdr_size) B with a pointer, $(field large_ptr_objects) of $(field large_ptr_size) B" \
    "of pointers, $(field byte_slices) 1 MiB byte slices"

# timed CMD...: runs CMD with stdout to $out/cmd.out and stderr to
# $out/cmd.err; sets wall (ms), rss (MiB, /usr/bin/time %M) and crc.
timed() {
  local t0 t1
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%e %M' -o "$out/time" "$@" >"$out/cmd.out" 2>"$out/cmd.err"
  crc=$?
  t1=$EPOCHREALTIME
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", (b - a) * 1000}')
  rss=$(awk '{printf "%.1f", $2 / 1024}' "$out/time")
}
# the stopped time and read syscalls of sonde heap --stats in $out/cmd.err
heap_stats() {
  local s
  s=$(grep 'sonde: stats:' "$out/cmd.err") || die "no stats line: $(cat "$out/cmd.err")"
  stop=$(sed -n 's/.*target stopped \([0-9.]*\) ms.*/\1/p' <<<"$s")
  sys=$(sed -n 's/.*read syscalls \([0-9]*\).*/\1/p' <<<"$s")
}

results="$out/results.tsv"
printf 'rep\tcmd\twall_ms\tstopped_ms\trss_mib\tread_syscalls\tspans\tobjects\tbytes\ttyped_objects\ttyped_bytes\tbad_headers\tout_bytes\tpprof_bytes\n' >"$results"
row() { # CMD STOPPED SYSCALLS SPANS OBJECTS BYTES TYPED_OBJS TYPED_BYTES BAD OUT PPROF
  printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$1" "$wall" "$2" "$rss" "$3" "$4" "$5" "$6" \
    "$7" "$8" "$9" "${10}" "${11}" >>"$results"
}
jfields() { # FILE: spans objects bytes typed_objects typed_bytes bad_headers ('-' when absent)
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(*[d.get(k, "-") for k in ("spans", "objects", "bytes", "typed_objects", "typed_bytes", "bad_headers")])' "$1"
}

for ((r = 1; r <= reps; r++)); do
  # 1. sonde heap --json: types read (the default)
  timed "$sonde" heap -p "$fx_pid" --json --stats
  [ "$crc" = 0 ] || die "sonde heap failed: $(cat "$out/cmd.err")"
  cp "$out/cmd.out" "$out/heap.json"
  heap_stats
  read -r spans objects bytes tobj tbytes bad < <(jfields "$out/heap.json")
  row heap-types "$stop" "$sys" "$spans" "$objects" "$bytes" "$tobj" "$tbytes" "$bad" "$(stat -c %s "$out/heap.json")" -
  log "rep $r/$reps heap --json: wall $wall ms, stopped $stop ms, RSS $rss MiB, $sys read syscalls;" \
      "$spans spans, $objects objects, $bytes bytes; typed $tobj objects, $tbytes bytes, $bad bad headers"
  check_target "sonde heap --json" || die "the fixture was harmed"

  # 2. sonde heap --json --types 0: what was asked for; --json reads types anyway
  timed "$sonde" heap -p "$fx_pid" --json --stats --types 0
  [ "$crc" = 0 ] || die "sonde heap --types 0 failed: $(cat "$out/cmd.err")"
  heap_stats
  read -r spans objects bytes tobj tbytes bad < <(jfields "$out/cmd.out")
  row json-t0 "$stop" "$sys" "$spans" "$objects" "$bytes" "$tobj" "$tbytes" "$bad" "$(stat -c %s "$out/cmd.out")" -
  log "rep $r/$reps heap --json --types 0: wall $wall ms, stopped $stop ms, RSS $rss MiB, $sys read syscalls;" \
      "typed_objects in its output: $tobj"
  check_target "sonde heap --json --types 0" || die "the fixture was harmed"

  # 3. sonde heap --types 0 (text): no types read
  timed "$sonde" heap -p "$fx_pid" --stats --types 0
  [ "$crc" = 0 ] || die "sonde heap --types 0 failed: $(cat "$out/cmd.err")"
  heap_stats
  row heap-notypes "$stop" "$sys" - - - - - - "$(stat -c %s "$out/cmd.out")" -
  log "rep $r/$reps heap --types 0: wall $wall ms, stopped $stop ms, RSS $rss MiB, $sys read syscalls"
  check_target "sonde heap --types 0" || die "the fixture was harmed"

  # 4. sonde memwatch snapshot, JSON and pprof
  rm -f "$out/snap.json" "$out/snap.pb.gz"
  timed "$sonde" memwatch snapshot -p "$fx_pid" -o "$out/snap.json" --pprof "$out/snap.pb.gz" "${host_opts[@]}"
  [ "$crc" = 0 ] || die "sonde memwatch snapshot failed: $(cat "$out/cmd.err")"
  read -r spans objects bytes tobj tbytes bad < <(jfields "$out/snap.json")
  row memwatch - - "$spans" "$objects" "$bytes" "$tobj" "$tbytes" "$bad" "$(stat -c %s "$out/snap.json")" \
    "$(stat -c %s "$out/snap.pb.gz")"
  log "rep $r/$reps memwatch snapshot: wall $wall ms, RSS $rss MiB; $objects objects;" \
      "JSON $(stat -c %s "$out/snap.json") B, pprof $(stat -c %s "$out/snap.pb.gz") B"
  check_target "sonde memwatch snapshot" || die "the fixture was harmed"
done

# col CMD N: column N of CMD's rows, sorted
col() { awk -F'\t' -v k="$1" -v c="$2" 'NR > 1 && $2 == k {print $c}' "$results" | sort -n; }
# med [FMT]: the median of the numbers on stdin, printed with FMT (%.1f)
med() { awk -v f="${1:-%.1f}" '{a[NR]=$1} END{printf f "\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# minmax CMD N FMT: "median (min-max)" of column N, or "-"
minmax() {
  [ "$(col "$1" "$2" | head -1)" = - ] && { echo "-"; return; }
  printf "%s ($3-$3)\n" "$(col "$1" "$2" | med "$3")" "$(col "$1" "$2" | head -1)" "$(col "$1" "$2" | tail -1)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf (b > 0 ? "%.2f" : "-"), a / b}'; }
one() { col "$1" "$2" | tail -1; }

echo "sonde $sonde_rev, Go $v ($("/usr/lib/go-$v/bin/go" version | cut -d' ' -f3)), $(nproc) CPUs," \
     "load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg), $reps reps"
echo
echo "Fixture: $mb MiB, HeapAlloc $heap_alloc ($((heap_alloc / 1048576)) MiB), HeapObjects $heap_objects;" \
     "sonde: $(one heap-types 7) spans, $(one heap-types 8) objects, $(one heap-types 9) bytes;" \
     "typed: $(one heap-types 10) objects, $(one heap-types 11) bytes, $(one heap-types 12) bad headers"
echo
echo "| command | wall ms, median (min-max) | target stopped ms, median (min-max) | peak RSS MiB, median (max) | read syscalls | output |"
echo "|---|---|---|---|---|---|"
for k in heap-types json-t0 heap-notypes memwatch; do
  # shellcheck disable=SC2016 # the backquotes are markdown
  case $k in
    heap-types) name='`heap --json --stats`' ;;
    json-t0) name='`heap --json --stats --types 0`' ;;
    heap-notypes) name='`heap --stats --types 0` (text)' ;;
    memwatch) name='`memwatch snapshot -o F.json --pprof F.pb.gz`' ;;
  esac
  o="$(one $k 13) B"
  [ $k = memwatch ] && o="JSON $(one $k 13) B, pprof $(one $k 14) B"
  echo "| $name | $(minmax $k 3 %.0f) | $(minmax $k 4 %.1f) | $(col $k 5 | med) ($(col $k 5 | tail -1)) | $(one $k 6) | $o |"
done
echo
echo "Types cost, heap-types / heap-notypes (medians): wall x$(ratio "$(col heap-types 3 | med)" "$(col heap-notypes 3 | med)")," \
     "target stopped x$(ratio "$(col heap-types 4 | med)" "$(col heap-notypes 4 | med)")"
