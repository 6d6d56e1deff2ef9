#!/usr/bin/env bash
# make_data.sh: regenerates the unit tests' Go data from data/prog/main.go.
#
# For each toolchain it builds the program (no network, stdlib only, in a
# fixed directory so that the file names recorded in the binary are the same
# on every machine) and writes, under data/go1.NN/:
#   buildinfo.bin     the .go.buildinfo section
#   buildinfo.golden  `go version -m` of the binary: what bi_parse must find
# and, for the pclntab versions:
#   gopclntab.bin     the .gopclntab section
#   funcdata.bin      the bytes from go:func.* (go.func.* in 1.19) to the next
#                     symbol, when they are outside .gopclntab (Go <= 1.25):
#                     the inline trees that pcln_expand reads
#   main_main.lines   "pc line" of every instruction of main.main (objdump)
#   facts.txt         "key value" lines the tests compare against, each from
#                     a tool that does not share code with sonde: `go tool nm`,
#                     `go tool objdump`, readelf's .debug_frame CFA table, and
#                     the markers in main.go.
# The output is byte-for-byte reproducible for a given set of toolchains.
#   tests/unit/data/make_data.sh          (then review and commit the diff)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILDINFO_VERSIONS="1.19 1.21 1.22 1.23 1.24 1.25 1.26 1.27"
PCLNTAB_VERSIONS="1.19 1.21 1.27" # 1.19: 40-byte _func; 1.21: 44-byte; 1.27: funcdata inside .gopclntab

work=/tmp/sonde-unit-data # recorded in the binaries: keep it fixed
rm -rf "$work"
mkdir -p "$work"
cp -r "$here/prog" "$work/prog"
trap 'rm -rf "$work"' EXIT

unset GOROOT
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOENV=off GO111MODULE=on \
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOAMD64=v1 GOEXPERIMENT= \
  GOCACHE="$work/cache" GOPATH="$work/gopath"

die() { echo "make_data.sh: $*" >&2; exit 1; }

# Line number of a marker comment in main.go.
marker_line() {
  local n
  n=$(grep -n "// $1\$" "$work/prog/main.go" | cut -d: -f1)
  [ -n "$n" ] || die "marker $1 not found in main.go"
  echo "$n"
}

# Address (0x...) of a symbol from `go tool nm`.
sym() {
  local a
  a=$("$go" tool nm "$bin" | awk -v n="$1" 'NF == 3 && $3 == n && !done { print "0x" $1; done = 1 }')
  [ -n "$a" ] || die "$bin: no symbol $1"
  echo "$a"
}

# The first symbol address above $1 (the end of the go:func.* blob).
next_sym() {
  "$go" tool nm -sort address "$bin" |
    awk -v a="$(printf %016x "$1")" '{
      s = sprintf("%016s", $1); gsub(/ /, "0", s) # zero-padded hex compares as a string
      if (!done && ("x" s) > ("x" a)) { print "0x" $1; done = 1 }
    }'
}

# "addr offset size" of a section, in hex without 0x.
section() {
  readelf -SW "$bin" | sed -E 's/^ *\[ *[0-9]+\] *//' | awk -v s="$1" '$1 == s && !done { print $3, $4, $5; done = 1 }'
}

# CFA offset from SP at pc $1, from .debug_frame (the compiler's own record
# of the frame size: CFA = SP + pcsp delta + 8 on amd64).
cfa_at() {
  local c
  c=$(readelf --debug-dump=frames-interp "$bin" 2>/dev/null | awk -v a="$(printf %016x "$1")" '
    / FDE / {
      match($0, /pc=[0-9a-f]+\.\.[0-9a-f]+/)
      split(substr($0, RSTART + 3, RLENGTH - 3), r, /\.\./)
      in_fde = ("x" r[1]) <= ("x" a) && ("x" a) < ("x" r[2])
      next
    }
    in_fde && length($1) == 16 && $1 ~ /^[0-9a-f]+$/ && ("x" $1) <= ("x" a) { cfa = $2 }
    END { print cfa }')
  case "$c" in rsp+*) echo "${c#rsp+}" ;; *) die "$bin: no CFA row for pc $1 (got '$c')" ;; esac
}

# objdump of one function: lines "file:line addr bytes instruction..."
objdump_fn() { "$go" tool objdump -s "^$1\$" "$bin"; }

for v in $BUILDINFO_VERSIONS; do
  go=/usr/lib/go-$v/bin/go
  [ -x "$go" ] || die "Go $v is not installed at $go (scripts/bootstrap.sh installs it)"
  bin=$work/prog-go$v
  (cd "$work/prog" && "$go" build -o "$bin" .)
  out=$here/go$v
  rm -rf "$out"
  mkdir -p "$out"
  objcopy -O binary --only-section=.go.buildinfo "$bin" "$out/buildinfo.bin"
  chmod 644 "$out/buildinfo.bin"
  "$go" version -m "$bin" | sed '1s|^[^:]*:|prog:|' >"$out/buildinfo.golden"

  case " $PCLNTAB_VERSIONS " in *" $v "*) ;; *) continue ;; esac

  objcopy -O binary --only-section=.gopclntab "$bin" "$out/gopclntab.bin"
  chmod 644 "$out/gopclntab.bin"
  read -r pcln_addr _ pcln_size < <(section .gopclntab)
  pcln_addr=$(printf 0x%x $((0x$pcln_addr))) pcln_size=$((0x$pcln_size))

  main_file=$work/prog/main.go
  func_main_line=$(marker_line FUNC_MAIN)
  inlined_body_line=$(marker_line INLINED_BODY)
  callsite_line=$(marker_line CALLSITE)
  calls_work_line=$(marker_line CALLS_WORK)
  callsite2_line=$(marker_line CALLSITE2)

  text=$(sym runtime.text)
  main_main=$(sym main.main)
  main_work=$(sym main.work)
  goexit=$(sym runtime.goexit.abi0)
  sigpanic=$(sym runtime.sigpanic)
  if [ "$v" = 1.19 ]; then gofunc=$(sym 'go.func.*'); else gofunc=$(sym 'go:func.*'); fi

  dump=$(objdump_fn main.main)
  [ "$(echo "$dump" | awk 'NR == 1 { print $3 }')" = "$main_file" ] || die "$bin: main.main is not in $main_file"
  [ "$(echo "$dump" | awk 'NR == 2 { split($1, f, ":"); print f[2] }')" = "$func_main_line" ] ||
    die "$bin: main.main's entry is not on line $func_main_line"
  # the first instruction of add's body inlined into main
  inline_pc=$(echo "$dump" | awk -v l="$inlined_body_line" '
    NR > 1 && !done { split($1, f, ":"); if (f[2] == l) { print $2; done = 1 } }')
  # the return address of the call to main.work, and the call's line
  work_ret=$(echo "$dump" | awk 'call && !done { print $2; done = 1 } /CALL main\.work\(SB\)/ { call = 1 }')
  [ "$(echo "$dump" | awk '/CALL main\.work\(SB\)/ { split($1, f, ":"); print f[2] }')" = "$calls_work_line" ] ||
    die "$bin: main.work is not called on line $calls_work_line"
  # the first instruction of the second inlined add, after the call to work
  inline2_pc=$(echo "$dump" | awk -v l="$inlined_body_line" '
    NR > 1 && !done { split($1, f, ":"); if (after && f[2] == l) { print $2; done = 1 } }
    /CALL main\.work\(SB\)/ { after = 1 }')
  # runtime.main calls main.main through a func value; the return address is
  # the instruction that then loads runtime.runningPanicDefers (proc.go: main).
  rtmain_ret=$(objdump_fn runtime.main |
    awk 'call && /runningPanicDefers/ && !done { print $2; done = 1 } { call = ($0 ~ /CALL [A-Z0-9]+[ \t]*$/) }')
  [ -n "$inline_pc" ] && [ -n "$inline2_pc" ] && [ -n "$work_ret" ] && [ -n "$rtmain_ret" ] ||
    die "$bin: objdump did not show what was expected"
  [ "$(cfa_at "$main_main")" = 8 ] || die "$bin: CFA at main.main's entry is not SP+8"

  funcdata_addr=
  if ((gofunc < pcln_addr || gofunc >= pcln_addr + pcln_size)); then
    end=$(next_sym "$gofunc")
    file_off=
    while read -r name _ a o s _; do
      if [[ $name == .* ]] && ((0x$a != 0 && 0x$a <= gofunc && gofunc < 0x$a + 0x$s)); then
        file_off=$((gofunc - 0x$a + 0x$o))
      fi
    done < <(readelf -SW "$bin" | sed -E 's/^ *\[ *[0-9]+\] *//')
    [ -n "$file_off" ] && ((end > gofunc)) || die "$bin: cannot locate the go:func.* bytes"
    dd if="$bin" of="$out/funcdata.bin" bs=4096 iflag=skip_bytes,count_bytes status=none \
      skip="$file_off" count=$((end - gofunc))
    funcdata_addr=$gofunc
  fi

  # every instruction of main.main with its line, as objdump shows it
  echo "$dump" | awk 'NR > 1 { split($1, f, ":"); print $2, f[2] }' >"$out/main_main.lines"

  {
    echo "# generated by make_data.sh from prog/main.go with $("$go" env GOVERSION); do not edit"
    echo "go_version $("$go" env GOVERSION)"
    echo "pclntab_addr $pcln_addr"
    echo "text $text"
    echo "gofunc $gofunc"
    [ -z "$funcdata_addr" ] || echo "funcdata_addr $funcdata_addr"
    echo "main_main $main_main"
    echo "main_work $main_work"
    echo "goexit $goexit"
    echo "sigpanic $sigpanic"
    echo "main_file $main_file"
    echo "func_main_line $func_main_line"
    echo "inlined_body_line $inlined_body_line"
    echo "callsite_line $callsite_line"
    echo "calls_work_line $calls_work_line"
    echo "inline_pc $inline_pc"
    echo "inline_pc_cfa $(cfa_at "$inline_pc")"
    echo "callsite2_line $callsite2_line"
    echo "inline2_pc $inline2_pc"
    echo "work_ret $work_ret"
    echo "work_ret_cfa $(cfa_at "$work_ret")"
    echo "rtmain_ret $rtmain_ret"
    echo "rtmain_ret_cfa $(cfa_at "$rtmain_ret")"
  } >"$out/facts.txt"
done
echo "make_data.sh: wrote $(du -sh "$here" | cut -f1) under $here"
