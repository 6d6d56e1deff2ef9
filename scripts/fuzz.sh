#!/usr/bin/env bash
# fuzz.sh: builds sonde's libFuzzer harnesses (tests/fuzz) with clang and runs
# each for a while on a working corpus in the build tree, then prints per
# harness the executions, the coverage and any crashing input (docs/FUZZING.md).
set -euo pipefail

ALL="fuzz_elf fuzz_pclntab fuzz_dwarf_layout fuzz_layout_table fuzz_index fuzz_config fuzz_yaml"

usage() {
  cat <<EOF
Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]

Configures a clang build with -DSONDE_FUZZ=ON in \$BUILD (default: build-fuzz
beside this script's checkout), builds the harnesses and runs each for SECONDS
(default 60), one after the other. HARNESS is one of:
  $ALL
(the "fuzz_" may be left out); default all of them.

Each harness's working corpus is BUILD/fuzz-work/HARNESS/corpus: the seeds of
tests/fuzz/corpus/HARNESS are copied in, and what libFuzzer finds stays there
for the next run. Nothing is written to the checkout. A crashing input is
written to BUILD/fuzz-work/HARNESS/artifacts/ and its path printed; the log of
the run is BUILD/fuzz-work/HARNESS/log.

Environment:
  BUILD      the build directory
  CC         the compiler (default clang)
  FUZZ_ARGS  more libFuzzer options, e.g. "-fork=2 -ignore_crashes=1" to keep
             going past a crash, or "-only_ascii=1"

Exit status: 0 when no harness crashed, 1 when one did, 2 on bad usage.
EOF
}

seconds=60
harnesses=()
for a in "$@"; do
  case "$a" in
    -h | --help) usage; exit 0 ;;
    *[!0-9]*) ;;
    *) seconds=$a; continue ;;
  esac
  h=fuzz_${a#fuzz_}
  if [[ " $ALL " != *" $h "* ]]; then
    echo "fuzz.sh: unknown harness '$a' (known: $ALL); see scripts/fuzz.sh --help" >&2
    exit 2
  fi
  harnesses+=("$h")
done
[ ${#harnesses[@]} -gt 0 ] || read -r -a harnesses <<<"$ALL"

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-fuzz}
mkdir -p "$build/fuzz-work"
echo "fuzz.sh: building the harnesses in $build"
if ! { cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DSONDE_FUZZ=ON -DSONDE_TESTS=OFF &&
       cmake --build "$build" --target sonde_fuzzers -j "$(nproc)"; } >"$build/fuzz-work/build.log" 2>&1; then
  tail -n 30 "$build/fuzz-work/build.log" >&2
  echo "fuzz.sh: the build failed; the whole log is $build/fuzz-work/build.log" >&2
  exit 1
fi

# The value of libFuzzer's "stat::NAME: VALUE" line, or "?".
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1 | grep . || echo "?"; }

crashed=0
printf '%-18s %10s %8s %6s %7s %16s  %s\n' harness execs exec/s cov ft corpus result
for h in "${harnesses[@]}"; do
  work=$build/fuzz-work/$h
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -rn "$root/tests/fuzz/corpus/$h/." "$work/corpus/"
  before=$(ls "$work/artifacts")
  rc=0
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
  (cd "$work" && "$build/tests/fuzz/$h" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
     -print_final_stats=1 -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus") >"$work/log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  # the inputs this run wrote (with -fork and -ignore_crashes it exits 0 after crashes)
  new=$(comm -13 <(echo "$before") <(ls "$work/artifacts") | sed "s|^|$work/artifacts/|" | tr '\n' ' ')
  result=ok
  if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
    crashed=1
    result="FAILED (exit $rc): ${new:-no input written, see $work/log}"
  fi
  execs=$(stat number_of_executed_units "$work/log")
  rate=$(stat average_exec_per_sec "$work/log")
  if [ "$execs" = "?" ]; then # -fork: no final stats, status lines "#N: cov: ... exec/s R ..."
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    rate=$(sed -n 's/.* exec\/s:* \([0-9]*\).*/\1/p' <<<"$last")
  fi
  printf '%-18s %10s %8s %6s %7s %16s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if [ "$crashed" -ne 0 ]; then
  echo "fuzz.sh: a harness failed: the stack is in its log; docs/FUZZING.md says how to minimise the input and keep it" >&2
fi
exit "$crashed"
