#!/usr/bin/env bash
# The load harness in one command: installs what it needs (wrk, nginx,
# HAProxy) from Debian packages when missing and allowed, builds the
# sidecar and the fast app in release mode, then runs run.py, which prints
# the table and writes it to target/load/. Arguments go to run.py
# (`--help`); e.g. `benches/load/run.sh --reps 3 --duration 4`.
# Not part of CI: it takes several minutes and wants two quiet cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${need[*]}" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2 ||
            echo "note: could not install ${need[*]}; the missing columns are skipped" >&2
        # The packages start system services on port 80; the harness runs its own.
        for svc in nginx haproxy; do
            command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null || true
        done
    else
        echo "note: ${need[*]} missing and cannot be installed here; those columns are skipped" >&2
    fi
fi
command -v wrk >/dev/null || { echo "error: wrk is required (apt-get install wrk)" >&2; exit 1; }
command -v taskset >/dev/null || echo "note: taskset missing: processes are not pinned to cores" >&2

cargo build --release --locked --bin scim-sidecar --example load_app
exec python3 benches/load/run.py "$@"
