#!/usr/bin/env bash
# The bareos-sidecar demo: back up a sample tree through a Python plugin that
# runs out of process, restore it elsewhere, and verify every byte, mode,
# mtime and symlink.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${DEMO_DIR:-$root/demo-out}
rm -rf "$work" && mkdir -p "$work"

echo "== building and installing into $work/bareos"
PROFILE=${PROFILE:-release} "$root/deploy/install.sh" "$work/bareos"
cargo build --quiet --manifest-path "$root/Cargo.toml" --profile "${PROFILE:-release}" -p fdhost
target=$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
case "${PROFILE:-release}" in dev|debug) fdhost="$target/debug/fdhost" ;; *) fdhost="$target/${PROFILE:-release}/fdhost" ;; esac
plugins="$work/bareos/plugins"

echo "== making a sample tree"
src="$work/data"
mkdir -p "$src/docs/deep/er" "$src/empty dir" "$src/ünïcödé"
printf 'hello, bareos\n' > "$src/docs/hello.txt"
head -c 3000000 /dev/urandom > "$src/docs/deep/er/random.bin"
: > "$src/docs/empty"
printf 'x' > "$src/ünïcödé/ein byte"
cp "$root/README.md" "$src/docs/README copy.md"
chmod 0640 "$src/docs/hello.txt"
ln -s docs/hello.txt "$src/link to hello"
touch -d '2020-02-02 02:02:02' "$src/docs/hello.txt"
printf '%s\n' "$src" > "$work/list"

module="python3:module_path=$plugins/sidecar/examples:module_name=sidecar_local_fileset:filename=$work/list"

echo "== backup (fdhost loads $plugins/python3-fd.so; the plugin runs in sidecar-runner)"
"$fdhost" backup --plugin-dir "$plugins" --plugin "$module" --archive "$work/archive" -d 10

echo "== restore"
"$fdhost" restore --plugin-dir "$plugins" --archive "$work/archive" --where "$work/restored"

echo "== verify"
python3 - "$src" "$work/restored$src" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
checked = 0
for root, dirs, files in os.walk(src):
    for name in dirs + files:
        a = os.path.join(root, name)
        b = os.path.join(dst, os.path.relpath(a, src))
        sa, sb = os.lstat(a), os.lstat(b)
        assert sa.st_mode == sb.st_mode, (a, oct(sa.st_mode), oct(sb.st_mode))
        if os.path.islink(a):
            assert os.readlink(a) == os.readlink(b), a
        elif os.path.isfile(a):
            assert open(a, "rb").read() == open(b, "rb").read(), a
            assert int(sa.st_mtime) == int(sb.st_mtime), a
        checked += 1
print(f"verified {checked} entries: contents, modes, mtimes and symlinks identical")
PY
echo "== demo OK"
