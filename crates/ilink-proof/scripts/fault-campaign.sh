#!/usr/bin/env bash
# The fault campaign of docs/reliability.md: every fault the simulator can
# inject (500, 502, 524, reset, hang, bad JSON, truncated body, ret -2,
# ret -14, slow answer after the effect) on every route the client uses,
# against the real ilink::Client with short timeouts; then the throttling
# scenarios. Prints the table and PASS/FAIL (exit 1 on FAIL).
#
# Usage: crates/ilink-proof/scripts/fault-campaign.sh [--quick] [--only ROUTE[:KIND]] [--jobs N]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

log() { printf '==> %s\n' "$*" >&2; }

log "building (release)"
cargo build --release -p ilink-proof --bins
BIN=target/release/fault_campaign
[[ -x $BIN ]] || { echo "build product not found" >&2; exit 1; }

echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr), $(rustc --version | cut -d' ' -f1-2), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "\$ $BIN $*"
exec "$BIN" "$@"
