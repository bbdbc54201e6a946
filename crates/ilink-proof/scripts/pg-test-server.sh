#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start` installs PostgreSQL
# from the distribution's packages when it is missing, creates a cluster
# under target/pg as a non-root user, starts it on 127.0.0.1:$PORT with
# trust authentication for local connections only, and prints the URL the
# tests read (ILINK_TEST_PG_URL); `stop` stops it and removes the cluster.
# The server also speaks TLS, with a certificate for 127.0.0.1 from a CA
# made here (`ca` prints the CA's path, for ILINK_TEST_PG_CA), and has a
# role `tlsonly` that may connect over TLS only.
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
	# TLS: a CA, and a server certificate it signs for 127.0.0.1.
	(
		cd "$DIR"
		ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
		openssl req -x509 "${ec[@]}" -days 3 -subj "/CN=ilink test CA" \
			-keyout ca.key -out ca.crt 2>/dev/null
		openssl req "${ec[@]}" -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 \
			-extfile server.ext -out server.crt 2>/dev/null
		chown "$OWNER" server.key server.crt
		chmod 600 server.key
		chmod 644 ca.crt
	) || { echo "pg-test-server: could not make the TLS certificates (openssl)" >&2; exit 1; }
	# tlsonly: refused without TLS, trusted with it (the first match wins).
	hba=$DIR/data/pg_hba.conf
	{ printf 'hostnossl all tlsonly 0.0.0.0/0 reject\nhostssl all tlsonly 127.0.0.1/32 trust\n'; cat "$hba"; } >"$hba.new"
	mv "$hba.new" "$hba"
	chown "$OWNER" "$hba"
	as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$LOG" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=on -c ssl=on -c ssl_cert_file=$DIR/server.crt -c ssl_key_file=$DIR/server.key" start >&2 ||
		{ echo "pg-test-server: the server did not start: $(tail -n 5 "$LOG")" >&2; exit 1; }
	"$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
		-c "CREATE ROLE tlsonly LOGIN SUPERUSER" >&2 ||
		{ echo "pg-test-server: could not create the tlsonly role" >&2; exit 1; }
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
ca)
	[[ -f $DIR/ca.crt ]] || { echo "pg-test-server: not started" >&2; exit 1; }
	echo "$DIR/ca.crt"
	;;
*)
	echo "usage: pg-test-server.sh start|stop|ca" >&2
	exit 2
	;;
esac
