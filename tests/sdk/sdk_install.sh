#!/usr/bin/env bash
# sdk_install.sh: the plugin SDK end to end, as a team outside this tree uses
# it. Install sonde; build examples/hello-plugin from a copy, with nothing but
# the installed sonde-plugin.pc; index it with `sonde index update`; load it,
# configure it, run it against a live Go process (which must run on,
# untraced); and check that a changed or unsafe plugin file is refused.
#   tests/sdk/sdk_install.sh BUILD_DIR SOURCE_DIR GO_FIXTURE_BINARY
# GO_FIXTURE_BINARY is tests/fixtures/agree built by tests/e2e/build_fixtures.sh.
set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR GO_FIXTURE_BINARY" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$2" && pwd) || exit 2
gofix=$(realpath -m "$3") # the script changes directory later

# sonde refuses plugin files and directories that group or others can write:
# what this script creates must not be, whatever the caller's umask.
umask 022
passes=0 fails=0 fx=""
# In /tmp: every directory above a plugin is checked, and /tmp (sticky) and
# / are safe on any machine, while the build tree's parents might be group-
# writable where someone else checked the sources out.
tmp=$(mktemp -d /tmp/sonde-sdk-test.XXXXXX) || exit 1
cleanup() {
  if [ -n "$fx" ]; then
    kill "$fx" 2>/dev/null
    wait "$fx" 2>/dev/null
  fi
  if [ "$fails" -eq 0 ]; then rm -rf "$tmp"; else echo "sdk: files kept in $tmp"; fi
}
trap cleanup EXIT
trap 'fails=$((fails + 1)); exit 130' INT
trap 'fails=$((fails + 1)); exit 143' TERM

ok() {
  echo "ok $1"
  passes=$((passes + 1))
}
# fail NAME WHY: with the last command's output (out, err, rc) indented below.
fail() {
  echo "FAIL $1: $2"
  fails=$((fails + 1))
  if [ -n "${rc:-}" ]; then
    echo "    exit $rc; stdout:"
    sed 's/^/      /' <<<"${out:-}"
    echo "    stderr:"
    sed 's/^/      /' <<<"${err:-}"
  fi
}
finish() {
  echo "sdk: $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
  exit
}
# run CMD...: runs it, keeps stdout in $out, stderr in $err, status in $rc.
run() {
  out=$("$@" 2>"$tmp/stderr")
  rc=$?
  err=$(cat "$tmp/stderr")
}
# target_runs NAME PID: the process is alive, not in a stop, and untraced.
target_runs() {
  local st tr
  st=$(awk '/^State:/{print $2}' /proc/"$2"/status 2>/dev/null)
  tr=$(awk '/^TracerPid:/{print $2}' /proc/"$2"/status 2>/dev/null)
  if [ -z "$st" ] || [ "$st" = t ] || [ "$st" = T ] || [ "$st" = Z ] || [ "$tr" != 0 ]; then
    rc="" fail "$1" "target $2: state '${st:-gone}', tracer '${tr:-?}' (want running, untraced)"
  else
    ok "$1"
  fi
}

# ---- the environment: a directory above the test that others can write
# would make every plugin below it refused, for reasons of this machine.
d=$tmp
while [ "$d" != / ]; do
  mode=$(stat -c %a "$d")
  if [ $((8#$mode & 8#1000)) -eq 0 ] && [ $((8#$mode & 8#022)) -ne 0 ]; then
    rc="" fail environment "$d is writable by its group or others (mode $mode): sonde would refuse every" \
      "plugin below it; build in a directory that is not (chmod go-w)"
    finish
  fi
  d=$(dirname "$d")
done

# ---- install --------------------------------------------------------------
prefix=$tmp/prefix
sonde=$prefix/bin/sonde
plugdir=$prefix/lib/sonde/plugins
index=$prefix/share/sonde/plugins.yaml
run cmake --install "$build" --prefix "$prefix"
if [ "$rc" -ne 0 ]; then
  fail install "cmake --install $build --prefix $prefix failed"
  finish
fi
ok install
missing=""
for f in bin/sonde include/sonde/plugin.h include/sonde/util.h include/sonde/text.h include/sonde/file.h lib/pkgconfig/sonde-plugin.pc lib/sonde/plugins; do
  [ -e "$prefix/$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
  rc="" fail install_layout "missing under $prefix:$missing"
  finish
fi
ok install_layout

# The .pc names this install (it is relocatable: the configure-time prefix
# differs) and the ABI of the installed header.
pc() { PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config "$@" sonde-plugin; }
abi_h=$(awk '/^#define SONDE_ABI_MAJOR /{ma=$3} /^#define SONDE_ABI_MINOR /{mi=$3} END{print ma "." mi}' \
  "$prefix/include/sonde/plugin.h")
incdir=$(pc --cflags-only-I | sed 's/^ *-I//; s/ *$//')
why=""
[ "$(pc --variable=abi_version)" = "$abi_h" ] || why="abi_version '$(pc --variable=abi_version)', header says $abi_h"
[ -f "$incdir/sonde/plugin.h" ] && [ "$(realpath "$incdir")" = "$(realpath "$prefix/include")" ] ||
  why="$why; Cflags '$(pc --cflags)' is not -I$prefix/include"
[ "$(realpath -m "$(pc --variable=plugindir)")" = "$(realpath "$plugdir")" ] ||
  why="$why; plugindir '$(pc --variable=plugindir)' is not $plugdir"
[ "$(realpath -m "$(pc --variable=indexfile)")" = "$(realpath -m "$index")" ] ||
  why="$why; indexfile '$(pc --variable=indexfile)' is not $index"
[ -n "$(pc --modversion)" ] || why="$why; no Version"
if [ -n "$why" ]; then rc="" fail pkgconfig_names_the_installed_sdk "${why#; }"; else ok pkgconfig_names_the_installed_sdk; fi

# ---- build the example out of tree, with the installed SDK only ------------
cp -r "$src/examples/hello-plugin" "$tmp/src"
rm -f "$tmp/src/hello.so" # a stale build in the source folder must not count
# No include path from the environment may lead back to the source tree.
run env -u CPATH -u C_INCLUDE_PATH make -C "$tmp/src" PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
if [ "$rc" -ne 0 ] || [ ! -f "$tmp/src/hello.so" ]; then
  fail build_hello_out_of_tree "make failed"
  finish
fi
# Its only include directory is the installed one.
bad=""
for inc in $(grep -oE -- '-I[^ ]+' <<<"$out" | sed 's/^-I//'); do
  [ "$(realpath -m "$inc")" = "$(realpath "$prefix/include")" ] || bad="$bad $inc"
done
if [ -n "$bad" ] || ! grep -qE -- '-I[^ ]+' <<<"$out"; then
  fail build_hello_out_of_tree "want one include directory, $prefix/include; got:${bad:- none}"
else
  ok build_hello_out_of_tree
fi
# -fvisibility=hidden: the entry is the only symbol the plugin exports.
exported=$(nm -D --defined-only "$tmp/src/hello.so" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exported" = "sonde_plugin_v1 " ]; then ok hello_exports_only_its_entry; else
  rc="" fail hello_exports_only_its_entry "exports: $exported"
fi

# ---- index it --------------------------------------------------------------
cp "$tmp/src/hello.so" "$plugdir/hello.so"
chmod 644 "$plugdir/hello.so"
run "$sonde" index update --index "$index" --plugin-dir "$plugdir" "$plugdir/hello.so"
sum=$(sha256sum "$plugdir/hello.so" | cut -d' ' -f1)
if [ "$rc" -ne 0 ]; then
  fail index_update_writes_hello "sonde index update failed"
  finish
elif ! grep -Eq -- "^ *-? *name: *\"?hello\"? *$" "$index" || ! grep -Eq "sha256: *\"?$sum\"?" "$index"; then
  out=$(cat "$index") fail index_update_writes_hello "no entry for hello with sha256 $sum in $index (shown as stdout)"
else
  ok index_update_writes_hello
fi

# ---- every later run: no sonde.ini but ours -------------------------------
cd "$tmp" || exit 1
unset SONDE_CONFIG
export XDG_CONFIG_HOME=$tmp/xdg
printf '# no settings: defaults only\n' >"$tmp/empty.ini"
host=(--config "$tmp/empty.ini" --index "$index" --plugin-dir "$plugdir")

# loads JSON [INDEX]: `sonde plugins --json` says hello loads (and read INDEX).
loads() {
  python3 -c '
import json, os, sys
doc = json.loads(sys.argv[1])
ps = [p for p in doc["plugins"] if p["name"] == "hello"]
ok = len(ps) == 1 and ps[0]["loads"] is True
if len(sys.argv) > 2:
    ok = ok and os.path.realpath(doc["index"]) == os.path.realpath(sys.argv[2])
sys.exit(0 if ok else 1)' "$@" 2>/dev/null
}
run "$sonde" plugins "${host[@]}"
if [ "$rc" -ne 0 ] || ! grep -Eq '^hello[[:space:]].*[[:space:]]loads$' <<<"$out"; then
  fail plugins_lists_hello_as_loadable "no line 'hello ... loads'"
else
  run "$sonde" plugins --json "${host[@]}"
  if [ "$rc" -ne 0 ] || ! loads "$out"; then fail plugins_lists_hello_as_loadable "--json: hello not loadable"; else
    ok plugins_lists_hello_as_loadable
  fi
fi
# The installed sonde finds its index and plugins relative to itself.
run "$sonde" plugins --json --config "$tmp/empty.ini"
if [ "$rc" -ne 0 ] || ! loads "$out" "$index"; then
  fail installed_sonde_finds_its_index_next_to_itself "without --index, want $(realpath "$index") with hello loadable"
else
  ok installed_sonde_finds_its_index_next_to_itself
fi

run "$sonde" hello --help "${host[@]}"
if [ "$rc" -ne 0 ] || ! grep -Eq '^ +greet\b' <<<"$out" || ! grep -Eq '^ +waits\b' <<<"$out"; then
  fail hello_help_lists_greet_and_waits "want exit 0 and lines for greet and waits"
else
  ok hello_help_lists_greet_and_waits
fi

run "$sonde" hello greet "${host[@]}"
if [ "$rc" -ne 0 ] || [ "$(head -n 1 <<<"$out")" != "hello, world!" ] || ! grep -q "plugin ABI $abi_h" <<<"$out"; then
  fail hello_greet_prints_default_greeting "want 'hello, world!' and the host's ABI $abi_h"
else
  ok hello_greet_prints_default_greeting
fi

printf '[hello]\ngreeting = bonjour\n' >"$tmp/bonjour.ini"
run "$sonde" hello greet Ada --config "$tmp/bonjour.ini" --index "$index" --plugin-dir "$plugdir"
if [ "$rc" -ne 0 ] || [ "$(head -n 1 <<<"$out")" != "bonjour, Ada!" ]; then
  fail hello_greeting_comes_from_sonde_ini "want 'bonjour, Ada!' with [hello] greeting = bonjour"
else
  ok hello_greeting_comes_from_sonde_ini
fi

# ---- against a live Go process -------------------------------------------
if [ ! -x "$gofix" ]; then
  rc="" fail hello_waits_live "no Go fixture at $gofix (tests/e2e/build_fixtures.sh builds it)"
else
  "$gofix" -dump "$tmp/dump" -n 100 >"$tmp/fixture.out" 2>"$tmp/fixture.err" &
  fx=$!
  pid=""
  for _ in $(seq 1 300); do
    pid=$(awk '$1 == "READY" {print $2; exit}' "$tmp/fixture.out" 2>/dev/null)
    [ -n "$pid" ] && break
    kill -0 "$fx" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$pid" ]; then
    out=$(cat "$tmp/fixture.out") err=$(cat "$tmp/fixture.err") rc="" \
      fail hello_waits_live "the fixture never printed READY PID"
  else
    # 100 goroutines parked in main.parkedWorker on a channel receive (-n 100).
    run "$sonde" hello waits -p "$pid" "${host[@]}"
    line=$(grep -E '^ *[0-9]+  chan receive  ' <<<"$out")
    count=$(awk '{print $1}' <<<"$line")
    if [ "$rc" -ne 0 ] || [ -z "$count" ] || [ "$count" -lt 100 ] || ! grep -q 'main\.parkedWorker: 100 goroutines' <<<"$line"; then
      fail hello_waits_counts_chan_receive "want a 'chan receive' line with >= 100 goroutines, top frame main.parkedWorker"
    else
      ok hello_waits_counts_chan_receive
    fi
    # --json, and the same count as sonde's own goroutine list.
    run "$sonde" hello waits -p "$pid" --json "${host[@]}"
    hello_json=$out hello_rc=$rc
    run "$sonde" goroutines -p "$pid" --json
    why=$(python3 -c '
import json, sys
h, g = json.loads(sys.argv[1]), json.loads(sys.argv[2])
mine = {r["wait_reason"]: r["count"] for r in h["wait_reasons"]}
theirs = sum(1 for x in g["goroutines"] if x["wait_reason"] == "chan receive")
if mine.get("chan receive", 0) < 100 or mine["chan receive"] != theirs:
    print("hello says %s chan receive, sonde goroutines %d" % (mine.get("chan receive"), theirs))
' "$hello_json" "$out" 2>&1)
    if [ "$hello_rc" -ne 0 ] || [ "$rc" -ne 0 ] || [ -n "$why" ]; then
      out=$hello_json fail hello_waits_json_agrees_with_sonde_goroutines "${why:-a command failed}"
    else
      ok hello_waits_json_agrees_with_sonde_goroutines
    fi
    # --save: api->open_output in [host] output_dir, the path freed with api->free.
    mkdir -p "$tmp/reports"
    printf '[host]\noutput_dir = %s\n' "$tmp/reports" >"$tmp/save.ini"
    run "$sonde" hello waits -p "$pid" --save waits.txt --config "$tmp/save.ini" --index "$index" --plugin-dir "$plugdir"
    if [ "$rc" -ne 0 ] || ! grep -Eq '^ *[0-9]+  chan receive  ' "$tmp/reports/waits.txt" 2>/dev/null; then
      fail hello_waits_saves_to_output_dir "want $tmp/reports/waits.txt with the table"
    else
      ok hello_waits_saves_to_output_dir
    fi
    target_runs hello_waits_target_runs_untraced "$pid"
  fi
fi

# ---- refusals --------------------------------------------------------------
# A plugin file others can write is refused, and so is one under a directory
# they can write; --allow-unsafe-plugins turns the refusal into a warning.
chmod 664 "$plugdir/hello.so"
run "$sonde" hello greet "${host[@]}"
if [ "$rc" -ne 12 ] || ! grep -q 'writable' <<<"$out$err"; then
  fail group_writable_plugin_refused "want exit 12 and a message saying the file is writable"
else
  ok group_writable_plugin_refused
fi
run "$sonde" hello greet --allow-unsafe-plugins "${host[@]}"
if [ "$rc" -ne 0 ] || [ "$(head -n 1 <<<"$out")" != "hello, world!" ]; then
  fail allow_unsafe_plugins_loads_it "want exit 0 and the greeting"
else
  ok allow_unsafe_plugins_loads_it
fi
chmod 644 "$plugdir/hello.so"
chmod g+w "$plugdir"
run "$sonde" hello greet "${host[@]}"
if [ "$rc" -ne 12 ] || ! grep -q 'writable' <<<"$out$err"; then
  fail plugin_under_group_writable_dir_refused "want exit 12 and a message saying the directory is writable"
else
  ok plugin_under_group_writable_dir_refused
fi
chmod g-w "$plugdir"

# Changed after it was indexed: one byte more.
printf '\0' >>"$plugdir/hello.so"
run "$sonde" hello greet "${host[@]}"
if [ "$rc" -ne 12 ] || ! grep -q 'sha256' <<<"$out$err"; then
  fail tampered_plugin_refused "want exit 12 and a message naming sha256"
else
  ok tampered_plugin_refused
fi

finish
