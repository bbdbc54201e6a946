#!/usr/bin/env bash
# What a store costs the poller: batches committed and messages acknowledged
# per second (each durable), for the SQLite store and the in-memory store of
# this checkout next to the file store they replaced (built from FILE_REV,
# the last revision that had it), in one run, on this disk. The stores take
# turns; medians of RUNS runs.
#
#   crates/ilink-proof/scripts/bench-store.sh [FILE_REV]
#
# PostgreSQL is measured too when ILINK_STORE_PG_URL names a server (for
# example one from pg-test-server.sh start, on this disk).
#
# Environment: ILINK_STORE_RUNS (3), ILINK_STORE_BATCHES (2000),
# ILINK_STORE_BATCH (4 messages per batch), ILINK_STORE_DIR (where the
# stores write; default under target/, i.e. this disk), ILINK_STORE_PG_URL.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD

FILE_REV=${1:-eda0b91}
RUNS=${ILINK_STORE_RUNS:-3}
BATCHES=${ILINK_STORE_BATCHES:-2000}
BATCH=${ILINK_STORE_BATCH:-4}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$TARGET/bench-store
DIR=${ILINK_STORE_DIR:-$WORK/data}
mkdir -p "$WORK" "$DIR"

echo "building this checkout" >&2
cargo build --release --locked -q -p ilink-proof --bin bench_store
cp "$TARGET/release/bench_store" "$WORK/bench_store-new"

echo "building $FILE_REV (the file store)" >&2
TREE=$WORK/tree
rm -rf "$TREE"
git worktree prune
git worktree add -q --detach "$TREE" "$FILE_REV"
trap 'git worktree remove --force "$TREE" 2>/dev/null || true' EXIT
(cd "$TREE" && CARGO_TARGET_DIR=$WORK/target-old cargo build --release --locked -q -p ilink-proof --bin bench_store)
cp "$WORK/target-old/release/bench_store" "$WORK/bench_store-old"

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

STORES="file sqlite memory"
PG_URL=${ILINK_STORE_PG_URL:-}
[[ -n $PG_URL ]] && STORES="$STORES postgres"
declare -A BPS APS CUS AUS
for r in $(seq 1 "$RUNS"); do
	for store in $STORES; do
		bin=$WORK/bench_store-new
		[[ $store == file ]] && bin=$WORK/bench_store-old
		extra=()
		[[ $store == postgres ]] && extra=(--url "$PG_URL")
		line=$("$bin" --store "$store" --dir "$DIR/$store" --batches "$BATCHES" --batch "$BATCH" "${extra[@]}" | grep '^RESULT ')
		BPS[$store]+=" $(field "$line" batches_per_s)"
		APS[$store]+=" $(field "$line" acks_per_s)"
		CUS[$store]+=" $(field "$line" commit_us)"
		AUS[$store]+=" $(field "$line" ack_us)"
	done
done

echo "| store | batches/s | acks/s | µs per batch commit | µs per ack |"
echo "|---|---:|---:|---:|---:|"
for store in $STORES; do
	# shellcheck disable=SC2086
	printf '| %s | %.0f | %.0f | %.0f | %.0f |\n' "$store" \
		"$(median ${BPS[$store]})" "$(median ${APS[$store]})" \
		"$(median ${CUS[$store]})" "$(median ${AUS[$store]})"
done
echo
echo "($RUNS runs of $BATCHES batches of $BATCH messages each; file = the FileStore of $FILE_REV; on $(df -h "$DIR" | awk 'NR == 2 { print $1 " (" $6 ")" }'))"
