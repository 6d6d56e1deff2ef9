#!/usr/bin/env bash
# config_other_user.sh: sonde run by another user (setpriv, as nobody) in a
# directory whose sonde.ini is not theirs skips it, says so, and never takes
# allow_unsafe_permissions from their own (issue 22).
#   tests/cli/config_other_user.sh SONDE
set -u
sonde=$(realpath "$1")
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
  echo "SKIP: needs root, the user nobody and setpriv"; exit 77
fi
d=$(mktemp -d /tmp/sonde-cfg-user-XXXXXX); trap 'rm -rf "$d"' EXIT
chmod 755 "$d"; mkdir -m 755 "$d/rootdir" "$d/own"
printf '[host]\noutput_dir = /from-root\n' >"$d/rootdir/sonde.ini"
printf '[host]\noutput_dir = /from-nobody\nallow_unsafe_permissions = yes\n' >"$d/own/sonde.ini"
chown -R nobody:nogroup "$d/own"
as_nobody() { (cd "$1" && HOME=/nonexistent XDG_CONFIG_HOME= setpriv --reuid=nobody --regid=nogroup --clear-groups "$sonde" config 2>&1); }
bad=0
check() { if [ "$2" = ok ]; then echo "PASS $1"; else echo "FAIL $1: $3"; bad=1; fi; }
out=$(as_nobody "$d/rootdir")
case $out in *"skipped: ./sonde.ini is owned by uid 0 (root), not by you"*"--config ./sonde.ini"*) r=ok;; *) r=no;; esac
check cwd_sonde_ini_of_another_user_is_skipped_with_owner_and_fix "$r" "$out"
case $out in *from-root*) r=no;; *"config file: none (defaults)"*) r=ok;; *) r=no;; esac
check cwd_sonde_ini_of_another_user_is_not_read "$r" "$out"
out=$(as_nobody "$d/own")
case $out in *"output_dir = /from-nobody"*) r=ok;; *) r=no;; esac
check own_cwd_sonde_ini_is_read "$r" "$out"
case $out in *"allow_unsafe_permissions is ignored"*"allow_unsafe_permissions = no"*) r=ok;; *) r=no;; esac
check allow_unsafe_permissions_never_from_the_working_directory "$r" "$out"
exit $bad
