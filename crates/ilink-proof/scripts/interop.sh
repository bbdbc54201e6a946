#!/usr/bin/env bash
# Interop proof: the official WeChat iLink client, the npm package
# @tencent-weixin/openclaw-weixin (its compiled dist/ modules, run under Node
# with three small stubs for the host framework), against ilink-simulator.
#
# Prints `SKIP: <reason>` and exits 0 when Node, npm or the package cannot be
# had (offline CI, no Node); exits 1 when it runs and fails.
#
# The package is fetched with `npm pack` into a scratch directory under
# target/ (never into the source tree). Set ILINK_INTEROP_SKIP=1 to skip.
# Needs node (20 or later) and npm; curl is used when present.
set -uo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
PKG_SPEC=@tencent-weixin/openclaw-weixin@2.4.9
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$TARGET/interop

skip() { echo "SKIP: $*"; exit 0; }
fail() {
    echo "interop: FAIL: $*"
    if [[ -s $WORK/sim.err ]]; then
        echo "--- simulator stderr (tail)"
        tail -n 20 "$WORK/sim.err"
    fi
    exit 1
}
# `timeout` where coreutils has it; otherwise the scripts' own budgets apply.
bounded() {
    local secs=$1
    shift
    if command -v timeout >/dev/null 2>&1; then
        timeout --kill-after=5 "$secs" "$@"
    else
        "$@"
    fi
}

[[ ${ILINK_INTEROP_SKIP:-} == 1 ]] && skip "ILINK_INTEROP_SKIP=1"
# Node, npm, the package and the host stubs: the shared setup (also used by
# crates/ilink-proof/scripts/bench-compare.sh). It prints the SKIP line itself.
rm -rf "$WORK"
ILINK_OFFICIAL_SPEC=$PKG_SPEC "$ROOT/crates/ilink-proof/node/official.sh" "$WORK"
case $? in
0) ;;
3) exit 0 ;;
*) fail "cannot set up $PKG_SPEC" ;;
esac
PKG=$WORK/package

echo "==> interop: building ilink-simulator"
cargo build --locked --quiet -p ilink-testkit --bin ilink-simulator || fail "cargo build of ilink-simulator failed"
SIM=$TARGET/debug/ilink-simulator
[[ -x $SIM ]] || fail "no simulator binary at $SIM"

# ILINK_INTEROP_SIM_ARGS: extra simulator flags (word-split), for experiments.
# shellcheck disable=SC2086
"$SIM" --hold 5s ${ILINK_INTEROP_SIM_ARGS:-} >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
cleanup() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; }
trap cleanup EXIT

URLS=
for _ in $(seq 1 100); do
    # A complete line only (the newline comes last).
    if [[ $(wc -l <"$WORK/sim.out") -ge 1 ]]; then
        URLS=$(head -n 1 "$WORK/sim.out")
        break
    fi
    kill -0 "$SIM_PID" 2>/dev/null || fail "the simulator exited before printing its URLs"
    sleep 0.1
done
[[ -n $URLS ]] || fail "the simulator printed no URLs within 10 s"
echo "==> interop: simulator at $URLS"
CONTROL=$(node -p 'JSON.parse(process.argv[1]).control_url' "$URLS") || fail "bad URL line: $URLS"

# GET a control route into a file.
fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 10 "$CONTROL$1" >"$2"
    else
        node -e 'fetch(process.argv[1]).then(async r => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); }).catch(() => process.exit(1))' "$CONTROL$1" >"$2"
    fi
}

echo "==> interop: driving the official client"
mkdir -p "$WORK/state" "$WORK/tmp" "$WORK/scratch"
if ! ILINK_INTEROP_URLS=$URLS \
    ILINK_INTEROP_PKG=$PKG \
    ILINK_INTEROP_WORK=$WORK/scratch \
    ILINK_INTEROP_EXPECT=$WORK/expect.json \
    OPENCLAW_STATE_DIR=$WORK/state \
    OPENCLAW_TMP_DIR=$WORK/tmp \
    bounded 120 node "$ROOT/crates/ilink-proof/node/interop.mjs" run </dev/null; then
    if fetch /violations "$WORK/violations.json"; then
        echo "--- protocol violations the simulator recorded: $(cat "$WORK/violations.json")"
    fi
    fail "the official client's run failed (log: $WORK/tmp)"
fi

echo "==> interop: checking what the simulator recorded"
fetch /violations "$WORK/violations.json" || fail "GET /violations failed"
fetch /sent "$WORK/sent.json" || fail "GET /sent failed"
bounded 30 node "$ROOT/crates/ilink-proof/node/interop.mjs" verify \
    "$WORK/expect.json" "$WORK/violations.json" "$WORK/sent.json" ||
    fail "the simulator's records do not match (see $WORK/sent.json)"

echo "interop: PASS (official $PKG_SPEC against ilink-simulator)"
