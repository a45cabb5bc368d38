#!/usr/bin/env bash
# Runs every test of bareos-sidecar: the Rust unit and end-to-end tests
# (fdhost + shim + runner + the Python test plugins) and mypy --strict over
# the example plugins against python/bareosfd.pyi.
#
# usage: deploy/test.sh [cargo test arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# mypy is the one thing outside cargo the tests need.
if ! python3 -c 'import mypy' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check mypy
fi

cd "$root"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace "$@" 2>&1 | tee "$log" || status=$?
# One closing line over all test binaries (cargo's last line is the last
# crate's doc tests, usually "0 passed").
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
