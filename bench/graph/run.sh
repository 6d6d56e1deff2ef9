#!/usr/bin/env bash
# bench/graph/run.sh: how long `sonde goroutine-graph leaks` takes to a leak
# verdict on a process with many goroutines over a large heap, how long it
# keeps the target stopped, how much memory sonde needs, and whether the
# verdict is right. Issue 8's target: under 2 s to a verdict for 100,000
# goroutines over a 1 GB heap.
#
# The fixture (bench/graph/fixture) holds bench/heap's heap of -mb MiB and
# starts -goroutines goroutines, -leaks of them leaked (each receiving from
# a channel only it holds), the others parked on channels, selects,
# Mutexes, RWMutexes, WaitGroups and Conds reachable from globals, or asleep,
# or parked on a channel only a sleeper or a woken goroutine holds. Each of
# REPS reps runs, in turn:
#   leaks       sonde goroutine-graph leaks -p PID --json -o F.json: wall
#               (the time to a verdict), peak RSS, and from F.json
#               stopped_ms (how long the target was stopped; reported since
#               1e446af), analysis_ms, leaked, parked, unknown. It must exit
#               13 with exactly -leaks leaked goroutines, all of them in
#               main.leakedReceiver.
#   leaks-1cpu  the same under taskset -c 0 (skipped without taskset):
#               sonde's memory reader splits large batches over two
#               threads; this row shows what that does on this machine
#   heap        sonde heap -p PID --stats --types 0: its stop
#   goroutines  sonde goroutines -p PID --json --waits --system --stats: its stop
# The plugin command has no --stats; its JSON says how long the target was
# stopped: reading the goroutines (system ones too), their waits and the
# heap's spans (no types), then the analysis (analysis_ms). `heap` and
# `goroutines` read the same things, each in a stop of its own.
# Wall time: bash EPOCHREALTIME around /usr/bin/time (1 ms resolution; it
# includes starting /usr/bin/time, about 1 ms); peak RSS: /usr/bin/time %M.
# After each command the fixture must be running and untraced. No peer is
# measured: Delve has no leak detector (nor has gdb).
#
# Run by hand, as root (or with ptrace rights), on an otherwise idle machine.
# Never run in CI. See docs/BENCHMARKS.md.
#
# Usage: bench/graph/run.sh [--goroutines 100000] [--mb 1024] [--leaks 1000]
#                           [--go 1.27] [--reps 5]
# Writes the markdown results to stdout, progress to stderr, raw numbers to
# bench/graph/.out/results.tsv; exits 1 when a verdict was wrong.
set -uo pipefail
export LC_ALL=C

ngor=100000
mb=1024
leaks=1000
v=1.27
reps=5
usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --goroutines) ngor="$2"; shift 2 ;;
    --mb) mb="$2"; shift 2 ;;
    --leaks) leaks="$2"; shift 2 ;;
    --go) v="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_paths
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"
command -v python3 >/dev/null || die "python3 not found"

build_sonde_release "$root" "$build" "$out/cmake.log"
# the plugins and the build's index (build/plugins/plugins.yaml) for goroutine-graph
cmake --build "$build" --target sonde_plugin_index -j"$(nproc)" >>"$out/cmake.log" 2>&1 ||
  die "plugin build failed, see $out/cmake.log"
plugins="$build/plugins"
grep -q 'name: goroutine-graph' "$plugins/plugins.yaml" 2>/dev/null || die "no goroutine-graph in $plugins/plugins.yaml"
echo '# bench/graph: no settings, defaults only' >"$out/empty.ini"
host_opts=(--config "$out/empty.ini" --index "$plugins/plugins.yaml" --plugin-dir "$plugins")

if command -v dlv >/dev/null 2>&1; then
  peer="Delve ($(dlv version 2>/dev/null | sed -n 's/^Version: //p')) is installed but not compared: it has no leak detector"
else
  peer="Delve is not installed; it has no leak detector to compare anyway"
fi
log "$peer"

build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"

log "Go $v: starting the fixture: $ngor goroutines ($leaks leaked) over a $mb MiB heap"
fixture_start "$out/fixture-go$v" -goroutines "$ngor" -mb "$mb" -leaks "$leaks" # it runs until its input ends
ready=$(grep '^READY ' "$out/fixture.log")
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$ready"; }
if [ "$(field leaks)" != "$leaks" ] || [ "$(field goroutines)" != "$ngor" ]; then
  die "unexpected READY line: $ready"
fi
want_parked=$(field parked)
heap_alloc=$(field heap_alloc)
log "fixture pid $fx_pid: $(field num_goroutine) goroutines, $want_parked of them parked on a primitive," \
    "$(field sleepers) asleep; HeapAlloc $heap_alloc, HeapObjects $(field heap_objects)"
grep -v '^READY ' "$out/fixture.log" >&2
want_rc=13
[ "$leaks" = 0 ] && want_rc=0

# timed CMD...: runs CMD with stdout to $out/cmd.out and stderr to
# $out/cmd.err; sets wall (ms), rss (MiB, /usr/bin/time %M) and crc.
timed() {
  local t0 t1
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%e %M' -o "$out/time" "$@" >"$out/cmd.out" 2>"$out/cmd.err"
  crc=$?
  t1=$EPOCHREALTIME
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", (b - a) * 1000}')
  # the last line: a non-zero exit adds "Command exited with non-zero status N" before it
  rss=$(tail -1 "$out/time" | awk '{printf "%.1f", $2 / 1024}')
}
# stop_of: the target-stopped ms of a --stats line in $out/cmd.err
stop_of() {
  grep 'sonde: stats:' "$out/cmd.err" | sed -n 's/.*target stopped \([0-9.]*\) ms.*/\1/p' | grep . ||
    die "no stats line: $(cat "$out/cmd.err")"
}
# jleaks FILE: complete parked leaked unknown listed ours cycles analysis_ms
# objects_marked bytes_scanned stopped_ms (ours: the listed goroutines in
# main.leakedReceiver; stopped_ms is "-" from a sonde that does not say it)
jleaks() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
gs = d.get("goroutines", [])
ours = [g for g in gs if any(f.get("function") == "main.leakedReceiver" for f in g.get("frames", []))]
print(d.get("complete"), d.get("parked"), d.get("leaked"), d.get("unknown"), len(gs), len(ours),
      len(d.get("cycles", [])), d.get("analysis_ms"), d.get("objects_marked"), d.get("bytes_scanned"),
      d.get("stopped_ms", "-"))' "$1"
}
# mismatch FILE TAG: what a wrong verdict got wrong, into $out/mismatch-TAG.txt:
# the goroutines reported that are not main.leakedReceiver, and the
# main.leakedReceiver goroutines (from sonde goroutines --json) not reported.
mismatch() {
  "$sonde" goroutines -p "$fx_pid" --json >"$out/all.json" 2>"$out/all.err" ||
    log "sonde goroutines failed too: $(cat "$out/all.err")"
  python3 -c 'import json,sys
rep = json.load(open(sys.argv[1]))
try:
    alls = json.load(open(sys.argv[2]))["goroutines"]
except Exception as e:
    alls = []
    print("(no goroutine list: %s)" % e)
def main_frame(g):
    return next((f["function"] for f in g.get("frames", []) if f.get("function", "").startswith("main.")), "?")
reported = {g["id"]: g for g in rep.get("goroutines", [])}
should = {g["id"]: g for g in alls if any(f.get("function") == "main.leakedReceiver" for f in g.get("frames", []))}
extra = [g for i, g in sorted(reported.items()) if i not in should and main_frame(g) != "main.leakedReceiver"]
missing = [g for i, g in sorted(should.items()) if i not in reported]
print("expected %s leaked (main.leakedReceiver: %d in the process), reported %s (leaked=%s)" %
      (sys.argv[3], len(should), len(reported), rep.get("leaked")))
print("reported but not leaked (%d):" % len(extra))
for g in extra[:50]:
    print("  goroutine %d [%s] in %s, waits on %s" % (g["id"], g.get("wait_reason"), main_frame(g),
          [(w.get("kind"), hex(w.get("addr") or 0), hex(w.get("object") or 0)) for w in g.get("waiting_on", [])]))
print("leaked but not reported (%d):" % len(missing))
for g in missing[:50]:
    print("  goroutine %d [%s] in %s" % (g["id"], g.get("wait_reason") or g.get("status"), main_frame(g)))' \
    "$1" "$out/all.json" "$leaks" >"$out/mismatch-$2.txt" 2>&1
  cat "$out/mismatch-$2.txt" >&2
}

results="$out/results.tsv"
printf 'rep\tcmd\twall_ms\tstopped_ms\trss_mib\tanalysis_ms\tleaked\tlisted\tparked\tunknown\tobjects_marked\tbytes_scanned\n' >"$results"
row() { # CMD STOPPED ANALYSIS LEAKED LISTED PARKED UNKNOWN OBJECTS BYTES
  printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$1" "$wall" "$2" "$rss" "$3" "$4" "$5" "$6" \
    "$7" "$8" "$9" >>"$results"
}
wrong=0
# leaks_run KIND [WRAPPER...]: one goroutine-graph leaks run (under
# WRAPPER), checked and recorded as KIND
leaks_run() {
  local kind=$1 ok=1
  shift
  rm -f "$out/leaks.json"
  timed "$@" "$sonde" goroutine-graph leaks -p "$fx_pid" --json -o "$out/leaks.json" "${host_opts[@]}"
  [ "$crc" = 0 ] || [ "$crc" = 13 ] || die "sonde goroutine-graph leaks exited $crc: $(cat "$out/cmd.err")"
  [ -s "$out/leaks.json" ] || die "no $out/leaks.json: $(cat "$out/cmd.err")"
  cp "$out/cmd.err" "$out/leaks.err"
  read -r jcomplete jparked jleaked junknown jlisted jours jcycles janalysis jobjects jbytes jstopped \
    < <(jleaks "$out/leaks.json")
  [ "$crc" = "$want_rc" ] || { log "PROBLEM: rep $r $kind: exit status $crc, expected $want_rc"; ok=0; }
  [ "$jcomplete" = True ] || { log "PROBLEM: rep $r $kind: complete is $jcomplete"; ok=0; }
  if [ "$jleaked" != "$leaks" ] || [ "$jlisted" != "$leaks" ] || [ "$jours" != "$leaks" ]; then
    log "PROBLEM: rep $r $kind: expected $leaks leaked goroutines, all in main.leakedReceiver; found" \
        "leaked=$jleaked, $jlisted listed, $jours of them in main.leakedReceiver"
    mismatch "$out/leaks.json" "$r-$kind"
    ok=0
  fi
  [ "$jparked" = "$want_parked" ] ||
    log "NOTE: rep $r $kind: parked $jparked, the fixture parked $want_parked goroutines on primitives"
  [ "$junknown" = 0 ] || log "NOTE: rep $r $kind: $junknown parked goroutines not checkable"
  [ "$ok" = 1 ] || { wrong=1; cp "$out/leaks.json" "$out/leaks-wrong-$r-$kind.json"; }
  row "$kind" "$jstopped" "$janalysis" "$jleaked" "$jlisted" "$jparked" "$junknown" "$jobjects" "$jbytes"
  log "rep $r/$reps $kind: wall $wall ms, stopped $jstopped ms, RSS $rss MiB, exit $crc; leaked $jleaked" \
      "($jours in main.leakedReceiver) of $jparked parked, $junknown unknown, $jcycles cycles;" \
      "analysis $janalysis ms, $jobjects objects marked, $jbytes bytes scanned"
  check_target "sonde goroutine-graph leaks" || die "the fixture was harmed"
}
kinds=leaks
command -v taskset >/dev/null && kinds="leaks leaks-1cpu"

for ((r = 1; r <= reps; r++)); do
  # 1. the verdict
  leaks_run leaks
  # 2. the same, sonde on one CPU
  [ "$kinds" = leaks ] || leaks_run leaks-1cpu taskset -c 0

  # 3. the heap's spans, as the analysis reads them (no types)
  timed "$sonde" heap -p "$fx_pid" --stats --types 0
  [ "$crc" = 0 ] || die "sonde heap failed: $(cat "$out/cmd.err")"
  stop=$(stop_of)
  row heap "$stop" - - - - - - -
  log "rep $r/$reps heap --types 0: wall $wall ms, stopped $stop ms, RSS $rss MiB"
  check_target "sonde heap" || die "the fixture was harmed"

  # 4. the goroutines, system ones too, and their waits
  timed "$sonde" goroutines -p "$fx_pid" --json --waits --system --stats
  [ "$crc" = 0 ] || die "sonde goroutines failed: $(cat "$out/cmd.err")"
  stop=$(stop_of)
  row goroutines "$stop" - - - - - - -
  log "rep $r/$reps goroutines --waits: wall $wall ms, stopped $stop ms, RSS $rss MiB"
  check_target "sonde goroutines" || die "the fixture was harmed"
done
rm -f "$out/cmd.out"

# col CMD N: column N of CMD's rows, sorted
col() { awk -F'\t' -v k="$1" -v c="$2" 'NR > 1 && $2 == k {print $c}' "$results" | sort -n; }
# med [FMT]: the median of the numbers on stdin, printed with FMT (%.1f)
med() { awk -v f="${1:-%.1f}" '{a[NR]=$1} END{printf f "\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# minmax CMD N FMT: "median (min-max)" of column N, or "-"
minmax() {
  [ "$(col "$1" "$2" | head -1)" = - ] && { echo "-"; return; }
  printf "%s ($3-$3)\n" "$(col "$1" "$2" | med "$3")" "$(col "$1" "$2" | head -1)" "$(col "$1" "$2" | tail -1)"
}
# found CMD: the distinct leaked counts of CMD's rows
found() { col "$1" 7 | uniq | paste -sd/ -; }
one() { col "$1" "$2" | tail -1; }
sum() { awk -v a="$1" -v b="$2" -v c="${3:-0}" 'BEGIN{printf "%.1f", a + b + c}'; }

echo "sonde $sonde_rev, Go $v ($("/usr/lib/go-$v/bin/go" version | cut -d' ' -f3)), $(nproc) CPUs," \
     "load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg), $reps reps"
echo
echo "Fixture: $ngor goroutines ($leaks leaked, $want_parked parked on a primitive, $(field sleepers) asleep)," \
     "$mb MiB, HeapAlloc $heap_alloc ($((heap_alloc / 1048576)) MiB), HeapObjects $(field heap_objects);" \
     "sonde: parked $(one leaks 9), unknown $(one leaks 10), $(one leaks 11) objects marked, $(one leaks 12) bytes scanned"
echo
echo "| command | wall ms, median (min-max) | target stopped ms, median (min-max) | peak RSS MiB, median (max) | analysis_ms, median (min-max) | leaked found (expected $leaks) |"
echo "|---|---|---|---|---|---|"
for k in $kinds heap goroutines; do
  # shellcheck disable=SC2016 # the backquotes are markdown
  case $k in
    leaks) name='`goroutine-graph leaks --json -o F.json`' ;;
    leaks-1cpu) name='the same under `taskset -c 0` (one CPU)' ;;
    heap) name='`heap --stats --types 0`' ;;
    goroutines) name='`goroutines --json --waits --system --stats`' ;;
  esac
  f=-
  [ "${k#leaks}" != "$k" ] && f=$(found "$k")
  echo "| $name | $(minmax "$k" 3 %.0f) | $(minmax "$k" 4 %.1f) | $(col "$k" 5 | med) ($(col "$k" 5 | tail -1)) |" \
       "$(minmax "$k" 6 %.1f) | $f |"
done
echo
a=$(col leaks 6 | med); hs=$(col heap 4 | med); gs=$(col goroutines 4 | med)
reads="\`heap --types 0\` and \`goroutines --waits --system\` read, which stop the target $hs and $gs ms, each in a stop of its own ($(sum "$hs" "$gs") ms together)"
if [ "$(col leaks 4 | head -1)" = - ]; then
  echo "The target's stop in \`goroutine-graph leaks\` (medians): not reported by this sonde. The analysis takes" \
       "$a ms of it (analysis_ms); the rest reads what $reads; with the analysis, $(sum "$a" "$hs" "$gs") ms."
else
  st=$(col leaks 4 | med)
  echo "The target's stop in \`goroutine-graph leaks\` (medians): $st ms (stopped_ms), of which the analysis" \
       "$a ms (analysis_ms) and the rest $(sum "$st" "-$a") ms. The rest reads what $reads."
fi
w=$(col leaks 3 | med %.0f)
if [ "$w" -lt 2000 ]; then verdict="met"; else verdict="NOT met"; fi
echo
echo "Time to a leak verdict: $w ms (median; max $(col leaks 3 | tail -1) ms): issue 8's target, under 2000 ms, is $verdict."
echo "$peer."
if [ "$wrong" = 1 ]; then
  echo
  echo "PROBLEM: some verdicts were wrong; see $out/mismatch-*.txt and $out/leaks-wrong-*.json"
  exit 1
fi
