#!/usr/bin/env bash
# build_fixtures.sh OUTDIR [GOVERSION...]: build the Go test fixtures with each
# Go toolchain named (default: every installed one, /usr/lib/go-1.NN).
#
# The fixtures are the packages of one Go module, tests/fixtures (go.mod
# there); each is a main package in its own folder, listed in
# tests/fixtures/FIXTURES (one name a line). For each toolchain one `go build`
# makes all of them at once (the go command compiles and links them in
# parallel, sharing one build of the standard library), once normal and once
# stripped:
#   OUTDIR/NAME-go1.NN           normal build
#   OUTDIR/NAME-go1.NN-stripped  -ldflags='-s -w' (no symbol table, no DWARF)
# and, for the oldest 1.2x and the newest toolchain only (each variant
# rebuilds the standard library, and the build time adds up), of the
# agreement fixture (agree):
#   OUTDIR/agree-go1.NN-pie-stripped  -buildmode=pie -ldflags='-s -w'
#   OUTDIR/agree-go1.NN-cgo[-stripped] CGO_ENABLED=1, external linking, with a
#                                      C thread-local that shifts the TLS slot
#
# tests/CMakeLists.txt runs it once per toolchain (e2e_build_go_fixtures_go1.NN),
# so that one toolchain's tests run while the next one builds. Runs of it for
# different toolchains may run at the same time: they share the build cache,
# which the go command makes safe for that.
#
# Adding a fixture: a folder tests/fixtures/NAME with a main package (no
# go.mod of its own), and its name in tests/fixtures/FIXTURES.
#
# Toolchains that are not installed are skipped with a message. Binaries are
# rebuilt only when a fixture source or the toolchain is newer than them.
# Offline and HOME-independent: no proxy, no toolchain switching, build cache
# and GOPATH under OUTDIR.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [GOVERSION...]" >&2; exit 2; }
[ $# -ge 1 ] || usage

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../fixtures" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off
export GOCACHE="$out/.cache/go-build" GOPATH="$out/.cache/gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export CGO_ENABLED=0 # pure Go unless a variant says cgo (then gcc links it)
# Nothing under HOME: no user go env file, and telemetry counters (Go >= 1.23
# writes them to the user config dir) go under OUTDIR too.
export GOENV=off XDG_CONFIG_HOME="$out/.cache/config"

mapfile -t fixtures < <(grep -v '^\s*\(#\|$\)' "$src/FIXTURES")
[ ${#fixtures[@]} -gt 0 ] || { echo "build_fixtures: no fixture named in $src/FIXTURES" >&2; exit 1; }

# The versions sonde supports, plus whatever else is installed.
all="1.19 1.21 1.22 1.23 1.24 1.25 1.26 1.27"
for go in /usr/lib/go-1.*/bin/go; do
  [ -x "$go" ] || continue
  v=${go#/usr/lib/go-}; v=${v%/bin/go}
  case " $all " in *" $v "*) ;; *) all="$all $v" ;; esac
done
versions=${*:-$all}

# PIE and cgo variants: the oldest installed 1.2x (pre-1.26 pclntab and
# moduledata placement) and the newest installed toolchain.
installed=$(for v in $all; do [ -x /usr/lib/go-$v/bin/go ] && echo "$v"; done | sort -t. -k1,1n -k2,2n)
extra_versions="$(echo "$installed" | grep '^1\.2' | head -n 1) $(echo "$installed" | tail -n 1)"

# fresh BIN...: every BIN exists and is newer than every fixture source and
# than the toolchain ($go).
fresh() {
  local b
  for b in "$@"; do
    [ -e "$b" ] && [ ! "$go" -nt "$b" ] || return 1
    [ -z "$(find "$src" -newer "$b" \( -name '*.go' -o -name go.mod -o -name go.sum -o -name FIXTURES \) -print -quit)" ] ||
      return 1
  done
}

# build SUFFIX CGO PKGS FLAGS...: `go build` of PKGS (fixture names) into
# OUTDIR/NAME-go$v$SUFFIX, all at once, each binary replaced atomically.
build() {
  local suffix=$1 cgo=$2 pkgs=$3
  shift 3
  local bins=() p
  for p in $pkgs; do bins+=("$out/$p-go$v$suffix"); done
  if fresh "${bins[@]}"; then
    up=$((up + ${#bins[@]}))
    return 0
  fi
  local tmp
  tmp=$(mktemp -d "$out/.build-go$v$suffix.XXXXXX")
  echo "build_fixtures: go$v${suffix:+ ($suffix)}: $pkgs" >&2
  local args=()
  for p in $pkgs; do args+=("./$p"); done
  # -buildvcs=false: the fixtures live in sonde's git tree, whose state has
  # nothing to do with them (and may have no commit at all).
  if ! (cd "$src" && CGO_ENABLED=$cgo "$go" build -buildvcs=false "$@" -o "$tmp/" "${args[@]}"); then
    rm -rf "$tmp"
    exit 1
  fi
  for p in $pkgs; do mv -f "$tmp/$p" "$out/$p-go$v$suffix"; done # a concurrent run never sees half a binary
  rmdir "$tmp"
  built=$((built + ${#bins[@]}))
}

built=0 up=0 skipped=0
for v in $versions; do
  go=/usr/lib/go-$v/bin/go
  if [ ! -x "$go" ]; then
    echo "build_fixtures: go$v not installed ($go); skipped" >&2
    skipped=$((skipped + 1))
    continue
  fi
  build "" 0 "${fixtures[*]}"
  build -stripped 0 "${fixtures[*]}" -ldflags='-s -w'
  case " $extra_versions " in
    *" $v "*)
      build -pie-stripped 0 agree -buildmode=pie -ldflags='-s -w'
      build -cgo 1 agree
      build -cgo-stripped 1 agree -ldflags='-s -w'
      ;;
  esac
done
echo "build_fixtures: $built built, $up up to date, $skipped toolchains skipped, in $out" >&2
