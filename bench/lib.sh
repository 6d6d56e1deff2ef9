# bench/lib.sh: what the benchmark scripts share. Source it after setting
# fx_pid (the fixture's pid); it defines log, die and check_target.

log() { echo "run.sh: $*" >&2; }
die() { echo "run.sh: error: $*" >&2; exit 1; }

# check_target TOOL: the fixture must be alive, untraced and not stopped.
# Returns 1 (and says so) otherwise; a stopped target is sent SIGCONT.
check_target() {
  local tool=$1 state tracer
  if ! kill -0 "$fx_pid" 2>/dev/null; then
    log "PROBLEM: after $tool the fixture (pid $fx_pid) is gone"
    return 1
  fi
  state=$(awk '/^State:/{print $2}' "/proc/$fx_pid/status")
  tracer=$(awk '/^TracerPid:/{print $2}' "/proc/$fx_pid/status")
  if [ "$state" = t ] || [ "$state" = T ] || [ "$tracer" != 0 ]; then
    log "PROBLEM: after $tool the fixture is in state $state, TracerPid $tracer; sending SIGCONT"
    kill -CONT "$fx_pid"
    return 1
  fi
  return 0
}
