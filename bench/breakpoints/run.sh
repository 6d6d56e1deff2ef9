#!/usr/bin/env bash
# bench/breakpoints/run.sh: what a sonde breakpoint costs the process it is
# set in. A Go fixture calls main.tick (or main.leaf) in a tight loop on one
# goroutine; run.sh measures the calls per second untraced, then while
# `sonde attach` has a breakpoint on the function (every call is one hit),
# and, if Delve is installed, while `dlv trace` traces it. The difference is
# the time each hit adds to the target, in microseconds.
#
# Run by hand, as root (or with ptrace rights), on an otherwise idle machine.
# Never run in CI. See bench/breakpoints/README.md.
#
# Usage: bench/breakpoints/run.sh [--go "1.27 1.21"] [--secs 5] [--reps 3]
#            [--sonde BINARY] [--tsv FILE] [--no-delve] [--no-leaf]
#   --go     one or more Go versions (toolchains at /usr/lib/go-VERSION)
#   --secs   seconds per measurement (baseline, each sonde case, Delve)
#   --reps   rounds per Go version and function (a fresh fixture each)
#   --sonde  a sonde binary to use (default: a Release build of this tree,
#            made in build-bench/ or $SONDE_BUILD_DIR)
#   --tsv    write the per-run TSV to FILE instead of the end of stdout
#
# The table, then (without --tsv) the TSV after a "--- tsv ---" line, go to
# stdout; progress and problems to stderr; logs to bench/breakpoints/.out/.
set -uo pipefail
export LC_ALL=C

gos="1.27"
secs=5
reps=3
sonde_arg=""
tsv_file=""
use_delve=auto
do_leaf=yes
sample_ms=100      # the fixture prints a sample line this often
never_goid=999999999

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --go) gos="$2"; shift 2 ;;
    --secs) secs="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --sonde) sonde_arg="$2"; shift 2 ;;
    --tsv) tsv_file="$2"; shift 2 ;;
    --no-delve) use_delve=no; shift ;;
    --no-leaf) do_leaf=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

[[ "$secs" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--secs wants a number of seconds, not '$secs'"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--reps wants a positive integer, not '$reps'"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/.out"
mkdir -p "$out" || { echo "run.sh: error: cannot create $out" >&2; exit 1; }

# ---- sonde ----------------------------------------------------------------------
# By default a Release build of this tree (in build-bench, as bench/goroutines);
# --sonde takes a given binary instead (relative: from here, else the root).
if [ -z "$sonde_arg" ]; then
  build_sonde_release "$root" "${SONDE_BUILD_DIR:-$root/build-bench}" "$out/cmake.log"
  sonde="${SONDE_BUILD_DIR:-$root/build-bench}/host/sonde"
else
  sonde="$sonde_arg"
  if [[ "$sonde" != /* ]]; then
    if [ -x "$PWD/$sonde" ]; then sonde="$PWD/$sonde"; else sonde="$root/$sonde"; fi
  fi
  [ -x "$sonde" ] && [ ! -d "$sonde" ] || die "no sonde binary at $sonde_arg"
fi
command -v cc >/dev/null 2>&1 || die "no C compiler (cc) for the noop plugin"
mkdir -p "$out" || die "cannot create $out"

attach_help=$("$sonde" attach --help 2>&1)
has_plugin=no; grep -q -- '--plugin' <<<"$attach_help" && has_plugin=yes
has_nonstop=no; grep -q -- '--non-stop' <<<"$attach_help" && has_nonstop=yes
sonde_version=$("$sonde" --version 2>/dev/null | head -1)
sonde_build_type=""
bdir=$(cd "$(dirname "$sonde")/.." && pwd)
[ -f "$bdir/CMakeCache.txt" ] && sonde_build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$bdir/CMakeCache.txt")
[ -z "$sonde_build_type" ] || [ "$sonde_build_type" = Release ] ||
  log "warning: $sonde is a '$sonde_build_type' build; numbers from a Release build are the ones to quote"
sonde_age=""
if [ -d "$root/host" ] && [ -n "$(find "$root/host" -newer "$sonde" -type f 2>/dev/null | head -1)" ]; then
  sonde_age=" (older than some files in host/: rebuild to measure the current source)"
  log "warning: $sonde is older than some files in $root/host"
fi
log "sonde: $sonde ($sonde_version${sonde_build_type:+, $sonde_build_type}); --plugin: $has_plugin; --non-stop: $has_nonstop"

# ---- Delve ------------------------------------------------------------------------
dlv=""
dlv_version=""
if [ "$use_delve" = auto ] && command -v dlv >/dev/null 2>&1; then
  dlv=$(command -v dlv)
  dlv_version=$("$dlv" version 2>/dev/null | sed -n 's/^Version: //p')
  log "Delve $dlv_version at $dlv: measured too (dlv trace -p PID on main.tick)"
else
  log "Delve not measured"
fi

# ---- state and cleanup ----------------------------------------------------------
fx_pid=""       # the running fixture
fx_log=""
tool_pid=""     # the running sonde or dlv
tool_kind=""    # sonde | dlv
tmpdir=""

# stop_tool: ends a sonde or dlv still running. sonde detaches on SIGTERM;
# Delve is stopped as run_dlv stops it (dlv_stop).
stop_tool() {
  [ -n "$tool_pid" ] || return 0
  if kill -0 "$tool_pid" 2>/dev/null; then
    local i
    if [ "$tool_kind" = dlv ]; then
      dlv_stop || true
    else
      kill -TERM "$tool_pid" 2>/dev/null
      for ((i = 0; i < 40; i++)); do kill -0 "$tool_pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$tool_pid" 2>/dev/null && { log "killing sonde (pid $tool_pid)"; kill -KILL "$tool_pid" 2>/dev/null; }
    fi
  fi
  wait "$tool_pid" 2>/dev/null
  tool_pid=""
}

# dlv_stop: a clean end for `dlv trace -p`. Delve stops only on SIGINT, and
# only on the first one (it asks the target to halt once); a halt that arrives
# while a stream of tracepoint hits keeps stopping the target is lost. So the
# fixture's loop is paused first (SIGUSR2; it prints "paused"), then Delve gets
# one SIGINT, halts the now quiet target, detaches and leaves it running; the
# loop is resumed. Returns 1 (after SIGKILL, which also kills the fixture: its
# breakpoints stay in) when Delve is still there after 15 s.
dlv_stop() {
  local i np
  if [ -n "$fx_pid" ] && kill -0 "$fx_pid" 2>/dev/null; then
    np=$(grep -c '^paused$' "$fx_log")
    kill -USR2 "$fx_pid"
    for ((i = 0; i < 200; i++)); do
      [ "$(grep -c '^paused$' "$fx_log")" -gt "$np" ] && break
      kill -0 "$tool_pid" 2>/dev/null || break
      sleep 0.05
    done
    sleep 0.3   # the last hit's stop is handled by now
  fi
  kill -INT "$tool_pid" 2>/dev/null
  for ((i = 0; i < 150; i++)); do kill -0 "$tool_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$tool_pid" 2>/dev/null; then
    log "PROBLEM: dlv (pid $tool_pid) did not stop on SIGINT within 15 s; killing it (the fixture dies with it)"
    kill -KILL "$tool_pid" 2>/dev/null
    wait "$tool_pid" 2>/dev/null
    return 1
  fi
  wait "$tool_pid" 2>/dev/null
  [ -n "$fx_pid" ] && kill -0 "$fx_pid" 2>/dev/null && [ "$(grep -c '^paused$' "$fx_log")" -gt "$(grep -c '^resumed$' "$fx_log")" ] &&
    kill -USR2 "$fx_pid"
  return 0
}

stop_fixture() {
  [ -n "$fx_pid" ] || return 0
  kill -CONT "$fx_pid" 2>/dev/null
  kill -TERM "$fx_pid" 2>/dev/null
  local i
  for ((i = 0; i < 20; i++)); do kill -0 "$fx_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$fx_pid" 2>/dev/null
  wait "$fx_pid" 2>/dev/null
  fx_pid=""
}

cleanup() {
  stop_tool
  stop_fixture
  [ -n "$tmpdir" ] && rm -rf "$tmpdir"
  tmpdir=""
}
trap 'cleanup' EXIT
trap 'log "interrupted; cleaning up"; cleanup; exit 130' INT TERM HUP

# ---- build the fixture, once per Go version ---------------------------------------
declare -A first_insn
for v in $gos; do
  gobin="/usr/lib/go-$v/bin/go"
  build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"
  # The first instruction of each function (the breakpoint's site).
  for fn in tick leaf; do
    first_insn[$v.$fn]=$("$gobin" tool objdump -s "^main\\.$fn\$" "$out/fixture-go$v" 2>/dev/null |
      awk '/^TEXT/{getline; sub(/^[ \t]*[^ \t]+[ \t]+0x[0-9a-f]+[ \t]+/, ""); gsub(/[ \t]+/, " "); sub(/ $/, ""); print; exit}')
  done
  log "Go $v: main.tick starts with '${first_insn[$v.tick]}', main.leaf with '${first_insn[$v.leaf]}'"
  case "${first_insn[$v.tick]}" in
    493b6610*) ;;
    *) log "warning: Go $v: main.tick does not start with the stack check cmp rsp,[r14+0x10] (493b6610)" ;;
  esac
done

# ---- the floor: a bare ptrace stop and resume on this machine ----------------------
cc -std=c11 -O2 -o "$out/floor" "$here/floor.c" 2>"$out/floor-cc.log" || die "floor.c: $(cat "$out/floor-cc.log")"
floors=""
for k in 1 2 3; do
  f=$("$out/floor" 100000 | sed -n 's/^floor_us=//p')
  floors="$floors $f"
done
log "ptrace floor (int3, waitpid, PTRACE_CONT; µs per round trip):$floors"

# ---- build and index the noop plugin ------------------------------------------------
# The plugin directory must not be writable by group or others (sonde refuses
# it otherwise), so it is a fresh mktemp directory, mode 0755.
tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/sonde-bench-bp.XXXXXX") || die "mktemp failed"
chmod 0755 "$tmpdir"
plugdir="$tmpdir/plugins"
mkdir -m 0755 "$plugdir"
if [ "$has_plugin" = yes ]; then
  cc -std=c11 -Wall -Wextra -O2 -shared -fPIC -fvisibility=hidden -Wl,-z,defs \
    -I "$root/plugin-api" -o "$plugdir/noop.so" "$here/noop.c" 2>"$out/noop-cc.log" ||
    die "noop plugin build failed: $(cat "$out/noop-cc.log")"
  chmod 0755 "$plugdir/noop.so"
  cat >"$tmpdir/index-src.yaml" <<'EOF'
# bench/breakpoints: the noop plugin (version, abi and sha256 are written by sonde index update)
schema: 1
plugins:
  - name: noop
    file: noop.so
    description: "bench/breakpoints: does nothing on every breakpoint hit"
EOF
  "$sonde" index update --config /dev/null --from "$tmpdir/index-src.yaml" \
    --index "$plugdir/plugins.yaml" --plugin-dir "$plugdir" >"$out/index-update.log" 2>&1 ||
    die "sonde index update failed: $(cat "$out/index-update.log")"
  log "noop plugin built and indexed in $plugdir"
else
  log "this sonde's attach has no --plugin: the plugin cases (b) are skipped"
fi

# ---- helpers --------------------------------------------------------------------------
now_ns() { echo "${EPOCHREALTIME/./}000"; }

# start_fixture GOVERSION FN: starts the fixture and waits for "READY <pid>".
start_fixture() {
  local v=$1 fn=$2 i
  fx_log="$out/fixture-go$v-$fn.log"
  : >"$fx_log"
  "$out/fixture-go$v" -fn "$fn" -every "${sample_ms}ms" >"$fx_log" 2>&1 &
  fx_pid=$!
  for ((i = 0; i < 300; i++)); do
    if grep -q '^READY ' "$fx_log"; then
      [ "$(awk '/^READY /{print $2; exit}' "$fx_log")" = "$fx_pid" ] || die "fixture printed an unexpected pid"
      return 0
    fi
    kill -0 "$fx_pid" 2>/dev/null || die "fixture exited: $(cat "$fx_log")"
    sleep 0.1
  done
  die "fixture not READY after 30 s"
}

# wait_sample T_NS: until the fixture has printed a sample taken at or after T_NS.
wait_sample() {
  local t=$1 i
  for ((i = 0; i < 100; i++)); do
    awk -v t="$t" '$1 == "sample" { split($4, u, "="); if (u[2] + 0 >= t + 0) f = 1 } END { exit !f }' "$fx_log" && return 0
    kill -0 "$fx_pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# rate T0_NS T1_NS [FILTER]: the fixture's calls between its samples taken
# from T0 to T1, as "calls seconds calls_per_s intervals_kept intervals
# longest_gap_s" (empty with fewer than 2 samples). The samples are ~100 ms
# apart. With FILTER=1, intervals faster than 3x the median interval are left
# out: at the edges of a session an interval that holds even a few ms without
# the breakpoint counts millions of calls (the loop makes ~1e8 a second
# untraced) and would swamp the thousands of hits around it. Intervals where
# the whole process stood still (rate 0) are kept: that cost is real.
rate() {
  awk -v t0="$1" -v t1="$2" -v filter="${3:-0}" '
    $1 == "sample" {
      split($2, c, "="); split($4, u, "=")
      if (u[2] + 0 < t0 + 0 || u[2] + 0 > t1 + 0) next
      if (n > 0 && u[2] > pu) { m++; dc[m] = c[2] - pc; dt[m] = (u[2] - pu) / 1e9; r[m] = dc[m] / dt[m]; s[m] = r[m] }
      pc = c[2]; pu = u[2]; n++
    }
    END {
      if (m < 1) exit
      for (k = 2; k <= m; k++) { x = s[k]; for (j = k - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]; s[j + 1] = x }
      med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
      for (i = 1; i <= m; i++) {
        if (filter && r[i] > 3 * med + 10) continue
        sc += dc[i]; st += dt[i]; kept++; if (dt[i] > gap) gap = dt[i]
      }
      if (st > 0) printf "%.0f %.3f %.1f %d %d %.3f\n", sc, st, sc / st, kept, m, gap
    }' "$fx_log"
}


results="$out/results.tsv"
printf 'go\tfn\tcase\trep\tcalls\twindow_s\tcalls_per_s\tbaseline_per_s\tus_per_hit\ttool_hits\ttool_s\ttool_hits_per_s\tsetup_s\tintervals\tlongest_gap_s\tstatus\tsummary\n' >"$results"
problems=0

# record CASE RATE_LINE TOOL_HITS TOOL_S SETUP_S STATUS SUMMARY: one TSV row.
record() {
  local case=$1 r=$2 hits=$3 ts=$4 setup=$5 st=$6 summary=$7 calls="" win="" cps="" us="" hps="" kept="" nint="" gap=""
  [ -n "$r" ] && read -r calls win cps kept nint gap <<<"$r"
  if [ -n "$cps" ] && [ -n "$base_cps" ] && [ "$case" != baseline ]; then
    us=$(awk -v a="$cps" -v b="$base_cps" 'BEGIN { if (a > 0) printf "%.2f", (1 / a - 1 / b) * 1e6 }')
  fi
  if [ -n "$hits" ] && [ -n "$ts" ]; then
    hps=$(awk -v h="$hits" -v s="$ts" 'BEGIN { if (s > 0) printf "%.1f", h / s }')
  fi
  [ -z "$cps" ] && [ "$st" = ok ] && st="no-samples"
  printf '%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$v" "$fn" "$case" "$rep" "$calls" "$win" "$cps" "$base_cps" "$us" "$hits" "$ts" "$hps" "$setup" "${kept:+$kept/$nint}" "$gap" "$st" "$summary" >>"$results"
  log "  $case: ${cps:-?} calls/s${us:+, $us us/hit}${hps:+, tool $hps hits/s}${setup:+, setup $setup s}${kept:+, $kept/$nint intervals, longest $gap s}; $st${summary:+; $summary}"
}

# run_sonde CASE ARGS...: one `sonde attach` session with ARGS after -b FN.
run_sonde() {
  local case=$1; shift
  local err="$out/sonde-$v-$fn-$case-$rep.err" t_start t_on="" t_off rc i summary hits ts st setup
  t_start=$(now_ns)
  "$sonde" attach -p "$fx_pid" -b "main.$fn" "$@" -d "$secs" -q >/dev/null 2>"$err" &
  tool_pid=$!; tool_kind=sonde
  # The window opens when the breakpoint is in ("sonde: breakpoint [N] at F").
  for ((i = 0; i < 3000; i++)); do
    grep -qE '^sonde: breakpoint( [0-9]+)? at ' "$err" && { t_on=$(now_ns); break; }
    kill -0 "$tool_pid" 2>/dev/null || break
    sleep 0.01
  done
  wait "$tool_pid"; rc=$?
  tool_pid=""
  t_off=$(now_ns)
  [ -n "$t_on" ] || t_on=$t_start
  setup=$(awk -v a="$t_start" -v b="$t_on" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  wait_sample "$t_off"
  summary=$(grep -E '^sonde: .*hits' "$err" | tail -1 | sed 's/^sonde: //')
  hits=$(sed -n 's/.*: \([0-9][0-9]*\) hits.*/\1/p' <<<"$summary")
  ts=$(sed -n 's/.* after \([0-9.]*\) s:.*/\1/p' <<<"$summary")
  if [ "$rc" = 0 ]; then st=ok; else
    st="rc=$rc"; problems=$((problems + 1))
    log "PROBLEM: sonde ($case) exited $rc: $(head -c 1500 "$err")"
  fi
  record "$case" "$(rate "$t_on" "$t_off" 1)" "$hits" "$ts" "$setup" "$st" "$summary"
  check_target "sonde $case" || problems=$((problems + 1))
}

# run_dlv: `dlv trace -p PID` on main.$fn for $secs seconds from its first
# trace line, then dlv_stop. Delve runs in its own session (setsid) so that a
# Ctrl-C on the terminal does not use up its one SIGINT: the trap stops it.
run_dlv() {
  local case=delve err="$out/dlv-$v-$fn-$rep.err" t_start t_on="" t_off i st=ok setup entries returns r
  t_start=$(now_ns)
  setsid "$dlv" trace -p "$fx_pid" --check-go-version=false "^main\\.$fn\$" >"$out/dlv-$v-$fn-$rep.out" 2>"$err" &
  tool_pid=$!; tool_kind=dlv
  for ((i = 0; i < 6000; i++)); do
    grep -q '^> ' "$err" && { t_on=$(now_ns); break; }
    kill -0 "$tool_pid" 2>/dev/null || break
    sleep 0.01
  done
  if [ -z "$t_on" ]; then
    log "PROBLEM: dlv trace produced no trace line: $(head -c 1500 "$err")"
    problems=$((problems + 1)); st=no-trace
    t_on=$t_start
  else
    sleep "$secs"
  fi
  t_off=$(now_ns)
  if ! dlv_stop; then problems=$((problems + 1)); st=killed; fi
  tool_pid=""
  r=$(rate "$t_on" "$t_off")
  entries=$(grep -c '^> ' "$err")
  returns=$(grep -c '^>> ' "$err")
  setup=$(awk -v a="$t_start" -v b="$t_on" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  record "$case" "$r" "$entries" "$(awk -v a="$t_start" -v b="$t_off" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" "$setup" "$st" \
    "dlv trace: $entries entry and $returns return events (whole session, setup included)"
  check_target delve || problems=$((problems + 1))
}

# ---- the runs ----------------------------------------------------------------------------
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
fns="tick"; [ "$do_leaf" = yes ] && fns="tick leaf"
plugin_args=(--plugin noop --plugin-dir "$plugdir" --index "$plugdir/plugins.yaml" --config /dev/null)

for v in $gos; do
  for fn in $fns; do
    for ((rep = 1; rep <= reps; rep++)); do
      log "Go $v, main.$fn, rep $rep/$reps: starting fixture"
      start_fixture "$v" "$fn"
      sleep 0.3   # let it settle
      # baseline
      base_cps=""
      t0=$(now_ns); sleep "$secs"; t1=$(now_ns)
      wait_sample "$t1"
      r=$(rate "$t0" "$t1")
      [ -n "$r" ] && read -r _ _ base_cps _ <<<"$r"
      record baseline "$r" "" "" "" ok ""
      if [ -z "$base_cps" ]; then
        log "PROBLEM: no baseline for Go $v main.$fn rep $rep; skipping this round"
        problems=$((problems + 1)); stop_fixture; continue
      fi
      run_sonde a --goid "$never_goid"
      [ "$has_plugin" = yes ] && run_sonde b "${plugin_args[@]}"
      if [ "$has_nonstop" = yes ]; then
        run_sonde "a'" --goid "$never_goid" --non-stop
        [ "$has_plugin" = yes ] && run_sonde "b'" "${plugin_args[@]}" --non-stop
      fi
      if [ -n "$dlv" ] && [ "$fn" = tick ]; then
        run_dlv
      fi
      stop_fixture
    done
  done
done

# ---- the table ---------------------------------------------------------------------------
echo "## bench/breakpoints results"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "- sonde: $sonde ($sonde_version${sonde_build_type:+, $sonde_build_type build}, sha256 $(sha256sum "$sonde" | cut -c1-12))$sonde_age"
echo "- attach --plugin: $has_plugin; attach --non-stop: $has_nonstop${dlv_version:+; Delve $dlv_version}"
echo "- the floor on this machine, a bare ptrace stop and resume (floor.c: int3, waitpid, PTRACE_CONT), 3 runs: $floors µs"
echo "- $secs s per measurement, $reps rep(s); load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in $gos; do
  echo "- Go $v: first instruction of main.tick: \`${first_insn[$v.tick]}\`; of main.leaf: \`${first_insn[$v.leaf]}\`"
done
echo
echo "| Go | function | case | calls/s, median | µs added per hit, median (min-max) | tool's hits/s, median | longest gap s, max | Delve ÷ this |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
awk -F'\t' '
  function median(list,   a, k, j, m, x) {
    m = split(list, a, " "); if (m == 0) return ""
    for (k = 2; k <= m; k++) { x = a[k] + 0; for (j = k - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  function minof(list,   a, k, m, x) { m = split(list, a, " "); x = ""; for (k = 1; k <= m; k++) if (x == "" || a[k] + 0 < x + 0) x = a[k]; return x }
  function maxof(list,   a, k, m, x) { m = split(list, a, " "); x = ""; for (k = 1; k <= m; k++) if (x == "" || a[k] + 0 > x + 0) x = a[k]; return x }
  NR == 1 { next }
  {
    key = $1 SUBSEP $2 SUBSEP $3
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    if ($7 != "") cps[key] = cps[key] " " $7
    if ($9 != "") us[key] = us[key] " " $9
    if ($12 != "") hps[key] = hps[key] " " $12
    if ($16 != "ok") bad[key] = bad[key] " " $16
    if ($15 != "" && $15 + 0 > gap[key] + 0) gap[key] = $15
  }
  END {
    for (i = 1; i <= nk; i++) {
      key = order[i]; split(key, f, SUBSEP)
      dk = f[1] SUBSEP f[2] SUBSEP "delve"
      c = median(cps[key]); u = median(us[key]); h = median(hps[key]); du = median(us[dk])
      cs = (c == "") ? "-" : sprintf("%.0f", c)
      fmt = (u + 0 < 10) ? "%.2f (%.2f-%.2f)" : "%.1f (%.1f-%.1f)"
      usd = (u == "") ? "-" : sprintf(fmt, u, minof(us[key]), maxof(us[key]))
      hs = (h == "") ? "-" : sprintf("%.0f", h)
      ratio = ""
      if (f[3] != "baseline" && f[3] != "delve" && du != "" && u + 0 > 0) ratio = sprintf("%.1fx", du / u)
      name = f[3]
      if (name == "a") name = "(a) sonde, --goid never"
      else if (name == "b") name = "(b) sonde + noop plugin"
      else if (name == "a'\''") name = "(a'\'') (a) --non-stop"
      else if (name == "b'\''") name = "(b'\'') (b) --non-stop"
      else if (name == "delve") name = "(c) dlv trace"
      if (bad[key] != "") name = name " (problems:" bad[key] ")"
      gs = (gap[key] == "") ? "-" : sprintf("%.2f", gap[key])
      printf "| %s | main.%s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], name, cs, usd, hs, gs, ratio
    }
  }' "$results"
echo
cat <<EOF
calls/s: the fixture's own count, while the breakpoint was in (sonde: from its
"breakpoint at" line to its exit, leaving out ~100 ms intervals faster than 3x the
median, i.e. the edges; Delve: from its first trace line for $secs s).
µs added per hit = (1/calls_per_s - 1/baseline_per_s) * 1e6. One goroutine calls the
function, so every call is one hit (Delve stops twice per call: entry and return).
tool's hits/s: sonde's own summary line (hits / its duration); Delve: entry events
over its whole session, attach included. longest gap: the longest time between two
of the fixture's 100 ms samples, i.e. the longest the whole process stood still.
Delve ÷ this: Delve's µs per call over this case's. Per-run rows with sonde's summary
lines: the TSV; each tool's stderr: $out/.
EOF
if [ "$problems" -gt 0 ]; then
  echo
  echo "**$problems problem(s) seen during the run; see the log on stderr.**"
fi
if [ -n "$tsv_file" ]; then
  cp "$results" "$tsv_file" || die "cannot write $tsv_file"
  log "TSV written to $tsv_file"
else
  echo
  echo "--- tsv ---"
  cat "$results"
fi
[ "$problems" -eq 0 ]
