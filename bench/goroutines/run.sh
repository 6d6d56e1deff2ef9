#!/usr/bin/env bash
# bench/goroutines/run.sh: how long `sonde goroutines` takes on a Go process
# with many goroutines, how long it keeps the target stopped, and how much
# memory it needs; and, if Delve is installed, the same for `dlv attach` +
# `goroutines -t`, interleaved with sonde in the same run.
#
# Run by hand, as root (or with ptrace rights), on an otherwise idle machine.
# Never run in CI. See docs/BENCHMARKS.md for what is measured and why.
#
# Usage: bench/goroutines/run.sh [--sizes "10000 100000"] [--go "1.27 1.21"]
#                                [--reps 5] [--dlv-timeout 300] [--no-delve]
#   --go takes one or more Go versions (toolchains at /usr/lib/go-VERSION);
#   sonde is built in $SONDE_BUILD_DIR (default build-bench/, Release).
#
# Writes the markdown results table to stdout; progress goes to stderr; raw
# per-run numbers to bench/goroutines/.out/results.tsv.
set -uo pipefail
export LC_ALL=C

sizes="10000 100000"
gos="1.27"
reps=5
dlv_timeout=300
dlv_depth=64          # `goroutines -t 64`: Delve's default depth of 10 truncates some stacks
use_delve=auto

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --go) gos="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --dlv-timeout) dlv_timeout="$2"; shift 2 ;;
    --no-delve) use_delve=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bench_paths
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"
# Timestamps in microseconds are taken inline as ${EPOCHREALTIME/./}: no fork.

# ---- build sonde (Release) --------------------------------------------------
build_sonde_release "$root" "$build" "$out/cmake.log"

# ---- build the fixture, once per Go version -----------------------------------
for v in $gos; do
  build_go_fixture "$here/fixture" "$out/fixture-go$v" "$v" "$out"
done

# ---- Delve --------------------------------------------------------------------
dlv=""
if [ "$use_delve" = auto ] && command -v dlv >/dev/null 2>&1; then
  dlv=$(command -v dlv)
  dlv_version=$("$dlv" version 2>/dev/null | sed -n 's/^Version: //p')
  log "Delve $dlv_version at $dlv: measured too"
else
  dlv_version=""
  log "Delve not measured"
fi

# ---- helpers --------------------------------------------------------------------
fx_pid=""
stop_fixture() {
  if [ -n "$fx_pid" ]; then
    kill -CONT "$fx_pid" 2>/dev/null; kill "$fx_pid" 2>/dev/null; wait "$fx_pid" 2>/dev/null
    fx_pid=""
  fi
}
trap 'stop_fixture' EXIT
trap 'stop_fixture; exit 130' INT TERM

# start_fixture GOVERSION N: starts the fixture and waits for "READY <pid>".
start_fixture() {
  local v=$1 n=$2 i
  : >"$out/fixture.log"
  "$out/fixture-go$v" -n "$n" >"$out/fixture.log" 2>&1 &
  fx_pid=$!
  for ((i = 0; i < 1200; i++)); do
    if grep -q '^READY ' "$out/fixture.log"; then
      [ "$(awk '/^READY /{print $2}' "$out/fixture.log")" = "$fx_pid" ] ||
        die "fixture printed an unexpected pid"
      return 0
    fi
    kill -0 "$fx_pid" 2>/dev/null || die "fixture exited: $(cat "$out/fixture.log")"
    sleep 0.1
  done
  die "fixture -n $n not READY after 120 s"
}


# Fork-free sleep for the poller.
exec {sleep_fd}<> <(:)

# poll_traced PID FILE: until FILE.stop exists, polls /proc/PID/status every
# ~5 ms and writes to FILE the first and last time (us) TracerPid was non-zero.
poll_traced() {
  local pid=$1 file=$2 first="" last="" now k v
  while [ ! -e "$file.stop" ]; do
    now=${EPOCHREALTIME/./}
    v=0
    while read -r k v _; do [ "$k" = TracerPid: ] && break; done <"/proc/$pid/status"
    if [ "${v:-0}" != 0 ]; then
      [ -z "$first" ] && first=$now
      last=$now
    fi
    read -r -t 0.005 -u "$sleep_fd" _
  done
  echo "$first $last" >"$file"
}

# run_sonde OUTFILE: one dump; sets s_wall_ms s_stop_ms s_rss_mib s_total_ms s_rc.
run_sonde() {
  local dest=$1 t0 t1 stats
  t0=${EPOCHREALTIME/./}
  "$sonde" goroutines -p "$fx_pid" --stats >"$dest" 2>"$out/sonde.err"
  s_rc=$?
  t1=${EPOCHREALTIME/./}
  s_wall_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1000}')
  stats=$(grep '^sonde: stats:' "$out/sonde.err")
  s_stop_ms=$(sed -n 's/.*target stopped \([0-9.]*\) ms.*/\1/p' <<<"$stats")
  s_total_ms=$(sed -n 's/.*, total \([0-9.]*\) ms.*/\1/p' <<<"$stats")
  s_rss_mib=$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$stats")
  if [ "$s_rc" != 0 ]; then
    log "PROBLEM: sonde exited $s_rc: $(cat "$out/sonde.err")"
  fi
}

# run_dlv OUTFILE: one Delve session; sets d_wall_ms d_stop_ms d_rss_mib d_status.
run_dlv() {
  local dest=$1 t0 t1 rc first last
  local polled="$out/dlv.traced"
  rm -f "$polled" "$polled.stop"
  poll_traced "$fx_pid" "$polled" &
  local poller=$!
  t0=${EPOCHREALTIME/./}
  # `exit`, then `n` to "Would you like to kill the process? [Y/n]": Delve
  # detaches and the target runs on. (`quit -c` needs a multiclient server.)
  printf 'goroutines -t %d\nexit\nn\n' "$dlv_depth" |
    /usr/bin/time -v -o "$out/dlv.time" \
      timeout -k 10 "$dlv_timeout" "$dlv" attach "$fx_pid" \
        --allow-non-terminal-interactive=true --check-go-version=false \
      >"$dest" 2>"$out/dlv.err"
  rc=$?
  t1=${EPOCHREALTIME/./}
  touch "$polled.stop"; wait "$poller"
  d_wall_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1000}')
  d_rss_mib=$(awk '/Maximum resident set size/{printf "%.1f", $NF/1024}' "$out/dlv.time")
  read -r first last <"$polled" || true
  if [ -n "${first:-}" ]; then
    d_stop_ms=$(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.0f", (b-a)/1000}')
  else
    d_stop_ms=""
  fi
  case $rc in
    0) d_status=ok ;;
    124|137) d_status=timeout; log "Delve timed out after $dlv_timeout s" ;;
    *) d_status="rc=$rc"; log "PROBLEM: Delve exited $rc: $(tail -3 "$out/dlv.err")" ;;
  esac
}

# timed_sonde TOOLNAME REP: one timed sonde run, recorded under TOOLNAME.
timed_sonde() {
  local st
  run_sonde /dev/null
  if [ "$s_rc" = 0 ]; then st=ok; else st="rc=$s_rc"; problems=$((problems + 1)); fi
  printf '%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n' "$v" "$n" "$1" "$2" "$s_wall_ms" "$s_stop_ms" "$s_rss_mib" "$st" >>"$results"
  log "rep $2/$reps: $1 wall $s_wall_ms ms (own total $s_total_ms), stopped $s_stop_ms ms, RSS $s_rss_mib MiB"
  check_target sonde || problems=$((problems + 1))
}

# ---- the runs -------------------------------------------------------------------------
results="$out/results.tsv"
printf 'go\tgoroutines\ttool\trep\twall_ms\tstopped_ms\trss_mib\tstatus\n' >"$results"
problems=0

for v in $gos; do
  for n in $sizes; do
    log "Go $v, $n goroutines: starting fixture"
    start_fixture "$v" "$n"
    log "fixture pid $fx_pid ready"

    # Warm-up and sanity check (not timed): the output must hold N+ goroutines.
    /usr/bin/time -v -o "$out/sonde.time" "$sonde" goroutines -p "$fx_pid" --stats \
      >"$out/sonde-$v-$n.txt" 2>"$out/sonde.err"
    rc=$?
    got=$(grep -c '^goroutine ' "$out/sonde-$v-$n.txt")
    trss=$(awk '/Maximum resident set size/{printf "%.1f", $NF/1024}' "$out/sonde.time")
    log "sanity: sonde exit $rc, $got goroutine headers (want >= $n), peak RSS $trss MiB per /usr/bin/time; $(grep '^sonde: stats' "$out/sonde.err")"
    if [ "$rc" != 0 ] || [ "$got" -lt "$n" ]; then
      log "PROBLEM: sonde sanity check failed: $(head -c 2000 "$out/sonde.err")"
      problems=$((problems + 1))
    fi
    check_target sonde || problems=$((problems + 1))
    if [ -n "$dlv" ]; then
      # sonde alone first, on a fixture Delve has not touched yet (a Delve
      # session stops the target for many seconds and leaves the machine
      # busier: see docs/BENCHMARKS.md).
      for ((r = 1; r <= reps; r++)); do
        timed_sonde sonde-alone "$r"
      done
      run_dlv "$out/dlv-$v-$n.txt"
      dgot=$(grep -c '^[ *] Goroutine ' "$out/dlv-$v-$n.txt")
      log "sanity: Delve $d_status in $d_wall_ms ms, $dgot goroutines listed, $(grep -o '^\[[0-9]* goroutines\]' "$out/dlv-$v-$n.txt")"
      [ "$d_status" = ok ] && [ "$dgot" -lt "$n" ] && { log "PROBLEM: Delve listed $dgot < $n"; problems=$((problems + 1)); }
      check_target delve || problems=$((problems + 1))
    fi

    # Timed runs, sonde and Delve interleaved.
    for ((r = 1; r <= reps; r++)); do
      timed_sonde sonde "$r"
      if [ -n "$dlv" ]; then
        run_dlv /dev/null
        printf '%s\t%s\tdelve\t%d\t%s\t%s\t%s\t%s\n' "$v" "$n" "$r" "$d_wall_ms" "$d_stop_ms" "$d_rss_mib" "$d_status" >>"$results"
        log "rep $r/$reps: delve $d_status, wall $d_wall_ms ms, traced ~$d_stop_ms ms, RSS $d_rss_mib MiB"
        check_target delve || problems=$((problems + 1))
      fi
    done
    stop_fixture
  done
done

# ---- the table ----------------------------------------------------------------------------------
echo "## bench/goroutines results"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)"
echo "- sonde: $sonde_rev (when built), Release build (binary sha256 $(sha256sum "$sonde" | cut -c1-12)); ${dlv_version:+Delve $dlv_version; }reps $reps (+1 untimed warm-up each)"
echo "- load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| Go | goroutines | tool | wall ms, median (min) | target stopped ms, median (min) | peak RSS MiB, median (max) | Delve / sonde (median wall, median RSS) |"
echo "|---|---:|---|---:|---:|---:|---:|"
awk -F'\t' -v reps="$reps" -v tmo="$dlv_timeout" '
  function median(list,   a, k, j, m, x) {
    m = split(list, a, " "); if (m == 0) return ""
    for (k = 2; k <= m; k++) {          # insertion sort (mawk has no asort)
      x = a[k] + 0; for (j = k - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x
    }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  function minof(list,   a, k, m, x) {
    m = split(list, a, " "); x = ""; for (k = 1; k <= m; k++) if (x == "" || a[k] + 0 < x + 0) x = a[k]; return x
  }
  function maxof(list,   a, k, m, x) {
    m = split(list, a, " "); x = ""; for (k = 1; k <= m; k++) if (x == "" || a[k] + 0 > x + 0) x = a[k]; return x
  }
  NR == 1 { next }
  {
    key = $1 SUBSEP $2 SUBSEP $3
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    if ($8 == "ok") { wall[key] = wall[key] " " $5; if ($6 != "") stop[key] = stop[key] " " $6; rss[key] = rss[key] " " $7; ok[key]++ }
    else { bad[key] = bad[key] " " $8 }
  }
  END {
    for (i = 1; i <= nk; i++) {
      split(order[i], f, SUBSEP); key = order[i]
      wm = median(wall[key]); sm = median(stop[key]); rm = median(rss[key])
      ws = (wm == "") ? "-" : sprintf("%.1f (%.1f)", wm, minof(wall[key]))
      ss = (sm == "") ? "-" : sprintf("%.1f (%.1f)", sm, minof(stop[key]))
      if (f[3] == "delve" && sm != "") ss = ss " ~polled"
      rs = (rm == "") ? "-" : sprintf("%.1f (%.1f)", rm, maxof(rss[key]))
      ratio = ""
      if (f[3] == "delve") {
        sk = f[1] SUBSEP f[2] SUBSEP "sonde"
        swm = median(wall[sk]); srm = median(rss[sk])
        if (wm != "" && swm > 0) ratio = sprintf("%.0fx wall, %.0fx RSS", wm / swm, rm / srm)
      }
      if (f[3] == "delve" && wm == "" && index(bad[key], "timeout")) {
        ws = sprintf("> %d (timeout)", tmo * 1000)
        swm = median(wall[f[1] SUBSEP f[2] SUBSEP "sonde"])
        if (swm > 0) ratio = sprintf("> %.0fx wall", tmo * 1000 / swm)
      }
      note = ""
      if (bad[key] != "") note = " (" ok[key] + 0 " ok; failed:" bad[key] ")"
      printf "| %s | %d | %s%s | %s | %s | %s | %s |\n", f[1], f[2], f[3], note, ws, ss, rs, ratio
    }
  }' "$results"
echo
echo "sonde-alone: sonde's runs before Delve first attached to that fixture; sonde: interleaved with Delve."
echo "wall: measured by run.sh around the process (bash EPOCHREALTIME), output to /dev/null."
echo "target stopped: sonde's own --stats figure; for Delve, how long /proc/PID/status showed a"
echo "tracer (polled every ~5 ms), i.e. from attach to detach. peak RSS: sonde's --stats"
echo "(getrusage), Delve's from /usr/bin/time -v."
if [ "$problems" -gt 0 ]; then
  echo
  echo "**$problems problem(s) seen during the run; see the log on stderr.**"
fi
[ "$problems" -eq 0 ]
