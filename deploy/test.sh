#!/usr/bin/env bash
# Runs every test of bareos-sidecar, in three suites, and closes with one
# `N passed, N failed` line over all of them:
#   1. cargo: the Rust unit and end-to-end tests (fdhost, dirhost/sdhost,
#      shim, runner, the Python test plugins, the debugpy client test) and
#      mypy --strict over the example plugins against python/*.pyi;
#   2. acceptance: the same shim and runner in a real Bareos (tests/bareos;
#      `deploy/acceptance.sh`), skipped with the reason when no Bareos is
#      installed (BAREOS_PREFIX, default /opt/bareos);
#   3. package: the Debian package built, linted, installed and removed
#      (`deploy/test-package.sh`), skipped without dpkg or root.
#
# usage: deploy/test.sh [cargo test arguments...]
#   SKIP_ACCEPTANCE=1 / SKIP_PACKAGE=1 leave a suite out (it says so).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# What the tests need from PyPI in the runner's Python (the python3 the
# build finds): mypy for the stubs, debugpy for the debugger test.
for module in mypy debugpy; do
    if ! python3 -c "import $module" 2>/dev/null; then
        python3 -m pip install --quiet --disable-pip-version-check "$module" || exit 1
    fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
passed=0
failed=0

# The `N passed, N failed` line of a suite's output, added to the totals.
count() {
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | awk '{print $1}')))
        failed=$((failed + $(echo "$line" | awk '{print $3}')))
    fi
}

echo "=== cargo test"
cargo test --workspace "$@" 2>&1 | tee "$log" || status=1
# One line over all test binaries (cargo's last line is the last crate's
# doc tests, usually "0 passed").
cargo_line=$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' "$log")
echo "cargo: $cargo_line"
passed=$((passed + $(echo "$cargo_line" | awk '{print $1}')))
failed=$((failed + $(echo "$cargo_line" | awk '{print $3}')))

echo "=== acceptance (real Bareos)"
if [ "${SKIP_ACCEPTANCE:-0}" = 1 ]; then
    echo "acceptance: skipped: SKIP_ACCEPTANCE=1"
else
    deploy/acceptance.sh 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    count
fi

echo "=== package (Debian)"
if [ "${SKIP_PACKAGE:-0}" = 1 ]; then
    echo "package: skipped: SKIP_PACKAGE=1"
else
    deploy/test-package.sh 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    count
fi

echo "all suites:"
echo "$passed passed, $failed failed"
exit "$status"
