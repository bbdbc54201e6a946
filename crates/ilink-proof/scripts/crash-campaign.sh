#!/usr/bin/env bash
# The crash campaign of docs/reliability.md: a bot on the SQLite store handles
# 10,000 inbound messages from an in-process simulator while it is killed
# with SIGKILL at 100 random moments and restarted; the journal and the store
# are then checked (every message handled at least once, none handled again
# after its acknowledgement, no state file ever unreadable).
#
# Two runs: the simulator replaying batches after an older cursor (strict
# at-least-once), then as the real server, which does not replay (losses
# allowed only in the receive window, attributed per kill).
#
# Usage: crates/ilink-proof/scripts/crash-campaign.sh [extra crash_campaign flags]
#        (--pg-url URL keeps the bot's state in PostgreSQL instead of SQLite)
# Environment: ILINK_CRASH_MESSAGES (default 10000), ILINK_CRASH_KILLS
#              (default 100), ILINK_CRASH_SEED (default: from the clock,
#              printed), ILINK_CRASH_MODES ("replay no-replay" by default).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

MESSAGES=${ILINK_CRASH_MESSAGES:-10000}
KILLS=${ILINK_CRASH_KILLS:-100}
SEED=${ILINK_CRASH_SEED:-}
MODES=${ILINK_CRASH_MODES:-replay no-replay}

log() { printf '==> %s\n' "$*" >&2; }

log "building (release)"
cargo build --release -p ilink-proof --bins
BIN=target/release/crash_campaign
[[ -x $BIN && -x target/release/crash_bot ]] || { echo "build products not found" >&2; exit 1; }

echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr), $(rustc --version | cut -d' ' -f1-2), temp dir on $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
for mode in $MODES; do
	args=(--messages "$MESSAGES" --kills "$KILLS")
	[[ -n $SEED ]] && args+=(--seed "$SEED")
	[[ $mode == no-replay ]] && args+=(--no-replay)
	args+=("$@")
	echo
	echo "\$ $BIN ${args[*]}"
	"$BIN" "${args[@]}" || status=1
done
exit "$status"
