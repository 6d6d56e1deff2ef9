#!/usr/bin/env bash
# check_layers_selftest.sh: check_layers.sh refuses each kind of violation, in
# a small tree made for it (a checker that cannot fail proves nothing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/host/base" "$t/host/cli" "$t/host/goruntime" "$t/host/weird" "$t/plugins/p" "$t/plugin-api/sonde"
printf '  X(NL_HEAD, "runtime.notifyList", "head", 8, "*runtime.sudog", LF_OPT)\n' >"$t/host/goruntime/layout.h"
printf 'enum { NL_TAIL = 24 };\nint f(void *m, unsigned long nl, unsigned long *x) {\n  return tgt_mem_read_u64(m, nl + 16, x);\n}\n' \
  >"$t/host/goruntime/w.c"
echo '#include "cli/cli.h"' >"$t/host/base/x.c"
echo '#include "target/ptrace.h"' >"$t/host/cli/y.c"
seq 701 | sed 's/.*/int x&;/' >"$t/host/base/long.c"
printf '#include "../../host/base/error.h"\n#include <goruntime/layout.h>\n#include "nothere.h"\n#include <sonde/nosuch.h>\n' >"$t/plugins/p/a.c"
out=$(bash "$here/check_layers.sh" "$t")
rc=$?
fail=0
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, want 1"; fail=1; }
for want in "unknown layer: host/weird" "host/base/x.c (base) includes \"cli/cli.h\"" \
  "includes \"../../host/base/error.h\"" "includes <goruntime/layout.h>" "includes \"nothere.h\"" \
  "includes <sonde/nosuch.h>, not in plugin-api/" "host/cli/y.c (cli) includes \"target/ptrace.h\"" \
  "file size: host/base/long.c has 701 lines" "host/goruntime/w.c:1: NL_TAIL looks like a runtime field" \
  "host/goruntime/w.c:3:"; do
  grep -qF "$want" <<<"$out" || { echo "FAIL: no '$want' in: $out"; fail=1; }
done
[ "$fail" -eq 0 ] && echo "ok: check_layers.sh refuses all 10 violations"
exit $fail
