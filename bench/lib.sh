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

# build_sonde_release ROOT BUILD LOG: configures and builds sonde (Release,
# no tests) in BUILD, refusing a BUILD configured otherwise. Sets sonde_rev
# (the commit, noting uncommitted changes in host/).
build_sonde_release() {
  local root=$1 build=$2 logf=$3 bt
  if [ -f "$build/CMakeCache.txt" ]; then
    bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
    [ "$bt" = Release ] || die "$build is a '$bt' build; use a Release one (SONDE_BUILD_DIR=...)"
  fi
  sonde_rev="$(cd "$root" && git rev-parse --short HEAD 2>/dev/null)$(cd "$root" &&
    [ -n "$(git status --porcelain -- host CMakeLists.txt 2>/dev/null)" ] && echo ' + uncommitted changes in host/')"
  log "building sonde (Release, $sonde_rev) in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSONDE_TESTS=OFF >"$logf" 2>&1 &&
    cmake --build "$build" --target sonde -j"$(nproc)" >>"$logf" 2>&1 ||
    die "sonde build failed, see $logf"
}

# build_go_fixture SRC_DIR OUT_FILE GO_VERSION CACHE_DIR: go build, offline.
build_go_fixture() {
  local src=$1 outf=$2 v=$3 cache=$4 gobin="/usr/lib/go-$3/bin/go"
  [ -x "$gobin" ] || die "no Go toolchain at $gobin"
  log "building fixture with $("$gobin" version)"
  (cd "$src" &&
    GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off \
    GOCACHE="$cache/gocache" GOPATH="$cache/gopath" \
    "$gobin" build -o "$outf" .) || die "fixture build failed with Go $v"
}

# bench_paths: what every run.sh works with: here (its folder), root (the
# repository), out (here/.out, created), build ($SONDE_BUILD_DIR or
# build-bench), sonde (the binary there) and load_start (the load average
# now); and /usr/bin/time and cmake must be installed.
bench_paths() {
  here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
  root=$(cd "$here/../.." && pwd)
  out="$here/.out"
  build="${SONDE_BUILD_DIR:-$root/build-bench}"
  sonde="$build/host/sonde"
  mkdir -p "$out"
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
  local t
  for t in /usr/bin/time cmake; do
    [ -x "$(command -v "$t")" ] || die "$t not found (apt-get install -y time cmake)"
  done
}

# fixture_start CMD...: starts a fixture with its standard input a fifo this
# script holds open (fixture_fd: write commands to it; the fixture sees its
# input end when we let go), output in $out/fixture.log. Sets fx_pid, makes
# every exit stop it, and waits up to 120 s for its "READY <fx_pid>" line.
fixture_start() {
  local i
  rm -f "$out/fixture.fifo"
  mkfifo "$out/fixture.fifo"
  "$@" <"$out/fixture.fifo" >"$out/fixture.log" 2>&1 &
  fx_pid=$!
  exec {fixture_fd}>"$out/fixture.fifo"
  trap 'fixture_stop' EXIT
  trap 'fixture_stop; exit 130' INT TERM
  for ((i = 0; i < 1200; i++)); do
    grep -q '^READY ' "$out/fixture.log" && break
    kill -0 "$fx_pid" 2>/dev/null || die "fixture exited: $(cat "$out/fixture.log")"
    sleep 0.1
  done
  [ "$(awk '/^READY /{print $2; exit}' "$out/fixture.log")" = "$fx_pid" ] ||
    die "fixture not READY as pid $fx_pid: $(head -c 500 "$out/fixture.log")"
}

# fixture_stop: the fixture is sent SIGCONT (should a failure have left it
# stopped) and ended; its fifo is let go.
fixture_stop() {
  if [ -n "${fx_pid:-}" ]; then
    kill -CONT "$fx_pid" 2>/dev/null; kill "$fx_pid" 2>/dev/null; wait "$fx_pid" 2>/dev/null
    fx_pid=""
  fi
  [ -n "${fixture_fd:-}" ] && exec {fixture_fd}>&- 2>/dev/null
  fixture_fd=""
}
