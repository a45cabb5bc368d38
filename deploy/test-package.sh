#!/usr/bin/env bash
# End-to-end test of the Debian package, installed the way admins do it:
# dpkg -i onto this machine's / (run as root, on a test machine or in CI).
#
#  1. builds it (deploy/package.sh) and runs lintian (no errors or warnings
#     beyond deploy/debian/lintian-overrides);
#  2. puts stand-in stock plugins /usr/lib/bareos/plugins/python3-{fd,dir,sd}.so
#     with known content there if there are none (a real stock plugin, e.g.
#     from bareos-filedaemon-python3-plugin, is used as it is);
#  3. dpkg -i: checks the diversions, the stock files at *.stock byte for
#     byte, the installed files; reinstalls (preinst/postinst "upgrade");
#  4. backs up and restores a tree with /usr/bin/fdhost through the
#     installed plugin and /usr/share/bareos-sidecar/examples, under
#     `env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin` (a service manager's
#     environment: the runner must find Debian's Python by itself);
#  5. dpkg -r: the stock files are back byte for byte, the diversions gone;
#     dpkg --purge: the conffile is gone;
#  6. when the stand-ins are ours and no package owns the plugin paths: a
#     stand-in "Bareos plugin package" installed and upgraded while
#     bareos-sidecar is installed lands on the diverted *.stock name, and
#     is in place again after bareos-sidecar's removal;
#  7. if /opt/bareos/sbin/bareos-fd (a tarball install) exists: that real
#     file daemon loads the packaged python3-fd.so from
#     /usr/lib/bareos/plugins (it starts on a private port and config, is
#     stopped after loading; it does not touch any running Bareos).
#
# Prints `N passed, N failed` last and exits non-zero on any failure. The
# package is removed and the stand-ins taken away again on every exit.
# Without root, dpkg or amd64 it says `skipped` and why, and exits 0.
#
# usage: deploy/test-package.sh          (KEEP=1 keeps the scratch directory)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
plugins=/usr/lib/bareos/plugins
sane_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin)
fake=bareos-sidecar-test-stock-plugin # the stand-in Bareos plugin package

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "  ok    $*"; }
fail() { failed=$((failed + 1)); echo "  FAIL  $*"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
step() { echo; echo "== $*"; }
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
known() { dpkg-query -W -f='${db:Status-Status}' "$1" >/dev/null 2>&1 &&
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1")" != not-installed ]; }
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
diversions() { dpkg-divert --list | grep -c ' by bareos-sidecar$'; }

# Where it cannot run it says so and why, and counts nothing (deploy/test.sh).
skip() {
    echo "test-package.sh: skipped: $*"
    echo "0 passed, 0 failed"
    exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (it installs the package into /)"
command -v dpkg >/dev/null || skip "not a Debian system (no dpkg)"
[ "$(dpkg --print-architecture)" = amd64 ] || skip "the package is amd64 only"
start=$(date +%s)

# ----------------------------------------------------------------- tools
need=()
for t in dpkg-shlibdeps:dpkg-dev lintian:lintian help2man:help2man chrpath:chrpath \
    objcopy:binutils; do
    command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
[ -e /usr/include/python3.11/Python.h ] || need+=(python3-dev)
if [ ${#need[@]} -gt 0 ]; then
    echo "test-package.sh: apt-get install ${need[*]}"
    apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
        { echo "test-package.sh: cannot install ${need[*]}" >&2; exit 2; }
fi

scratch=$(mktemp -d /tmp/bareos-sidecar-test-package.XXXXXX)
chmod 0755 "$scratch"
created_dirs=()  # directories we made, removed again when empty
created_files=() # stand-ins we made
fd_pid=

summarised=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -z "$summarised" ]; then # interrupted, or an unexpected exit
        echo "test-package.sh: stopped early (status $rc); cleaning up"
        echo "$passed passed, $((failed + 1)) failed"
        [ "$rc" = 0 ] && rc=1
    fi
    [ -n "$fd_pid" ] && kill "$fd_pid" 2>/dev/null
    installed bareos-sidecar && dpkg -r bareos-sidecar >/dev/null 2>&1
    known bareos-sidecar && dpkg --purge bareos-sidecar >/dev/null 2>&1
    known "$fake" && dpkg --purge "$fake" >/dev/null 2>&1
    local f
    for f in "${created_files[@]}"; do
        # A stand-in of ours, unless a package owns that path now.
        dpkg -S "$f" >/dev/null 2>&1 || rm -f "$f"
    done
    local i
    for ((i = ${#created_dirs[@]} - 1; i >= 0; i--)); do
        rmdir "${created_dirs[i]}" 2>/dev/null
    done
    if [ -n "${KEEP:-}" ]; then echo "scratch kept: $scratch"; else rm -rf "$scratch"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A previous run that was killed hard may have left the package installed.
if known bareos-sidecar; then
    echo "test-package.sh: bareos-sidecar is installed; purging it first"
    dpkg --purge bareos-sidecar >/dev/null || { echo "cannot purge bareos-sidecar" >&2; exit 2; }
fi

# ----------------------------------------------------------------- build
step "build (deploy/package.sh)"
t0=$(date +%s)
if "$root/deploy/package.sh" "$scratch/out"; then
    pass "deploy/package.sh built the package in $(($(date +%s) - t0)) s"
else
    fail "deploy/package.sh"
    summarised=1
    echo "$passed passed, $failed failed"
    exit 1
fi
deb=$(ls "$scratch"/out/bareos-sidecar_*_amd64.deb)
version=$(dpkg-deb -f "$deb" Version)

step "lintian"
lintian --fail-on error,warning --info --pedantic "$deb" >"$scratch/lintian.txt" 2>&1
lint_rc=$?
grep -v 'root privileges' "$scratch/lintian.txt" | sed 's/^/    /'
check "lintian: no errors or warnings (info: $(grep -c '^I:' "$scratch/lintian.txt"), pedantic: $(grep -c '^P:' "$scratch/lintian.txt"))" \
    test "$lint_rc" = 0
check "lintian: every override is used" bash -c "! grep -Eq 'unused-override|mismatched-override' '$scratch/lintian.txt'"
dpkg-deb -f "$deb" Depends | grep -q 'libpython3\.11' && pass "Depends names libpython3.11: $(dpkg-deb -f "$deb" Depends)" ||
    fail "Depends lacks libpython3.11: $(dpkg-deb -f "$deb" Depends)"

# ----------------------------------------------------------- stand-ins
step "stock plugins in $plugins"
for d in /usr/lib/bareos "$plugins"; do
    [ -d "$d" ] || { mkdir "$d" && created_dirs+=("$d"); }
done
declare -A stock_sha
for daemon in fd dir sd; do
    f="$plugins/python3-$daemon.so"
    if [ -e "$f" ]; then
        echo "  using the existing $f (owner: $(dpkg -S "$f" 2>/dev/null | cut -d: -f1 | grep . || echo none))"
    else
        printf 'stand-in stock python3-%s.so of deploy/test-package.sh\n' "$daemon" >"$f"
        created_files+=("$f" "$f.stock")
    fi
    stock_sha[$daemon]=$(sha "$f")
done
[ ${#created_files[@]} = 6 ] && ours=1 || ours=

# ---------------------------------------------------------- install
check_installed() { # $1: what happened
    check "$1: three diversions by bareos-sidecar" test "$(diversions)" = 3
    local daemon f
    for daemon in fd dir sd; do
        f="$plugins/python3-$daemon.so"
        check "$1: diversion of $f to $f.stock" \
            bash -c "dpkg-divert --list '$f' | grep -qx 'diversion of $f to $f.stock by bareos-sidecar'"
        check "$1: $f.stock is the stock file byte for byte" test "$(sha "$f.stock")" = "${stock_sha[$daemon]}"
        check "$1: $f is the shim, a regular file" bash -c "[ -f '$f' ] && [ ! -L '$f' ] &&
            cmp -s '$f' '$plugins/python3-fd.so' && ! cmp -s '$f' '$f.stock'"
    done
    check "$1: dpkg --verify bareos-sidecar" dpkg --verify bareos-sidecar
}

step "dpkg -i"
dpkg -i "$deb" >"$scratch/install.txt" 2>&1
check "dpkg -i $(basename "$deb")" test $? = 0
sed 's/^/    /' "$scratch/install.txt"
check "postinst says to restart bareos-fd" grep -q 'restart bareos-fd' "$scratch/install.txt"
check "the maintainer scripts start or stop no service" \
    bash -c "! grep -Eq '^[[:space:]]*(systemctl|service|invoke-rc.d|deb-systemd-invoke|kill|pkill)[[:space:]]' /var/lib/dpkg/info/bareos-sidecar.*inst /var/lib/dpkg/info/bareos-sidecar.postrm"
check_installed "install"
check "/etc/bareos/sidecar.toml is a conffile" \
    bash -c "dpkg-query -W -f='\${Conffiles}' bareos-sidecar | grep -q '/etc/bareos/sidecar.toml'"
check "man fdhost and man sidecar-runner" bash -c "man -w fdhost >/dev/null && man -w sidecar-runner >/dev/null"
python=$("${sane_env[@]}" "$plugins/sidecar/sidecar-runner" python -c \
    'import sys, ssl, sqlite3; print(sys.executable, sys.base_prefix, sys.version.split()[0])' 2>&1)
debian_version=$(/usr/bin/python3 -c 'import sys; print(sys.version.split()[0])')
check "the runner embeds Debian's Python in a bare environment: $python" \
    test "$python" = "/usr/bin/python3.11 /usr $debian_version"
check "the runner's libraries resolve (ldd)" bash -c "! ldd '$plugins/sidecar/sidecar-runner' | grep -q 'not found'"

step "dpkg -i again (reinstall: preinst/postinst upgrade)"
dpkg -i "$deb" >"$scratch/reinstall.txt" 2>&1
check "dpkg -i a second time" test $? = 0
check_installed "reinstall"

# ------------------------------------------------------- backup, restore
step "backup and restore with /usr/bin/fdhost through the installed files"
src="$scratch/data"
mkdir -p "$src/docs/deep" "$src/empty dir" "$src/ünïcödé"
: >"$src/docs/empty"
printf x >"$src/docs/one byte"
head -c 65537 /dev/urandom >"$src/docs/deep/65537"
head -c 3000000 /dev/urandom >"$src/big.bin"
head -c 100000 /dev/urandom >"$src/ünïcödé/größe.bin"
chmod 0640 "$src/docs/one byte"
chmod 0755 "$src/docs/deep/65537"
ln -s "docs/one byte" "$src/link to one byte"
ln -s /nonexistent/target "$src/ünïcödé/dangling"
touch -d @1500000000 "$src/big.bin" "$src/docs/empty"
touch -d @1234567890 "$src/ünïcödé"
echo "$src" >"$scratch/list"
same_tree() { # same entries, types, contents, link targets, modes, mtimes
    /usr/bin/python3 - "$1" "$2" <<'PY'
import os, stat, sys
a, b = sys.argv[1:]
def walk(top):
    out = {}
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(d, n)
            s = os.lstat(p)
            rel = os.path.relpath(p, top)
            if stat.S_ISLNK(s.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(s.st_mode):
                out[rel] = ("dir", s.st_mode, int(s.st_mtime))
            else:
                out[rel] = ("file", s.st_mode, int(s.st_mtime), open(p, "rb").read())
    return out
x, y = walk(a), walk(b)
bad = sorted(k for k in x.keys() | y.keys() if x.get(k) != y.get(k))
for k in bad:
    print(f"    differs: {k}", file=sys.stderr)
print(f"    {len(x)} entries compared")
sys.exit(1 if bad or len(x) < 10 else 0)
PY
}
for io in core plugin; do
    plugin="python3:module_path=/usr/share/bareos-sidecar/examples:module_name=sidecar_local_fileset:filename=$scratch/list:io=$io"
    "${sane_env[@]}" /usr/bin/fdhost backup --plugin-dir "$plugins" --plugin "$plugin" \
        --archive "$scratch/archive-$io" -d 10 >"$scratch/backup-$io.txt" 2>&1
    rc=$?
    check "backup (io=$io) exits 0 with Backup OK" bash -c "[ $rc = 0 ] && grep -q 'Backup OK' '$scratch/backup-$io.txt'" ||
        sed 's/^/    /' "$scratch/backup-$io.txt" | tail -20
    check "backup (io=$io): the installed runner ran, config /etc/bareos/sidecar.toml" \
        grep -q "runner pid [0-9]* started (daemon pid [0-9]*), $plugins/sidecar/sidecar-runner, .*config /etc/bareos/sidecar.toml" \
        "$scratch/backup-$io.txt"
    check "backup (io=$io): the plugin ran with Debian's Python $debian_version" \
        grep -q "with Python $debian_version" "$scratch/backup-$io.txt"
    check "backup (io=$io): the diverted *.stock files were not loaded" \
        bash -c "! grep -qi 'stock\|fdhost: Error' '$scratch/backup-$io.txt'"
    "${sane_env[@]}" /usr/bin/fdhost restore --plugin-dir "$plugins" --archive "$scratch/archive-$io" \
        --where "$scratch/restored-$io" >"$scratch/restore-$io.txt" 2>&1
    rc=$?
    check "restore (io=$io) exits 0 with Restore OK" bash -c "[ $rc = 0 ] && grep -q 'Restore OK' '$scratch/restore-$io.txt'" ||
        sed 's/^/    /' "$scratch/restore-$io.txt" | tail -20
    check "restore (io=$io): the restored tree is the original" same_tree "$src" "$scratch/restored-$io$src"
done
grep -h 'runner pid' "$scratch/backup-core.txt" | sed 's/^/    /'

# ----------------------------------------------- a real tarball bareos-fd
if [ -x /opt/bareos/sbin/bareos-fd ]; then
    step "the real /opt/bareos/sbin/bareos-fd loads the packaged plugin"
    conf="$scratch/bareos-fd.d"
    mkdir -p "$conf/work"
    port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$conf/bareos-fd.conf" <<EOF
Director {
  Name = test-package-dir
  Password = "test-package"
}
Client {
  Name = test-package-fd
  FD Addresses = { ip = { addr = 127.0.0.1; port = $port } }
  Working Directory = "$conf/work"
  Plugin Directory = "$plugins"
  Plugin Names = "python3"
}
Messages {
  Name = Standard
  Director = test-package-dir = all, !skipped, !restored
}
EOF
    "${sane_env[@]}" /opt/bareos/sbin/bareos-fd -f -d 200 -c "$conf/bareos-fd.conf" >"$scratch/bareos-fd.txt" 2>&1 &
    fd_pid=$!
    for _ in $(seq 50); do
        grep -q 'python3-fd.so' "$scratch/bareos-fd.txt" && break
        kill -0 "$fd_pid" 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.5
    kill "$fd_pid" 2>/dev/null
    wait "$fd_pid" 2>/dev/null
    fd_pid=
    grep -i 'plugin' "$scratch/bareos-fd.txt" | head -5 | sed 's/^/    /'
    check "bareos-fd $(/opt/bareos/sbin/bareos-fd --version 2>/dev/null | head -1) loaded $plugins/python3-fd.so" \
        grep -Eq "(Loaded|loaded) plugin: python3-fd.so|Plugin: .*python3-fd.so.*loaded|python3-fd.so.*(Loaded|loaded)" \
        "$scratch/bareos-fd.txt"
    check "bareos-fd: no plugin load error" \
        bash -c "! grep -Eiq 'dlopen.*(fail|error)|plugin.*(fail|error)|stock' '$scratch/bareos-fd.txt'"
fi

# ----------------------------------------------------------------- remove
check_removed() { # $1: what happened
    check "$1: no diversions by bareos-sidecar left" test "$(diversions)" = 0
    local daemon f
    for daemon in fd dir sd; do
        f="$plugins/python3-$daemon.so"
        check "$1: $f is the stock file again, byte for byte" test "$(sha "$f")" = "${stock_sha[$daemon]}"
        check "$1: no $f.stock left" test ! -e "$f.stock"
    done
}

step "dpkg -r bareos-sidecar"
ls -d /usr/share/bareos-sidecar/examples/__pycache__ >/dev/null 2>&1 &&
    echo "    (the runs left byte code in /usr/share/bareos-sidecar/examples/__pycache__; prerm removes it)"
dpkg -r bareos-sidecar >"$scratch/remove.txt" 2>&1
check "dpkg -r bareos-sidecar" test $? = 0
sed 's/^/    /' "$scratch/remove.txt"
check_removed "remove"
check "remove: the runner and fdhost are gone" test ! -e "$plugins/sidecar/sidecar-runner" -a ! -e /usr/bin/fdhost
check "remove: no directory of the package left (byte code of the examples included)" \
    bash -c "! ls -d /usr/share/bareos-sidecar /usr/share/doc/bareos-sidecar '$plugins/sidecar' 2>/dev/null"
check "remove: the conffile stays until purge" test -e /etc/bareos/sidecar.toml

step "dpkg --purge bareos-sidecar"
dpkg --purge bareos-sidecar >"$scratch/purge.txt" 2>&1
check "dpkg --purge bareos-sidecar" test $? = 0
check "purge: /etc/bareos/sidecar.toml is gone" test ! -e /etc/bareos/sidecar.toml
check "purge: dpkg no longer knows bareos-sidecar" bash -c "! dpkg-query -W bareos-sidecar >/dev/null 2>&1"
check_removed "purge"
check "purge again (idempotent postrm)" bash -c "dpkg --purge bareos-sidecar >/dev/null 2>&1"

# ------------------------------- a Bareos plugin package upgraded meanwhile
if [ -n "$ours" ] && ! dpkg -S "$plugins/python3-fd.so" >/dev/null 2>&1; then
    step "a Bareos plugin package installed and upgraded while bareos-sidecar is installed"
    fake_deb() { # $1: version; a package owning $plugins/python3-fd.so
        local tree="$scratch/fake-$1"
        install -d "$tree/DEBIAN" "$tree$plugins"
        printf 'stand-in Bareos python3-fd.so, package version %s\n' "$1" >"$tree$plugins/python3-fd.so"
        printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: test <test@localhost>\nDescription: stand-in for bareos-filedaemon-python3-plugin\n' \
            "$fake" "$1" >"$tree/DEBIAN/control"
        dpkg-deb --root-owner-group --build "$tree" "$scratch/fake-$1.deb" >/dev/null
        echo "$scratch/fake-$1.deb"
    }
    stand_in_fd=$(cat "$plugins/python3-fd.so")
    dpkg -i "$deb" >/dev/null 2>&1
    check "bareos-sidecar installed again" installed bareos-sidecar
    shim_sha=$(sha "$plugins/python3-fd.so")
    for v in 1 2; do
        dpkg -i "$(fake_deb "$v")" >/dev/null 2>&1
        check "plugin package $v: installed" installed "$fake"
        check "plugin package $v: its python3-fd.so landed on python3-fd.so.stock" \
            grep -qx "stand-in Bareos python3-fd.so, package version $v" "$plugins/python3-fd.so.stock"
        check "plugin package $v: python3-fd.so is still the shim" test "$(sha "$plugins/python3-fd.so")" = "$shim_sha"
    done
    dpkg --purge bareos-sidecar >/dev/null 2>&1
    check "after removing bareos-sidecar: the plugin package's python3-fd.so is back in place" \
        grep -qx "stand-in Bareos python3-fd.so, package version 2" "$plugins/python3-fd.so"
    check "after removing bareos-sidecar: dpkg -S python3-fd.so names the plugin package" \
        bash -c "dpkg -S '$plugins/python3-fd.so' | grep -q '^$fake:'"
    dpkg --purge "$fake" >/dev/null 2>&1
    check "plugin package purged, its file with it" test ! -e "$plugins/python3-fd.so"
    printf '%s\n' "$stand_in_fd" >"$plugins/python3-fd.so"
    check "no diversions left" test "$(diversions)" = 0
fi

echo
echo "test-package.sh: $(($(date +%s) - start)) s"
summarised=1
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
