#!/usr/bin/env bash
# test.sh: the test command (README). Installs what is missing (via
# bootstrap.sh), configures a -Werror AddressSanitizer+UBSan build, builds,
# and runs every test through ctest: unit tests, the layout contract and the
# agreement tests against every installed Go toolchain (the churn tests' long
# sessions with a second build without sanitizers); then a summary of
# passed, failed and skipped tests (skips listed with their reasons).
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -R unit
set -euo pipefail
cd "$(dirname "$0")/.."

have_deps() {
  command -v cmake >/dev/null && command -v cc >/dev/null && command -v python3 >/dev/null &&
    pkg-config --exists libdw libelf cmocka yaml-0.1 inih nettle yajl libprotobuf-c zlib 2>/dev/null && command -v protoc-c >/dev/null && [ -f /usr/include/Zydis/Zydis.h ] && [ -x /usr/lib/go-1.27/bin/go ]
}
if ! have_deps; then
  echo "test.sh: dependencies missing; running scripts/bootstrap.sh" >&2
  if [ "$(id -u)" -eq 0 ]; then bash scripts/bootstrap.sh; else sudo bash scripts/bootstrap.sh; fi
fi

build=${SONDE_TEST_BUILD:-build-test}
# A second build without sanitizers, for the churn tests' long no-leak
# sessions only (tests/CMakeLists.txt, SONDE_STRESS_SONDE): under
# AddressSanitizer they alone took six minutes. About 10 s to build.
stress="$build-stress"
cmake -S . -B "$stress" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSONDE_WERROR=ON >/dev/null
cmake --build "$stress" -j"$(nproc)" >"$stress/build.log" 2>&1 ||
  { cat "$stress/build.log" >&2; echo "test.sh: the build without sanitizers ($stress) failed, above" >&2; exit 1; }
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSONDE_WERROR=ON -DSONDE_SANITIZE=ON \
  -DSONDE_STRESS_SONDE="$PWD/$stress/host/sonde" >/dev/null
cmake --build "$build" -j"$(nproc)"
# detect_leaks stays on; ptrace and process_vm_readv are fine under ASan.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The JUnit report feeds the summary: passed, failed and skipped tests, with
# the reason of each skip (scripts/test_summary.py).
report="$PWD/$build/ctest-junit.xml"
rm -f "$report"
rc=0
ctest --test-dir "$build" --output-on-failure -j2 --output-junit "$report" \
  --test-output-size-passed 1000000 --test-output-size-failed 1000000 "$@" || rc=$?
[ ! -f "$report" ] || python3 scripts/test_summary.py "$report" || true
exit "$rc"
