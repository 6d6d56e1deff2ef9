#!/usr/bin/env bash
# signals.sh SONDE FIXTURE: SIGINT, SIGTERM and SIGHUP sent to sonde at any
# moment, including while the target is stopped, never leave the target
# stopped or traced; sonde ends with 0 (it had finished) or 128+signal.
# Timing cannot be chosen from outside, so each signal is sent at random
# moments over many runs against a fixture with 20,000 goroutines, which
# makes the stop long enough to be hit.
set -u
sonde=$1 fixture=$2
tmp=$(mktemp -d)
"$fixture" -dump "$tmp/dump" -n 20000 >"$tmp/out" 2>&1 & fx=$!
trap 'kill $fx 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do grep -q READY "$tmp/out" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$tmp/out" || { echo "signals: fixture not ready"; exit 2; }
fails=0 runs=0
for sig in INT TERM HUP; do
  num=$(kill -l "$sig")
  for i in $(seq 1 12); do
    "$sonde" goroutines -p "$fx" >/dev/null 2>"$tmp/err" & s=$!
    # spread the signal over the run: 0..55 ms
    sleep "0.0$(( (i * 5) % 10 ))$(( i % 10 ))"
    kill -s "$sig" "$s" 2>/dev/null
    wait "$s"; rc=$?
    runs=$((runs + 1))
    st=$(awk '/^State:/{print $2}' /proc/$fx/status)
    tr=$(awk '/^TracerPid:/{print $2}' /proc/$fx/status)
    if [ "$st" = t ] || [ "$st" = T ] || [ "$tr" != 0 ]; then
      echo "FAIL SIG$sig run $i: target state $st, tracer $tr"; fails=$((fails + 1))
      kill -CONT "$fx" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne $((128 + num)) ]; then
      echo "FAIL SIG$sig run $i: sonde exit $rc: $(cat "$tmp/err")"; fails=$((fails + 1))
    fi
  done
done
# the target still works: every thread runnable or sleeping, none traced
for t in /proc/$fx/task/*; do
  st=$(awk '/^State:/{print $2}' "$t/status"); tr=$(awk '/^TracerPid:/{print $2}' "$t/status")
  if [ "$st" = t ] || [ "$st" = T ] || [ "$tr" != 0 ]; then echo "FAIL thread ${t##*/}: $st $tr"; fails=$((fails + 1)); fi
done
echo "signals: $runs runs, $fails failed"
[ "$fails" -eq 0 ]
