#!/usr/bin/env bash
# Acceptance tests of bareos-sidecar against a real Bareos installation:
# builds the release, installs the shim into a scratch directory, starts a
# private PostgreSQL catalog, bareos-dir, bareos-sd and bareos-fd (loading
# our python3-dir.so, python3-sd.so, python3-fd.so) on loopback ports and runs the scenarios
# (tests/bareos/README.md).
#
# usage: deploy/acceptance.sh [--bareos-prefix DIR] [--scratch DIR] [--list]
#                             [other bareos-acceptance options] [scenario filters...]
#   BAREOS_PREFIX=DIR   same as --bareos-prefix (default /opt/bareos)
#   ACCEPTANCE_SCRATCH  same as --scratch (default /tmp/bareos-acceptance)
#
# Prints `PASS name (x.x s)` / `FAIL name: reason` per scenario and ends
# with `N passed, N failed`; exits non-zero if anything failed. Without a
# Bareos installation (no sbin/bareos-fd under the prefix) or PostgreSQL
# server binaries it prints `acceptance: skipped: <why>` and exits 0.
# Nothing outside the scratch directory is touched.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${BAREOS_PREFIX:-/opt/bareos}
scratch=${ACCEPTANCE_SCRATCH:-/tmp/bareos-acceptance}
pass=()
while [ $# -gt 0 ]; do
  case $1 in
    --bareos-prefix) prefix=${2:?--bareos-prefix DIR}; shift 2 ;;
    --bareos-prefix=*) prefix=${1#*=}; shift ;;
    --scratch) scratch=${2:?--scratch DIR}; shift 2 ;;
    --scratch=*) scratch=${1#*=}; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done

# Cheap checks first: no build for a machine without Bareos.
if [ ! -x "$prefix/sbin/bareos-fd" ] && [ ! -x "$prefix/bin/bareos-fd" ]; then
  echo "acceptance: skipped: no sbin/bareos-fd under $prefix (use --bareos-prefix DIR)"
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  echo "acceptance: skipped: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb; set PG_BIN)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "acceptance: skipped: must run as root (the file daemon restores owners; PostgreSQL runs as user postgres)"
  exit 0
fi

echo "acceptance: building (release)"
cargo build --quiet --release --manifest-path "$root/Cargo.toml" -p bareos-acceptance
target=$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

mkdir -p "$scratch"
chmod 755 "$scratch"
"$root/deploy/install.sh" "$scratch/sidecar" >/dev/null
rm -f "$scratch/sidecar/plugins/sidecar.toml"

exec "$target/release/bareos-acceptance" --bareos-prefix "$prefix" --scratch "$scratch" \
    --sidecar-plugins "$scratch/sidecar/plugins" --python-dir "$root/python" ${pass[@]+"${pass[@]}"}
