#!/usr/bin/env bash
# demo.sh: build sonde and the example Go service (examples/waitsvc), start
# the service, show its goroutines with sonde, what changed between two
# moments (stackdiff), what grew in its heap (memwatch), the goroutines it
# leaked and its wait graph as SVG (goroutine-graph), a breakpoint, prove
# the service still answers, and stop it. Run as root on Debian 12 the first time (it installs
# dependencies through scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! { command -v cmake >/dev/null && pkg-config --exists libdw libelf yaml-0.1 yajl libprotobuf-c zlib 2>/dev/null && command -v protoc-c >/dev/null && [ -f /usr/include/Zydis/Zydis.h ] && [ -x /usr/lib/go-1.27/bin/go ]; }; then
  echo "demo: installing dependencies (scripts/bootstrap.sh)..."
  if [ "$(id -u)" -eq 0 ]; then bash scripts/bootstrap.sh; else sudo bash scripts/bootstrap.sh; fi
fi

echo "demo: building sonde..."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
sonde=build/host/sonde

echo "demo: building examples/waitsvc with Go 1.27..."
out=build/demo
mkdir -p "$out"
(cd examples/waitsvc &&
  GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$PWD/../../$out/gocache" \
    /usr/lib/go-1.27/bin/go build -o "../../$out/waitsvc" .)

addr=127.0.0.1:8077
"$out/waitsvc" -addr "$addr" >"$out/waitsvc.log" 2>&1 &
svc=$!
trap 'kill $svc 2>/dev/null; wait $svc 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$out/waitsvc.log" && break; sleep 0.1; done
sleep 0.5 # let its goroutines settle into their waits
echo "demo: waitsvc is running as pid $svc"
echo

run() { printf '\n$ %s\n' "$*"; "$@"; }
get() { # GET a path of the service, printing at most 200 bytes
  if command -v curl >/dev/null; then curl -s "http://$addr$1" | head -c 200; else
    python3 -c "import urllib.request; print(urllib.request.urlopen('http://$addr$1').read()[:200].decode(), end='')"; fi
}
run "$sonde" info -p "$svc"
run "$sonde" goroutines -p "$svc" --group
run "$sonde" goroutines -p "$svc" --stats >/dev/null
# A plugin (examples/hello-plugin, built with sonde): goroutines per wait reason.
run "$sonde" hello waits -p "$svc"

# stackdiff: what changed while three GET /lookup requests arrived. They
# hang on the cache lock the snapshotter holds; the diff shows them pile up.
lookup() { # a GET /lookup that gives up after 3 s (the server side stays stuck)
  if command -v curl >/dev/null; then curl -s -m 3 "http://$addr/lookup?key=$1" >/dev/null || true; else
    python3 -c "import urllib.request; urllib.request.urlopen('http://$addr/lookup?key=$1', timeout=3)" 2>/dev/null || true; fi
}
run "$sonde" stackdiff snapshot -p "$svc" -o "$out/before.json"
printf '\n$ %s\n' "# three GET /lookup requests arrive"
lookups=()
for k in a b c; do lookup "$k" & lookups+=($!); done
sleep 0.5
run "$sonde" stackdiff snapshot -p "$svc" -o "$out/after.json"
run "$sonde" stackdiff diff "$out/before.json" "$out/after.json"
wait "${lookups[@]}" # only the requests: a bare wait would wait for the service too

# memwatch: the heap before and after 2,000 GET /report, each report kept
# forever in a global slice. The diff names the type that grew (Go 1.22+
# records it), and go tool pprof reads the same snapshots.
run "$sonde" memwatch snapshot -p "$svc" -o "$out/heap-before.json" --pprof "$out/heap-before.pb.gz"
printf '\n$ %s\n' "# 2,000 GET /report arrive"
python3 -c "
import urllib.request
for _ in range(2000): urllib.request.urlopen('http://$addr/report').read()"
run "$sonde" memwatch snapshot -p "$svc" -o "$out/heap-after.json" --pprof "$out/heap-after.pb.gz"
run "$sonde" memwatch diff --top 5 "$out/heap-before.json" "$out/heap-after.json"
# Go 1.24 ships pprof prebuilt (1.25+ build it on first use, which takes minutes)
pgo=/usr/lib/go-1.24/bin/go
[ -x "$pgo" ] || pgo=/usr/lib/go-1.27/bin/go
printf '\n$ %s\n' "go tool pprof -top -diff_base $out/heap-before.pb.gz $out/heap-after.pb.gz | head -12"
HOME="$PWD/$out" GOTOOLCHAIN=local GOPROXY=off GOCACHE="$PWD/$out/gocache" \
  "$pgo" tool pprof -top -diff_base "$out/heap-before.pb.gz" "$out/heap-after.pb.gz" 2>/dev/null | head -12

# goroutine-graph: three GET /export time out and leave their exporting
# goroutine blocked forever on a channel nobody reads. sonde finds them
# (exit status 13: leaks found) and draws who waits on what.
printf '\n$ %s\n' "# three GET /export time out"
python3 -c "
import urllib.request, urllib.error
for _ in range(3):
    try: urllib.request.urlopen('http://$addr/export').read()
    except urllib.error.HTTPError: pass"
sleep 0.2 # the exports finish their work and block on their send
printf '\n$ %s\n' "$sonde goroutine-graph leaks -p $svc"
"$sonde" goroutine-graph leaks -p "$svc" && st=0 || st=$?
echo "(exit status $st: 13 means leaked goroutines were found)"
if command -v dot >/dev/null; then
  run "$sonde" goroutine-graph dot -p "$svc" -o "$out/graph.svg"
  echo "demo: the graph is $out/graph.svg (leaked goroutines in red)"
else
  run "$sonde" goroutine-graph dot -p "$svc" -o "$out/graph.dot"
  echo "demo: $out/graph.dot; install graphviz to render it (dot -Tsvg)"
fi

# A breakpoint on the /status handler, hit by two requests.
printf '\n$ %s\n' "$sonde attach -p $svc -b main.routes.func1 -n 2    # while two GET /status arrive"
"$sonde" attach -p "$svc" -b main.routes.func1 -n 2 >"$out/attach.txt" 2>&1 &
at=$!
sleep 0.5
get /status >/dev/null
get /status >/dev/null
wait "$at" || true
cat "$out/attach.txt"

echo
printf 'demo: the service still answers: '
get /
echo
echo "demo: full traceback: $sonde goroutines -p $svc   (JSON: add --json)"
echo "demo: stopping waitsvc"
