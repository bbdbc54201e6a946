#!/usr/bin/env bash
# A/B: this checkout's client against the client of a git revision, in one
# run, over TLS, against one simulator build (this checkout's): messages per
# second at concurrency 1, 16 and 256, and memory per idle long-polling
# account (1,000 accounts, HTTP/2). The two sides take turns; medians of
# RUNS runs; the table gives new/old ratios. It shows whether a change made
# the hot path slower or fatter.
#
#   crates/ilink-proof/scripts/bench-ab.sh REV
#
# Environment: ILINK_AB_RUNS (3), ILINK_AB_MESSAGES (10000),
# ILINK_AB_IDLE (1000), ILINK_AB_ONLY (send or idle: that part alone). REV
# needs a bench_ilink that takes the same arguments (any revision since the
# TLS benchmarks).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD

REV=${1:?usage: bench-ab.sh REV}
RUNS=${ILINK_AB_RUNS:-3}
MESSAGES=${ILINK_AB_MESSAGES:-10000}
IDLE=${ILINK_AB_IDLE:-1000}
ONLY=${ILINK_AB_ONLY:-}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$TARGET/bench-ab
mkdir -p "$WORK/logs"

echo "building this checkout" >&2
cargo build --release --locked -q -p ilink-testkit --bin ilink-simulator -p ilink-proof --bin bench_ilink
SIM=$TARGET/release/ilink-simulator
NEW=$WORK/bench_ilink-new
cp "$TARGET/release/bench_ilink" "$NEW"

echo "building $REV" >&2
OLD_TREE=$WORK/tree
rm -rf "$OLD_TREE"
git worktree prune
git worktree add -q --detach "$OLD_TREE" "$REV"
trap 'git worktree remove --force "$OLD_TREE" 2>/dev/null || true' EXIT
(cd "$OLD_TREE" && CARGO_TARGET_DIR=$WORK/target-old cargo build --release --locked -q -p ilink-proof --bin bench_ilink)
OLD=$WORK/bench_ilink-old
cp "$WORK/target-old/release/bench_ilink" "$OLD"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
SIM_PID=
stop_sim() {
	if [[ -n $SIM_PID ]]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
		SIM_PID=
	fi
}
trap 'stop_sim; git worktree remove --force "$OLD_TREE" 2>/dev/null || true' EXIT
start_sim() {
	stop_sim
	"$SIM" --tls --ca-out "$WORK/ca.pem" "$@" >"$WORK/sim.out" 2>"$WORK/sim.err" &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		if [[ -s $WORK/sim.out ]]; then
			URLS=$(head -n 1 "$WORK/sim.out")
			return 0
		fi
		sleep 0.1
	done
	echo "the simulator did not start" >&2
	exit 1
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# measure NAME KEY BIN ARGS...: one run, prints the KEY of its RESULT line
measure() {
	local name=$1 key=$2 bin=$3
	shift 3
	"$bin" "$@" --ca "$WORK/ca.pem" --urls "$URLS" >"$WORK/logs/$name.out" 2>"$WORK/logs/$name.err" || {
		echo "FAILED: $name: $(tail -n 1 "$WORK/logs/$name.err")" >&2
		exit 1
	}
	field "$(grep '^RESULT ' "$WORK/logs/$name.out" | tail -n 1)" "$key"
}

printf '| figure | %s (old) | this checkout (new) | new/old |\n|---|---:|---:|---:|\n' "$(git rev-parse --short "$REV")"
for c in 1 16 256; do
	[[ $ONLY == idle ]] && break
	n=$MESSAGES
	old=() new=()
	for r in $(seq 1 "$RUNS"); do
		for side in $( ((r % 2)) && echo "old new" || echo "new old"); do
			start_sim
			bin=$OLD
			[[ $side == new ]] && bin=$NEW
			v=$(measure "send-c$c-$side-$r" rate "$bin" send --concurrency "$c" --messages "$n")
			if [[ $side == new ]]; then new+=("$v"); else old+=("$v"); fi
		done
	done
	o=$(median "${old[@]}") w=$(median "${new[@]}")
	printf '| send, concurrency %s (msg/s) | %.0f | %.0f | %.2f |\n' "$c" "$o" "$w" "$(awk -v a="$w" -v b="$o" 'BEGIN { print a / b }')"
done
[[ $ONLY == send ]] && exit 0
old=() new=()
for r in $(seq 1 "$RUNS"); do
	for side in $( ((r % 2)) && echo "old new" || echo "new old"); do
		start_sim --hold 300s
		bin=$OLD
		[[ $side == new ]] && bin=$NEW
		v=$(measure "idle-$side-$r" per_account_kib "$bin" idle --http 2 --accounts "$IDLE" --window-secs 10 --settle-secs 12 --hold-secs 300)
		if [[ $side == new ]]; then new+=("$v"); else old+=("$v"); fi
	done
done
o=$(median "${old[@]}") w=$(median "${new[@]}")
printf '| idle, %s accounts over h2 (KiB per account) | %.1f | %.1f | %.2f |\n' "$IDLE" "$o" "$w" "$(awk -v a="$w" -v b="$o" 'BEGIN { print a / b }')"
