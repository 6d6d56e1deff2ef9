#!/usr/bin/env bash
# gen-layouts.sh: regenerate index/layouts/go1.NN.yaml, the layout tables sonde
# uses for binaries without DWARF, from reference builds (the agreement
# fixture, built with DWARF) by every installed Go toolchain.
#   scripts/gen-layouts.sh [BUILD_DIR]      (default: build)
# The ctest e2e_layout_table_matches_go1.NN fails until the table of a
# toolchain whose runtime changed is regenerated and committed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[ -x "$build/host/sonde" ] || { echo "gen-layouts: build sonde first (no $build/host/sonde)" >&2; exit 1; }
fx="$build/go-fixtures"
bash tests/e2e/build_fixtures.sh "$fx"
mkdir -p index/layouts
for bin in "$fx"/agree-go1.*; do
  case $bin in *-stripped | *-cgo) continue;; esac # one table per version: the plain build's
  ver=${bin##*/agree-go}
  "$build/host/sonde" layout --yaml "$bin" > "index/layouts/go$ver.yaml.new"
  mv "index/layouts/go$ver.yaml.new" "index/layouts/go$ver.yaml"
  echo "gen-layouts: index/layouts/go$ver.yaml"
done
