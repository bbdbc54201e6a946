#!/usr/bin/env bash
# The pause campaigns of docs/reliability.md: cluster members whose bots
# reply to every message, one of them stopped with SIGSTOP for 15 s (past
# the 6 s lease TTL) every 20 s and continued with SIGCONT, against the
# simulator. First on one SQLite file (2 members, 40 accounts, 120 s), then
# on PostgreSQL (3 members, 60 accounts, 150 s). Checks: every message
# answered, no reply refused by our own reply budget, no message
# acknowledged without its reply, no sendmessage by a member after it lost
# the account's lease, never two held polls of one account; reports the
# replies the server dropped as a repeated client_id.
#
# Usage: crates/ilink-proof/scripts/pause-campaign.sh [sqlite|postgres|both] [extra failover_campaign flags]
# Environment: ILINK_FAILOVER_PG_URL (a server to use; default: a throwaway
#              one from pg-test-server.sh, stopped at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

WHICH=both
if [[ ${1:-} == sqlite || ${1:-} == postgres || ${1:-} == both ]]; then
	WHICH=$1
	shift
fi

echo "==> building (release)" >&2
cargo build --release --locked -q -p ilink-proof --bin failover_campaign --bin cluster_bot

echo "$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
PAUSE=(--pause --pause-every-s 20 --pause-for-s 15 --lease-ttl-ms 6000 --rate 20)
if [[ $WHICH != postgres ]]; then
	echo "==> one SQLite file, 2 members" >&2
	target/release/failover_campaign --sqlite --accounts 40 --members 2 \
		--seconds 120 "${PAUSE[@]}" "$@" || status=1
fi
if [[ $WHICH != sqlite ]]; then
	URL=${ILINK_FAILOVER_PG_URL:-}
	if [[ -z $URL ]]; then
		URL=$(bash crates/ilink-proof/scripts/pg-test-server.sh start)
		trap 'bash crates/ilink-proof/scripts/pg-test-server.sh stop' EXIT
	fi
	echo "==> PostgreSQL, 3 members" >&2
	target/release/failover_campaign --url "$URL" --accounts 60 --members 3 \
		--seconds 150 "${PAUSE[@]}" "$@" || status=1
fi
exit $status
