#!/usr/bin/env bash
# bootstrap.sh: install everything sonde needs to build, test and benchmark, from
# Debian's packages only. Idempotent; run as root on Debian 12 (bookworm).
#
# Go toolchains 1.21+ are not in bookworm's base suites. We add the newer suites
# with the mirror this machine already uses, pinned at priority 100 so that apt
# only takes from them what we ask for by name (without the pin, apt would
# upgrade libc and half the system to forky).
set -euo pipefail

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages): sudo $0"
command -v apt-get >/dev/null || die "apt-get not found: sonde's bootstrap supports Debian 12 only"

export DEBIAN_FRONTEND=noninteractive

# --- 1. the mirror URI this machine already uses --------------------------------
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  # deb822: the URIs line of the stanza whose suites include "bookworm" (not -security)
  mirror=$(awk '
    /^URIs:/ { uri=$2 }
    /^Suites:/ { for (i=2;i<=NF;i++) if ($i=="bookworm") { print uri; exit } }
  ' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1=="deb" && $3=="bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || die "could not read the Debian mirror from /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"

# --- 2. the newer suites, pinned low --------------------------------------------
src=/etc/apt/sources.list.d/sonde-go.sources
want_src="Types: deb
URIs: $mirror
Suites: bookworm-backports trixie trixie-backports forky
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"
pin=/etc/apt/preferences.d/sonde-go-pin
want_pin="# sonde: take packages from these suites only when asked for by name
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=trixie-backports
Pin-Priority: 100

Package: *
Pin: release n=forky
Pin-Priority: 100
"
changed=0
# write_if_changed FILE CONTENT: rewrite only when different (cmp, not $(cat),
# which would drop trailing newlines and always differ)
write_if_changed() {
  if ! printf '%s' "$2" | cmp -s - "$1" 2>/dev/null; then printf '%s' "$2" >"$1"; changed=1; fi
}
write_if_changed "$src" "$want_src"
write_if_changed "$pin" "$want_pin"

stamp=/var/lib/apt/periodic/sonde-update-stamp
if [ "$changed" -eq 1 ] || [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720 2>/dev/null)" ]; then
  log "apt-get update"
  apt-get update -qq || die "apt-get update failed"
  mkdir -p "$(dirname "$stamp")"; touch "$stamp"
fi

libc_before=$(dpkg-query -W -f='${Version}' libc6 2>/dev/null || true)

# --- 3. build and test dependencies from bookworm ---------------------------------
base_pkgs=(build-essential cmake pkg-config git
           libdw-dev libelf-dev libyaml-dev libinih-dev libcmocka-dev libzydis-dev nettle-dev libyajl-dev time
           zlib1g-dev libprotobuf-c-dev protobuf-c-compiler graphviz
           python3 procps)
missing=()
for p in "${base_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 4. Go toolchains: 1.19 and 1.21..1.27 ----------------------------------------
installed=()
for v in 1.19 1.21 1.22 1.23 1.24 1.25 1.26 1.27; do
  pkg="golang-$v-go"
  if [ -x "/usr/lib/go-$v/bin/go" ] && [ -d "/usr/lib/go-$v/src/runtime" ]; then
    installed+=("$v"); continue
  fi
  if ! apt-cache show "$pkg" >/dev/null 2>&1; then
    log "Go $v: $pkg is no longer served by any configured suite; skipped"
    continue
  fi
  log "installing Go $v ($pkg, golang-$v-src)"
  if apt-get install -y -qq --no-install-recommends "$pkg" "golang-$v-src" >/dev/null; then
    installed+=("$v")
  else
    log "Go $v: install of $pkg failed; skipped"
  fi
done
log "Go toolchains: ${installed[*]:-none}"
[ "${#installed[@]}" -ge 4 ] || die "only ${#installed[@]} Go toolchains installed (need at least 4)"
[ -x /usr/lib/go-1.27/bin/go ] || die "Go 1.27 is required and could not be installed"

# --- 5. delve, for side-by-side benchmarks (optional) ------------------------------
if ! command -v dlv >/dev/null; then
  if apt-cache show delve >/dev/null 2>&1; then
    log "installing delve (for benchmarks)"
    apt-get install -y -qq --no-install-recommends -t forky delve >/dev/null \
      || log "delve could not be installed; benchmarks will run without the Delve comparison"
  fi
fi

# --- 6. the pin held: libc is still Debian 12's -------------------------------------
libc_after=$(dpkg-query -W -f='${Version}' libc6)
if [ -n "$libc_before" ] && [ "$libc_before" != "$libc_after" ]; then
  die "libc6 changed from $libc_before to $libc_after: the apt pin in $pin did not hold"
fi
case "$libc_after" in
  2.36*) ;;
  *) log "warning: libc6 is $libc_after, not Debian 12's 2.36" ;;
esac
log "done"
