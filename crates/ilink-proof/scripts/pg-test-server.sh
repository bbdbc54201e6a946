#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start` installs PostgreSQL
# from the distribution's packages when it is missing, creates a cluster
# under target/pg as a non-root user, starts it on 127.0.0.1:$PORT with
# trust authentication for local connections only, and prints the URL the
# tests read (ILINK_TEST_PG_URL); `stop` stops it and removes the cluster.
#
#   url=$(crates/ilink-proof/scripts/pg-test-server.sh start)
#   ILINK_TEST_PG_URL=$url cargo test --workspace
#   crates/ilink-proof/scripts/pg-test-server.sh stop
#
# Environment: ILINK_PG_PORT (54329).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
PORT=${ILINK_PG_PORT:-54329}
DIR=${CARGO_TARGET_DIR:-$ROOT/target}/pg
LOG=$DIR/server.log

bin_dir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x $d/initdb ]] && { echo "$d"; return 0; }
	done
	command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
	return 1
}

# Runs a command as the cluster's owner (initdb and the server refuse root).
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u "$OWNER" -- "$@"
	else
		"$@"
	fi
}

case ${1:-} in
start)
	if ! BIN=$(bin_dir); then
		echo "pg-test-server: installing postgresql" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq postgresql >&2
		BIN=$(bin_dir) || { echo "pg-test-server: no initdb after installing" >&2; exit 1; }
	fi
	OWNER=$(id -un)
	if [[ $(id -u) -eq 0 ]]; then
		OWNER=ilinkpg
		id "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home "$OWNER"
	fi
	"$0" stop >/dev/null 2>&1 || true
	mkdir -p "$DIR"
	chown "$OWNER" "$DIR"
	as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >"$DIR/initdb.log" 2>&1 ||
		{ echo "pg-test-server: initdb failed: $(tail -n 3 "$DIR/initdb.log")" >&2; exit 1; }
	as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$LOG" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=on" start >&2 ||
		{ echo "pg-test-server: the server did not start: $(tail -n 5 "$LOG")" >&2; exit 1; }
	echo "postgres://postgres@127.0.0.1:$PORT/postgres"
	;;
stop)
	BIN=$(bin_dir) || exit 0
	OWNER=$(stat -c %U "$DIR" 2>/dev/null || id -un)
	if [[ -d $DIR/data ]]; then
		as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
	fi
	rm -rf "$DIR"
	;;
*)
	echo "usage: pg-test-server.sh start|stop" >&2
	exit 2
	;;
esac
