#!/usr/bin/env bash
# target_exits.sh SONDE FIXTURE: a target killed while sonde attaches or reads
# gives exit code 7 and a message saying so (never a crash, a hang, or a
# misleading "permission denied" or "corrupt data"). Timing cannot be chosen
# from outside, and it depends on the machine: the test first times one
# undisturbed run (how long until sonde stops the target, and for how long),
# then kills the fixture (20,000 goroutines) at moments spread over that
# window. Every run must end with a documented outcome (0: sonde finished
# first; 3: the process was already gone; 7: it exited during the read), and
# at least one run must have hit the read (up to 40 runs are made to get
# one), or the test proves nothing.
set -u
sonde=$1 fixture=$2
tmp=$(mktemp -d)
fx=""
trap '[ -n "$fx" ] && kill -9 "$fx" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0 hits=0 runs=0

start_fixture() {
  "$fixture" -dump "$tmp/dump" -n 20000 >"$tmp/out" 2>&1 &
  fx=$!
  for _ in $(seq 1 600); do grep -q READY "$tmp/out" 2>/dev/null && break; sleep 0.05; done
}

# One undisturbed run: sonde's wall time in ms (bash 5's EPOCHREALTIME).
start_fixture
t0=$EPOCHREALTIME
"$sonde" goroutines -p "$fx" >/dev/null 2>"$tmp/err" || { echo "FAIL: the timing run failed: $(cat "$tmp/err")"; exit 1; }
t1=$EPOCHREALTIME
kill -9 "$fx"; wait "$fx" 2>/dev/null; fx=""
wall=$(( (${t1/./} - ${t0/./}) / 1000 ))
[ "$wall" -lt 20 ] && wall=20
echo "target exits: one undisturbed run takes ${wall} ms"

for i in $(seq 0 39); do
  [ "$i" -ge 10 ] && [ "$hits" -gt 0 ] && break
  start_fixture
  "$sonde" goroutines -p "$fx" >/dev/null 2>"$tmp/err" & s=$!
  # 5% .. 100% of the undisturbed run, in steps that shift a little each round
  pct=$(( 5 + (i * 37 + i / 10 * 7) % 96 ))
  ms=$(( wall * pct / 100 ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$fx"
  wait "$s"; rc=$?
  wait "$fx" 2>/dev/null; fx=""
  runs=$((runs + 1))
  msg=$(cat "$tmp/err")
  case $rc in
    0) ;;
    3) grep -Eq "no process with pid|has exited \(it is a zombie" <<<"$msg" || { echo "FAIL run $i: exit 3 with: $msg"; fails=$((fails + 1)); } ;;
    7) if grep -Eq "exited while sonde was (attaching|reading it)" <<<"$msg"; then hits=$((hits + 1));
       else echo "FAIL run $i: exit 7 with: $msg"; fails=$((fails + 1)); fi ;;
    *) echo "FAIL run $i (kill at ${ms} ms): sonde exit $rc: $msg"; fails=$((fails + 1)) ;;
  esac
done
if [ "$hits" -eq 0 ]; then echo "FAIL: no run killed the target during the read"; fails=$((fails + 1)); fi
echo "target exits: $runs runs, $hits killed mid-read, $fails failed"
[ "$fails" -eq 0 ]
