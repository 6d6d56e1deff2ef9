#!/usr/bin/env bash
# target_exits.sh SONDE FIXTURE: a target killed while sonde attaches or reads
# gives exit code 7 and a message saying so (never a crash, a hang, or a
# misleading "corrupt data"). Timing cannot be chosen from outside: the
# fixture (20,000 goroutines) is killed at 10 moments spread over sonde's run;
# every run must end with a documented outcome (0: sonde finished first; 3:
# the process was already gone; 7: it exited during the read), and at least
# one run must have hit the read, or the test proves nothing.
set -u
sonde=$1 fixture=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 hits=0
for i in 0 1 2 3 4 5 6 7 8 9; do
  "$fixture" -dump "$tmp/dump" -n 20000 >"$tmp/out" 2>&1 & fx=$!
  for _ in $(seq 1 600); do grep -q READY "$tmp/out" 2>/dev/null && break; sleep 0.05; done
  "$sonde" goroutines -p "$fx" >/dev/null 2>"$tmp/err" & s=$!
  sleep "0.$(printf %03d $((10 + i * 10)))" # 10..100 ms: before, during and after the stop
  kill -9 "$fx"
  wait "$s"; rc=$?
  wait "$fx" 2>/dev/null
  msg=$(cat "$tmp/err")
  case $rc in
    0) ;;
    3) grep -Eq "no process with pid|has exited \(it is a zombie" <<<"$msg" || { echo "FAIL run $i: exit 3 with: $msg"; fails=$((fails + 1)); } ;;
    7) if grep -Eq "exited while sonde was (attaching|reading it)" <<<"$msg"; then hits=$((hits + 1));
       else echo "FAIL run $i: exit 7 with: $msg"; fails=$((fails + 1)); fi ;;
    *) echo "FAIL run $i: sonde exit $rc: $msg"; fails=$((fails + 1)) ;;
  esac
done
if [ "$hits" -eq 0 ]; then echo "FAIL: no run killed the target during the read"; fails=$((fails + 1)); fi
echo "target exits: 10 runs, $hits killed mid-read, $fails failed"
[ "$fails" -eq 0 ]
