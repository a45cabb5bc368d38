#!/usr/bin/env bash
# Install bareos-sidecar into a Bareos plugin directory layout:
#
#   PREFIX/plugins/python3-fd.so                  the shim, one shared object
#   PREFIX/plugins/python3-dir.so                 installed three times as
#   PREFIX/plugins/python3-sd.so                  regular files (the daemons
#                                                 skip symlinks); it tells the
#                                                 daemon by the core's table
#   PREFIX/plugins/sidecar/sidecar-runner         where the shim looks by default
#   PREFIX/plugins/sidecar/examples/              example plugins (and bareos_style/)
#   PREFIX/plugins/sidecar/stubs/*.pyi            type stubs of bareosfd, bareosdir, bareossd
#   PREFIX/plugins/sidecar.toml.example           optional configuration
#
# The layout is relocatable: the shim finds the runner relative to itself.
# For a real daemon use PREFIX=/usr/lib/bareos (plugins in /usr/lib/bareos/plugins),
# after moving the stock python3-{fd,dir,sd}.so aside.
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
install -d "$plugins/sidecar/examples" "$plugins/sidecar/stubs"
for daemon in fd dir sd; do
  # install(1) unlinks the target first: a daemon that has the old file
  # mapped keeps it, and a symlink left at that name is replaced by a file.
  install -m 0755 "$out/libsidecar_shim.so" "$plugins/python3-$daemon.so"
done
install -m 0755 "$out/sidecar-runner" "$plugins/sidecar/sidecar-runner"
install -m 0644 "$root"/python/examples/*.py "$plugins/sidecar/examples/"
for d in "$root"/python/examples/*/; do
  # Only example packages (not Python's __pycache__ from running them).
  [ -d "$d" ] && [ "$(basename "$d")" != __pycache__ ] && ls "$d"*.py >/dev/null 2>&1 || continue
  sub="$plugins/sidecar/examples/$(basename "$d")"
  install -d "$sub"
  install -m 0644 "$d"*.py "$sub/"
done
install -m 0644 "$root"/python/*.pyi "$plugins/sidecar/stubs/"
install -m 0644 "$root/deploy/sidecar.toml.example" "$plugins/sidecar.toml.example"
echo "installed bareos-sidecar ($profile) into $plugins (python3-fd.so, python3-dir.so, python3-sd.so)"
