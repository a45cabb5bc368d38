#!/usr/bin/env bash
# Build the Debian package of bareos-sidecar:
#
#   OUTDIR/bareos-sidecar_<version>_amd64.deb         the package
#   OUTDIR/bareos-sidecar-dbgsym_<version>_amd64.deb  its debug info (line tables)
#
# from a release build against Debian's own Python (PYO3_PYTHON=/usr/bin/python3)
# in its own target directory (target/deb), so the development build, which
# may use any shared CPython, is not touched. The package is assembled in a
# staging tree and built with dpkg-deb; the binaries are stripped, their
# debug info goes to the -dbgsym package (/usr/lib/debug/.build-id/...).
# The version is the top entry of deploy/debian/changelog; its upstream part
# must be the workspace's version.
#
# Needs (Debian): cargo, python3-dev, dpkg-dev, help2man, binutils.
#
# usage: deploy/package.sh [OUTDIR]      (default: target/deb)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
debian="$root/deploy/debian"
outdir=${1:-$root/target/deb}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

die() { echo "package.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
missing=()
for need in dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev dpkg-parsechangelog:dpkg-dev \
    help2man:help2man objcopy:binutils strip:binutils readelf:binutils \
    chrpath:chrpath cargo:cargo; do
    command -v "${need%%:*}" >/dev/null || missing+=("${need#*:}")
done
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 - <<'PY'
import os, sys, sysconfig
ok = sysconfig.get_config_var("Py_ENABLE_SHARED") and os.path.exists(
    os.path.join(sysconfig.get_paths()["include"], "Python.h"))
sys.exit(0 if ok else 1)
PY
then
    missing+=(python3-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
    die "missing: apt-get install $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------- version
changelog="$debian/changelog"
version=$(dpkg-parsechangelog -l "$changelog" -S Version)
maintainer=$(dpkg-parsechangelog -l "$changelog" -S Maintainer)
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$changelog" -S Timestamp)
export SOURCE_DATE_EPOCH
upstream=${version%-*}
metadata=$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 \
    --filter-platform x86_64-unknown-linux-gnu)
cargo_version=$(/usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
print(next(p["version"] for p in m["packages"] if p["name"] == "sidecar-shim"))' <<<"$metadata")
[ "$upstream" = "$cargo_version" ] ||
    die "deploy/debian/changelog is at $version, the workspace at $cargo_version: add a changelog entry"
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "builds amd64 packages only (this is $arch)"

# ------------------------------------------------------------------------ build
export PYO3_PYTHON=/usr/bin/python3
export CARGO_TARGET_DIR=${SIDECAR_DEB_TARGET:-$root/target/deb}
echo "package.sh: cargo build --release (PYO3_PYTHON=$PYO3_PYTHON, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --quiet --release --manifest-path "$root/Cargo.toml" \
    -p sidecar-shim -p sidecar-runner -p fdhost
bin="$CARGO_TARGET_DIR/release"

stage=$(mktemp -d "${TMPDIR:-/tmp}/bareos-sidecar-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
pkg="$stage/bareos-sidecar"
dbg="$stage/bareos-sidecar-dbgsym"
work="$stage/work"
mkdir -p "$pkg/DEBIAN" "$dbg/DEBIAN" "$work"

# ---------------------------------------------------- strip, debug info aside
build_ids=()
# split_debug IN OUT [strip options]: OUT is IN stripped, its debug info in
# the dbgsym tree under its build id, linked by .gnu_debuglink (as dh_strip).
split_debug() {
    local in=$1 out=$2
    shift 2
    local id
    id=$(readelf -n "$in" | awk '/Build ID:/ { print $3 }')
    [ -n "$id" ] || die "$in has no build id"
    local debug="$dbg/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
    install -d "$(dirname "$debug")"
    objcopy --only-keep-debug --compress-debug-sections "$in" "$debug"
    chmod 0644 "$debug"
    strip --remove-section=.comment --remove-section=.note "$@" -o "$out" "$in"
    objcopy --add-gnu-debuglink="$debug" "$out"
    build_ids+=("$id")
}
split_debug "$bin/libsidecar_shim.so" "$work/shim.so" --strip-unneeded
split_debug "$bin/sidecar-runner" "$work/sidecar-runner"
split_debug "$bin/fdhost" "$work/fdhost"
# build.rs records libpython's directory as RUNPATH for shared CPythons
# elsewhere; Debian's is in the default search path, so it is dropped.
if readelf -d "$work/sidecar-runner" | grep -q '(RUNPATH)\|(RPATH)'; then
    readelf -d "$work/sidecar-runner" | grep -q '\[/usr/lib/x86_64-linux-gnu\]' ||
        die "sidecar-runner has an unexpected RUNPATH: $(readelf -d "$work/sidecar-runner" | grep PATH)"
    chrpath -d "$work/sidecar-runner" >/dev/null
fi

# ------------------------------------------------------------------- the tree
plugins="$pkg/usr/lib/bareos/plugins"
install -d "$plugins/sidecar" "$pkg/usr/bin" "$pkg/etc/bareos" \
    "$pkg/usr/share/bareos-sidecar/examples" "$pkg/usr/share/bareos-sidecar/stubs" \
    "$pkg/usr/share/doc/bareos-sidecar" "$pkg/usr/share/man/man1" \
    "$pkg/usr/share/lintian/overrides"
# Three regular files (the daemons skip symlinks); the shim tells at run
# time which daemon loaded it.
for daemon in fd dir sd; do
    install -m 0644 "$work/shim.so" "$plugins/python3-$daemon.so"
done
install -m 0755 "$work/sidecar-runner" "$plugins/sidecar/sidecar-runner"
install -m 0755 "$work/fdhost" "$pkg/usr/bin/fdhost"

# The staged runner must embed Debian's Python, found without any help from
# the environment.
home=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$plugins/sidecar/sidecar-runner" python \
    -c 'import sys; print(sys.base_prefix, sys.version_info[0], sys.version_info[1])')
[ "$home" = "/usr 3 11" ] || die "the runner's Python is '$home', expected Debian's python3.11 (/usr)"

(cd "$root/python/examples" && find . -name __pycache__ -prune -o -type f -name '*.py' -print) |
    while read -r f; do
        install -D -m 0644 "$root/python/examples/$f" "$pkg/usr/share/bareos-sidecar/examples/$f"
    done
install -m 0644 "$root"/python/*.pyi "$pkg/usr/share/bareos-sidecar/stubs/"

# /etc/bareos/sidecar.toml: the example's commented defaults, its header and
# path notes adjusted to where the file is.
/usr/bin/python3 - "$root/deploy/sidecar.toml.example" "$pkg/etc/bareos/sidecar.toml" <<'PY'
import sys
text = open(sys.argv[1]).read()
edits = [
    ("# bareos-sidecar configuration. Copy to sidecar.toml beside python3-fd.so\n"
     "# (the daemon's Plugin Directory). Read at the start of every job; every key\n"
     "# is optional.\n",
     "# bareos-sidecar configuration, read at the start of every job; every key is\n"
     "# optional. Commented lines show the defaults (under [limits] and [[plugin]]:\n"
     "# examples, not defaults). The shim reads the first\n"
     "# of: the file the daemon's environment variable BAREOS_SIDECAR_CONFIG names,\n"
     "# sidecar.toml beside python3-fd.so (the daemon's Plugin Directory,\n"
     "# /usr/lib/bareos/plugins), this file. The job log names the file at debug\n"
     "# level 10 (\"config <path>\").\n"),
    ("# The runner executable; relative paths are relative to this directory.\n",
     "# The runner executable; relative paths are relative to the plugin directory.\n"),
    ("(relative\n# paths are relative to this directory). The daemon's environment variable\n"
     "# BAREOS_SIDECAR_CONFIG names another file to read instead of this one.\n",
     "(relative\n# paths are relative to the plugin directory).\n"),
]
for old, new in edits:
    if old not in text:
        sys.exit(f"package.sh: deploy/sidecar.toml.example changed; update the edit of:\n{old}")
    text = text.replace(old, new)
open(sys.argv[2], "w").write(text)
PY
chmod 0644 "$pkg/etc/bareos/sidecar.toml"
echo /etc/bareos/sidecar.toml >"$pkg/DEBIAN/conffiles"

# Documentation: copyright (with the statically linked crates), changelog,
# man pages.
crates=$(/usr/bin/python3 -c '
import json, sys
m = json.load(sys.stdin)
pkgs = {p["id"]: p for p in m["packages"]}
nodes = {n["id"]: n for n in m["resolve"]["nodes"]}
ours = {p["id"] for p in m["packages"] if p["source"] is None}
roots = [p["id"] for p in m["packages"] if p["name"] in ("sidecar-shim", "sidecar-runner", "fdhost")]
seen, todo = set(), list(roots)
def proc_macro(i):
    return any("proc-macro" in t["kind"] for t in pkgs[i]["targets"])
while todo:
    i = todo.pop()
    if i in seen or proc_macro(i):  # compile time only, and so are its deps
        continue
    seen.add(i)
    for d in nodes[i]["deps"]:
        # normal (linked) dependencies only, not build scripts or tests
        if any(k["kind"] is None for k in d["dep_kinds"]):
            todo.append(d["pkg"])
for p in sorted((pkgs[i] for i in seen - ours), key=lambda p: (p["name"], p["version"])):
    print(" " + p["name"] + " " + p["version"] + ": " + (p["license"] or "see its crate"))' <<<"$metadata")
/usr/bin/python3 - "$debian/copyright.in" "$pkg/usr/share/doc/bareos-sidecar/copyright" \
    "$maintainer" "$crates" <<'PY'
import sys
src, dst, maintainer, crates = sys.argv[1:]
text = open(src).read().replace("@MAINTAINER@", maintainer).replace("@CRATES@", crates)
open(dst, "w").write(text)
PY
gzip -9n <"$changelog" >"$pkg/usr/share/doc/bareos-sidecar/changelog.Debian.gz"
gzip -9n <"$debian/sidecar-runner.1" >"$pkg/usr/share/man/man1/sidecar-runner.1.gz"
{
    echo "[COMMANDS IN DETAIL]"
    for cmd in backup restore estimate jobs bench; do
        echo ".SS \"fdhost $cmd\""
        echo ".nf"
        "$pkg/usr/bin/fdhost" "$cmd" --help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
        echo ".fi"
    done
    echo "[SEE ALSO]"
    echo ".BR sidecar-runner (1),"
    echo ".BR bareos-fd (8)"
} >"$work/fdhost.h2m"
help2man --no-info --section 1 --include "$work/fdhost.h2m" \
    --name "stand-in Bareos file daemon for testing FD plugins" \
    --output "$work/fdhost.1" "$pkg/usr/bin/fdhost"
gzip -9n <"$work/fdhost.1" >"$pkg/usr/share/man/man1/fdhost.1.gz"
install -m 0644 "$debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/bareos-sidecar"

# ------------------------------------------------------------ control files
installed_size() { # dpkg-gencontrol's rule: KiB per file rounded up, 1 per dir/link
    find "$1" -path "$1/DEBIAN" -prune -o -printf '%y %s\n' |
        awk '$1 == "f" { s += int(($2 + 1023) / 1024); next } { s += 1 } END { print s }'
}
# Depends: the shared libraries of the staged binaries (dpkg-shlibdeps reads
# the symbols files of the installed libc6, libgcc-s1, libpython3.11), plus
# python3.11: the runner sets sys.executable to /usr/bin/python3.11 (its
# standard library comes with libpython3.11's libpython3.11-stdlib).
mkdir -p "$work/shlibs/debian"
printf 'Source: bareos-sidecar\n\nPackage: bareos-sidecar\nArchitecture: amd64\n' \
    >"$work/shlibs/debian/control"
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O --warnings=7 \
    -e"$plugins/python3-fd.so" -e"$plugins/sidecar/sidecar-runner" -e"$pkg/usr/bin/fdhost")
shlibs=${shlibs#shlibs:Depends=}
grep -q 'libpython3\.11' <<<"$shlibs" || die "dpkg-shlibdeps found no libpython3.11: $shlibs"
sed -e "s|@VERSION@|$version|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$(installed_size "$pkg")|" \
    -e "s|@DEPENDS@|$shlibs, python3.11|" "$debian/control.in" >"$pkg/DEBIAN/control"
for script in preinst postinst prerm postrm; do
    install -m 0755 "$debian/$script" "$pkg/DEBIAN/$script"
done

cat >"$dbg/DEBIAN/control" <<EOF
Package: bareos-sidecar-dbgsym
Version: $version
Auto-Built-Package: debug-symbols
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $(installed_size "$dbg")
Depends: bareos-sidecar (= $version)
Section: debug
Priority: optional
Description: debug symbols for bareos-sidecar
Build-Ids: ${build_ids[*]}
EOF
install -d "$dbg/usr/share/doc"
ln -s bareos-sidecar "$dbg/usr/share/doc/bareos-sidecar-dbgsym"

for tree in "$pkg" "$dbg"; do
    (cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
        xargs -0 md5sum >DEBIAN/md5sums)
    chmod 0644 "$tree/DEBIAN/md5sums" "$tree/DEBIAN/control"
    find "$tree" -type d -exec chmod 0755 {} +
    find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
done

deb="$outdir/bareos-sidecar_${version}_amd64.deb"
dbgdeb="$outdir/bareos-sidecar-dbgsym_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
dpkg-deb --root-owner-group -Zxz --build "$dbg" "$dbgdeb" >/dev/null
echo "package.sh: built $deb ($(du -h "$deb" | cut -f1)) and $(basename "$dbgdeb")"
