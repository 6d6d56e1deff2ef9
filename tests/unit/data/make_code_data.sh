#!/usr/bin/env bash
# make_code_data.sh: regenerates the machine code that test_globals_code.c
# decodes: runtime.forEachGRace, the function whose RIP-relative operands
# are how sonde finds runtime.allglen and runtime.allgptr in a binary built
# with -ldflags='-s -w' (no symbol table).
#
# For each toolchain it builds data/prog twice, with and without
# -ldflags='-s -w' (no network, stdlib only, in a fixed directory so that the
# binaries are the same on every machine), and writes, under data/code/go1.NN/:
#   foreachgrace.bin           runtime.forEachGRace of the unstripped build,
#                              from its entry to the next function
#   foreachgrace-stripped.bin  the same function of the stripped build
#   facts.txt                  where each runs and what its first two
#                              RIP-relative operands must resolve to, from
#                              tools that share no code with sonde:
#     foreachgrace, allglen, allgptr           `go tool nm` of the unstripped build
#     stripped_foreachgrace                    Go's debug/gosym over the stripped
#                                              build's .gopclntab (it has no symbols)
#     stripped_allglen, stripped_allgptr       the unstripped address moved to the
#                                              same offset in the stripped build's
#                                              section of that name (readelf): the
#                                              data sections move when the build
#                                              flags recorded in .go.buildinfo grow
# The output is byte-for-byte reproducible for a given set of toolchains.
#   tests/unit/data/make_code_data.sh     (then review and commit the diff)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
VERSIONS="1.19 1.21 1.27" # 1.19: frame set up with SUBQ (no PUSHQ BP); 1.21 and 1.27: PUSHQ BP

work=/tmp/sonde-unit-code-data # recorded in the binaries: keep it fixed
rm -rf "$work"
mkdir -p "$work"
cp -r "$here/prog" "$work/prog"
trap 'rm -rf "$work"' EXIT

unset GOROOT
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOENV=off GO111MODULE=on \
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOAMD64=v1 GOEXPERIMENT= \
  GOCACHE="$work/cache" GOPATH="$work/gopath"

die() { echo "make_code_data.sh: $*" >&2; exit 1; }

# Finds a function in a binary without a symbol table: "0xentry 0xend" from
# the .gopclntab, read by the toolchain's own debug/gosym.
mkdir -p "$work/findfunc"
cat >"$work/findfunc/main.go" <<'EOF'
package main

import (
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
)

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		fmt.Fprintln(os.Stderr, "no .gopclntab or .text")
		os.Exit(1)
	}
	data, err := pcln.Data()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fn := t.LookupFunc(os.Args[2])
	if fn == nil {
		fmt.Fprintln(os.Stderr, "no function", os.Args[2])
		os.Exit(1)
	}
	fmt.Printf("0x%x 0x%x\n", fn.Entry, fn.End)
}
EOF

# Address (0x...) of a symbol from `go tool nm` of $1.
sym() {
  local a
  a=$("$go" tool nm "$1" | awk -v n="$2" 'NF == 3 && $3 == n && !done { print "0x" $1; done = 1 }')
  [ -n "$a" ] || die "$1: no symbol $2"
  echo "$a"
}

# "name addr offset size" of every section of $1, in hex without 0x.
sections() { readelf -SW "$1" | sed -E 's/^ *\[ *[0-9]+\] *//' | awk '$1 ~ /^\./ { print $1, $3, $4, $5 }'; }

# The section of $1 that holds address $2: "name addr" (addr in hex, no 0x).
section_of() {
  local name a o s
  while read -r name a o s; do
    if ((0x$a != 0 && 0x$a <= $2 && $2 < 0x$a + 0x$s)); then
      echo "$name $a"
      return
    fi
  done < <(sections "$1")
  die "$1: no section holds $2"
}

# Address $3 of binary $1 moved to the same offset in binary $2's section of that name.
same_place() {
  local name a a2 _o _s
  read -r name a < <(section_of "$1" "$3")
  a2=$(sections "$2" | awk -v n="$name" '$1 == n { print $2 }')
  [ -n "$a2" ] || die "$2: no section $name"
  printf 0x%x $(($3 - 0x$a + 0x$a2))
}

# Copies [entry, end) of binary $1's .text into file $4.
cut_text() {
  local a o
  read -r a o < <(sections "$1" | awk '$1 == ".text" { print $2, $3 }')
  (($2 >= 0x$a && $3 > $2)) || die "$1: [$2, $3) is not in .text"
  dd if="$1" of="$4" bs=4096 iflag=skip_bytes,count_bytes status=none skip=$(($2 - 0x$a + 0x$o)) count=$(($3 - $2))
  chmod 644 "$4"
}

for v in $VERSIONS; do
  go=/usr/lib/go-$v/bin/go
  [ -x "$go" ] || die "Go $v is not installed at $go (scripts/bootstrap.sh installs it)"
  bin=$work/prog-go$v
  sbin=$work/prog-go$v-stripped
  (cd "$work/prog" && "$go" build -o "$bin" . && "$go" build -ldflags='-s -w' -o "$sbin" .)
  ! "$go" tool nm "$sbin" >/dev/null 2>&1 || die "$sbin still has a symbol table"
  out=$here/code/go$v
  rm -rf "$out"
  mkdir -p "$out"

  entry=$(sym "$bin" runtime.forEachGRace)
  allglen=$(sym "$bin" runtime.allglen)
  allgptr=$(sym "$bin" runtime.allgptr)
  read -r gentry end < <(cd "$work/findfunc" && "$go" run main.go "$bin" runtime.forEachGRace)
  [ "$gentry" = "$entry" ] || die "$bin: debug/gosym says forEachGRace is at $gentry, nm says $entry"
  read -r sentry send < <(cd "$work/findfunc" && "$go" run main.go "$sbin" runtime.forEachGRace)
  # the test's claim: the first two RIP-relative operands are these two, in this order
  refs=$("$go" tool objdump -s '^runtime.forEachGRace$' "$bin" | tail -n +2 | grep -o '[A-Za-z0-9_.]*(SB)' | head -2 | tr '\n' ' ')
  [ "$refs" = "runtime.allglen(SB) runtime.allgptr(SB) " ] ||
    die "$bin: forEachGRace no longer loads allglen then allgptr first (objdump shows: $refs)"

  cut_text "$bin" "$entry" "$end" "$out/foreachgrace.bin"
  cut_text "$sbin" "$sentry" "$send" "$out/foreachgrace-stripped.bin"

  {
    echo "# generated by make_code_data.sh from prog/main.go with $("$go" env GOVERSION); do not edit"
    echo "go_version $("$go" env GOVERSION)"
    echo "foreachgrace $entry"
    echo "allglen $allglen"
    echo "allgptr $allgptr"
    echo "stripped_foreachgrace $sentry"
    echo "stripped_allglen $(same_place "$bin" "$sbin" "$allglen")"
    echo "stripped_allgptr $(same_place "$bin" "$sbin" "$allgptr")"
  } >"$out/facts.txt"
done
echo "make_code_data.sh: wrote $(du -sh "$here/code" | cut -f1) under $here/code"
