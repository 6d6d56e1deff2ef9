#!/usr/bin/env bash
# errors.sh: every bad input a user meets gets its documented exit code and a
# message naming the cause and the fix, and the target keeps running.
#   tests/cli/errors.sh SONDE GO_FIXTURE_BINARY
set -u
sonde=$1
gofix=$2
fails=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# expect NAME EXIT_CODE MESSAGE_REGEX -- command...
expect() {
  local name=$1 code=$2 re=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -Eq -- "$re" <<<"$out"; then
    echo "FAIL $name: exit $rc (want $code), output:"
    sed 's/^/    /' <<<"$out"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

# running_not_stopped PID: the target runs on after sonde (not in a stop, untraced)
running_not_stopped() {
  local name=$1 pid=$2
  local st tr
  st=$(awk '/^State:/{print $2}' /proc/"$pid"/status 2>/dev/null)
  tr=$(awk '/^TracerPid:/{print $2}' /proc/"$pid"/status 2>/dev/null)
  if [ -z "$st" ] || [ "$st" = t ] || [ "$st" = T ] || [ "$tr" != 0 ]; then
    echo "FAIL $name: target $pid state '$st' tracer '$tr'"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

expect usage_no_command 2 'Usage' -- "$sonde"
expect usage_unknown_command 2 "no command 'frobnicate'" -- "$sonde" frobnicate
expect usage_no_pid 2 'give -p PID' -- "$sonde" goroutines
expect usage_bad_pid 2 "'abc' is not a process id" -- "$sonde" goroutines -p abc
expect usage_unknown_option 2 "unknown or incomplete option '--bogus'" -- "$sonde" goroutines --bogus -p 1
for c in goroutines info layout attach plugins config; do
  expect help_$c 0 "Usage: sonde $c" -- "$sonde" $c --help
done
expect help_top 0 'Exit codes' -- "$sonde" --help

# A pid that does not exist (pid_max is at most 4194304).
expect no_such_process 3 'no process with pid 4194000' -- "$sonde" goroutines -p 4194000

# A process that is not Go: refused before it is ever stopped.
sleep 300 & sp=$!; pids+=($sp)
expect not_a_go_program 5 'not a Go program' -- "$sonde" goroutines -p "$sp"
running_not_stopped not_a_go_program_target_runs "$sp"
expect info_not_elf 5 'not an ELF' -- "$sonde" info /etc/passwd
expect info_missing_file 9 'no such file' -- "$sonde" info /nonexistent/binary

# A Go process for the rest.
tmp=$(mktemp -d)
"$gofix" -dump "$tmp/dump.txt" >"$tmp/out" 2>&1 & gp=$!; pids+=($gp)
for _ in $(seq 1 300); do grep -q READY "$tmp/out" 2>/dev/null && break; sleep 0.1; done
expect goroutines_ok 0 '^goroutine 1 \[' -- "$sonde" goroutines -p "$gp"
running_not_stopped goroutines_ok_target_runs "$gp"

# Already traced by another debugger: name it.
seized=$(mktemp)
python3 - "$gp" "$seized" <<'PY' & tp=$!
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE = 0x4206
if libc.ptrace(PTRACE_SEIZE, int(sys.argv[1]), 0, 0) != 0:
    sys.exit("seize failed: errno %d" % ctypes.get_errno())
open(sys.argv[2], "w").write("seized\n")
time.sleep(30)
PY
pids+=($tp)
# wait until the tracer really holds the target (python starts slowly on a busy machine)
for _ in $(seq 1 200); do [ -s "$seized" ] && break; sleep 0.05; done
rm -f "$seized"
expect already_traced 6 "already traced by python3 \\(pid $tp\\)" -- "$sonde" goroutines -p "$gp"
kill "$tp" 2>/dev/null; wait "$tp" 2>/dev/null
sleep 0.2
running_not_stopped already_traced_target_runs "$gp"

# No permission: another user's process.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  expect no_permission 4 'belongs to uid 0 and you are uid 65534' -- \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$sonde" goroutines -p "$gp"
  running_not_stopped no_permission_target_runs "$gp"
else
  echo "skip no_permission: needs root and setpriv"
fi

rm -rf "$tmp"
echo "cli errors: $fails failed"
[ "$fails" -eq 0 ]
