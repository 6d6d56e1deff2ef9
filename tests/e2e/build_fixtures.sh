#!/usr/bin/env bash
# build_fixtures.sh OUTDIR: build the agreement fixture (tests/fixtures/agree),
# the breakpoint fixture (tests/fixtures/hot: OUTDIR/hot-go1.NN[-stripped])
# the stackdiff diff fixture (tests/fixtures/phases:
# OUTDIR/phases-go1.NN[-stripped]), the heap fixture (tests/fixtures/heap:
# OUTDIR/heap-go1.NN[-stripped]) and the memwatch fixture (tests/fixtures/grow:
# OUTDIR/grow-go1.NN[-stripped]), the wait fixture (tests/fixtures/waits:
# OUTDIR/waits-go1.NN[-stripped]) and the leak fixture (tests/fixtures/leaks:
# OUTDIR/leaks-go1.NN[-stripped]) with every installed Go toolchain
# (/usr/lib/go-1.NN), the agreement fixture into
#   OUTDIR/agree-go1.NN           normal build
#   OUTDIR/agree-go1.NN-stripped  -ldflags='-s -w' (no symbol table, no DWARF)
# and, for the oldest 1.2x and the newest toolchain only (each variant
# rebuilds the standard library, and the build time adds up):
#   OUTDIR/agree-go1.NN-pie-stripped  -buildmode=pie -ldflags='-s -w'
#   OUTDIR/agree-go1.NN-cgo[-stripped] CGO_ENABLED=1, external linking, with a
#                                      C thread-local that shifts the TLS slot
#
# Toolchains that are not installed are skipped with a message. Binaries are
# rebuilt only when a fixture source or the toolchain is newer than them.
# Offline and HOME-independent: no proxy, no toolchain switching, build cache
# and GOPATH under OUTDIR.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../fixtures/agree" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off
export GOCACHE="$out/.cache/go-build" GOPATH="$out/.cache/gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export CGO_ENABLED=0 # pure Go unless a variant says cgo (then gcc links it)
# Nothing under HOME: no user go env file, and telemetry counters (Go >= 1.23
# writes them to the user config dir) go under OUTDIR too.
export GOENV=off XDG_CONFIG_HOME="$out/.cache/config"

# The versions sonde supports, plus whatever else is installed.
versions="1.19 1.21 1.22 1.23 1.24 1.25 1.26 1.27"
for go in /usr/lib/go-1.*/bin/go; do
  [ -x "$go" ] || continue
  v=${go#/usr/lib/go-}; v=${v%/bin/go}
  case " $versions " in *" $v "*) ;; *) versions="$versions $v" ;; esac
done

# up_to_date BIN GO [SRC]: BIN exists and is newer than every fixture source and GO.
up_to_date() {
  [ -e "$1" ] && [ ! "$2" -nt "$1" ] &&
    [ -z "$(find "${3:-$src}" -newer "$1" \( -name '*.go' -o -name go.mod -o -name go.sum \) -print -quit)" ]
}
hot_src=$(cd "$here/../fixtures/hot" && pwd)
phases_src=$(cd "$here/../fixtures/phases" && pwd)
heap_src=$(cd "$here/../fixtures/heap" && pwd)
waits_src=$(cd "$here/../fixtures/waits" && pwd)
leaks_src=$(cd "$here/../fixtures/leaks" && pwd)
grow_src=$(cd "$here/../fixtures/grow" && pwd)
churn_src=$(cd "$here/../fixtures/churn" && pwd)

# PIE and cgo variants: the oldest 1.2x (pre-1.26 pclntab and moduledata
# placement) and the newest toolchain.
installed=$(for v in $versions; do [ -x /usr/lib/go-$v/bin/go ] && echo "$v"; done)
extra_versions="$(echo "$installed" | grep '^1\.2' | head -n 1) $(echo "$installed" | tail -n 1)"

built=0 fresh=0 skipped=0
for v in $versions; do
  go=/usr/lib/go-$v/bin/go
  if [ ! -x "$go" ]; then
    echo "build_fixtures: go$v not installed ($go); skipped" >&2
    skipped=$((skipped + 1))
    continue
  fi
  variants="normal stripped"
  case " $extra_versions " in *" $v "*) variants="$variants pie-stripped cgo cgo-stripped" ;; esac
  for variant in $variants; do
    bin="$out/agree-go$v"
    flags=()
    cgo=0
    case $variant in
      stripped) bin="$bin-stripped"; flags=(-ldflags='-s -w') ;;
      pie-stripped) bin="$bin-pie-stripped"; flags=(-buildmode=pie -ldflags='-s -w') ;;
      cgo) bin="$bin-cgo"; cgo=1 ;;
      cgo-stripped) bin="$bin-cgo-stripped"; cgo=1; flags=(-ldflags='-s -w') ;;
    esac
    if up_to_date "$bin" "$go"; then
      fresh=$((fresh + 1))
      continue
    fi
    echo "build_fixtures: go$v -> $bin" >&2
    # -buildvcs=false: the fixture lives in sonde's git tree, whose state has
    # nothing to do with the fixture (and may have no commit at all).
    (cd "$src" && CGO_ENABLED=$cgo "$go" build -buildvcs=false "${flags[@]}" -o "$bin.tmp.$$" .) ||
      { rm -f "$bin.tmp.$$"; exit 1; }
    mv -f "$bin.tmp.$$" "$bin" # atomic: a concurrent run never sees half a binary
    built=$((built + 1))
  done
  # The breakpoint fixture (tests/fixtures/hot) and the stackdiff diff
  # fixture (tests/fixtures/phases), normal and stripped.
  for fixture in hot phases heap grow waits leaks churn; do
    case $fixture in
      hot) fsrc=$hot_src ;; phases) fsrc=$phases_src ;; heap) fsrc=$heap_src ;; grow) fsrc=$grow_src ;;
      waits) fsrc=$waits_src ;; leaks) fsrc=$leaks_src ;; churn) fsrc=$churn_src ;;
    esac
    for variant in normal stripped; do
      bin="$out/$fixture-go$v"
      flags=()
      [ "$variant" = stripped ] && { bin="$bin-stripped"; flags=(-ldflags='-s -w'); }
      if up_to_date "$bin" "$go" "$fsrc"; then
        fresh=$((fresh + 1))
        continue
      fi
      echo "build_fixtures: go$v -> $bin" >&2
      (cd "$fsrc" && "$go" build -buildvcs=false "${flags[@]}" -o "$bin.tmp.$$" .) ||
        { rm -f "$bin.tmp.$$"; exit 1; }
      mv -f "$bin.tmp.$$" "$bin"
      built=$((built + 1))
    done
  done
done
echo "build_fixtures: $built built, $fresh up to date, $skipped toolchains skipped, in $out" >&2
