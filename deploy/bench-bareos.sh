#!/usr/bin/env bash
# Benchmark in the real Bareos daemons: the same bareos-fd binary, in one
# run, backs up and restores SMALL (20,000 x 1 KiB files), BIG (1 GiB, direct
# I/O) and PYDATA (1 GiB generated in Python), alone and 2/4 at once, with no
# plugin (File =), the stock in-process python3-fd.so, Bareos's gRPC bridge
# (grpc-fd.so) and bareos-sidecar, and prints one markdown table (times from
# the director's log, CPU of the fd, its runners and the other daemons).
# See docs/benchmarks.md, "In the real bareos-fd".
#
# usage: deploy/bench-bareos.sh [--bareos-prefix DIR] [--runs N] [--quick]
#                               [other bareos-bench options, --help]
#   --quick        smoke test: one run, a tenth of the sizes, every restore checked
#   --sidecar-config FILE  run ours with this sidecar.toml (default: none, the
#                  built-in defaults)
#   BAREOS_PREFIX  same as --bareos-prefix (default /opt/bareos)
#   BENCH_SCRATCH  config, catalog, logs (default /tmp/bareos-bench); workloads,
#                  volumes and restores go to /dev/shm/bareos-bench (--data-dir)
#
# Ports 29201-29204 (director, fd with our shim, sd, fd with the stock
# plugins) and 25533 (PostgreSQL), loopback only; its own scratch directory,
# so it does not collide with deploy/acceptance.sh. It waits (up to
# BENCH_WAIT seconds, default 900) while an acceptance run is going on:
# that run would compete for the CPU. The table is also written to
# SCRATCH/bench-table.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${BAREOS_PREFIX:-/opt/bareos}
scratch=${BENCH_SCRATCH:-/tmp/bareos-bench}
cmdline="deploy/bench-bareos.sh${*:+ $*}"
pass=()
while [ $# -gt 0 ]; do
  case $1 in
    --bareos-prefix) prefix=${2:?--bareos-prefix DIR}; shift 2 ;;
    --bareos-prefix=*) prefix=${1#*=}; shift ;;
    --scratch) scratch=${2:?--scratch DIR}; shift 2 ;;
    --scratch=*) scratch=${1#*=}; shift ;;
    --sidecar-config) sidecar_config=${2:?--sidecar-config FILE}; shift 2 ;;
    --sidecar-config=*) sidecar_config=${1#*=}; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done

if [ ! -x "$prefix/sbin/bareos-fd" ] && [ ! -x "$prefix/bin/bareos-fd" ]; then
  echo "bench: skipped: no sbin/bareos-fd under $prefix (use --bareos-prefix DIR)"
  exit 0
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  echo "bench: skipped: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb; set PG_BIN)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "bench: skipped: must run as root (the file daemon restores owners; PostgreSQL runs as user postgres)"
  exit 0
fi

# Another acceptance run (not a bench) competes for the CPU: wait for it.
others() {
  local p c
  for p in $(pgrep -f 'bareos-acceptance' || true); do
    c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
    case "$c" in
      *bench-bareos.sh*|*pgrep*) ;;
      *bareos-acceptance*) echo "$p" ;;
    esac
  done
}
waited=0
while [ -n "$(others)" ] && [ "$waited" -lt "${BENCH_WAIT:-900}" ]; do
  [ "$waited" = 0 ] && echo "bench: an acceptance run is going on (pid $(others | tr '\n' ' ')), waiting"
  sleep 10; waited=$((waited + 10))
done
[ -n "$(others)" ] && echo "bench: warning: an acceptance run is still going on; the figures will show it"

target=$(cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin=${BENCH_BIN:-$target/release/bareos-bench}
if [ -z "${BENCH_BIN:-}" ]; then
  echo "bench: building (release)"
  cargo build --quiet --release --manifest-path "$root/Cargo.toml" -p bareos-acceptance --bin bareos-bench
fi
mkdir -p "$scratch"
chmod 755 "$scratch"
"$root/deploy/install.sh" "$scratch/sidecar" >/dev/null
rm -f "$scratch/sidecar/plugins/sidecar.toml"
if [ -n "${sidecar_config:-}" ]; then
  cp "$sidecar_config" "$scratch/sidecar/plugins/sidecar.toml"
  echo "bench: ours runs with $sidecar_config:"; sed 's/^/bench:   /' "$sidecar_config"
fi

exec "$bin" --bareos-prefix "$prefix" --scratch "$scratch" \
    --sidecar-plugins "$scratch/sidecar/plugins" --python-dir "$root/python" \
    --port-base 29201 --pg-port 25533 --command "$cmdline" --out "$scratch/bench-table.md" \
    ${pass[@]+"${pass[@]}"}
