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
exec cargo test --workspace "$@"
