#!/usr/bin/env bash
# Install bareos-sidecar into a Bareos plugin directory layout:
#
#   PREFIX/plugins/python3-fd.so                  the shim (a regular file:
#                                                 bareos-fd skips symlinks)
#   PREFIX/plugins/sidecar/sidecar-runner         where the shim looks by default
#   PREFIX/plugins/sidecar/examples/*.py          example plugins
#   PREFIX/plugins/sidecar.toml.example           optional configuration
#
# The layout is relocatable: the shim finds the runner relative to itself.
# For a real daemon use PREFIX=/usr/lib/bareos (plugins in /usr/lib/bareos/plugins),
# after moving the stock python3-fd.so aside.
#
# usage: deploy/install.sh PREFIX        (PROFILE=debug to install a debug build)
set -euo pipefail

prefix=${1:?usage: deploy/install.sh PREFIX}
profile=${PROFILE:-release}
root=$(cd "$(dirname "$0")/.." && pwd)

cargo build --quiet --manifest-path "$root/Cargo.toml" --profile "$profile" \
    -p sidecar-shim -p sidecar-runner
target=$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
case "$profile" in dev|debug) out="$target/debug" ;; *) out="$target/$profile" ;; esac

plugins="$prefix/plugins"
install -d "$plugins/sidecar/examples"
install -m 0755 "$out/libsidecar_shim.so" "$plugins/python3-fd.so"
install -m 0755 "$out/sidecar-runner" "$plugins/sidecar/sidecar-runner"
install -m 0644 "$root"/python/examples/*.py "$plugins/sidecar/examples/"
install -m 0644 "$root/deploy/sidecar.toml.example" "$plugins/sidecar.toml.example"
echo "installed bareos-sidecar ($profile) into $plugins"
