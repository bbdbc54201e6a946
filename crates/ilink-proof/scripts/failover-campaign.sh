#!/usr/bin/env bash
# The failover campaign of docs/reliability.md: 3 cluster members share 300
# accounts through one PostgreSQL store, against the simulator; one member
# is SIGKILLed every 20 s for 5 minutes and replaced by a new one. Checks:
# nothing lost, nothing handled twice unless its first handler was killed,
# never two held polls of one account; reports the takeover times.
#
# Usage: crates/ilink-proof/scripts/failover-campaign.sh [extra failover_campaign flags]
# Environment: ILINK_FAILOVER_PG_URL (a server to use; default: a throwaway
#              one from pg-test-server.sh, stopped at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

echo "==> building (release)" >&2
cargo build --release --locked -q -p ilink-proof --bin failover_campaign --bin cluster_bot

URL=${ILINK_FAILOVER_PG_URL:-}
if [[ -z $URL ]]; then
	URL=$(bash crates/ilink-proof/scripts/pg-test-server.sh start)
	trap 'bash crates/ilink-proof/scripts/pg-test-server.sh stop' EXIT
fi
echo "$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
target/release/failover_campaign --url "$URL" --accounts 300 --members 3 \
	--seconds 300 --kill-every-s 20 "$@"
