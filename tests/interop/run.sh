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
cd "$(dirname "$0")/../.."
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
command -v node >/dev/null 2>&1 || skip "node not found"
command -v npm >/dev/null 2>&1 || skip "npm not found"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || skip "node does not run"
((node_major >= 20)) || skip "node $node_major is too old (20 or later needed)"

echo "==> interop: fetching $PKG_SPEC with npm pack"
rm -rf "$WORK"
mkdir -p "$WORK" || fail "cannot create $WORK"
if ! (cd "$WORK" && bounded 90 npm pack --ignore-scripts --loglevel=error "$PKG_SPEC" >pack.out 2>pack.err); then
    why=$(grep -E '^npm (error|ERR!)' "$WORK/pack.err" | grep -vE ' (code|errno|syscall) ' | head -n 1)
    skip "npm pack $PKG_SPEC failed: ${why:-see $WORK/pack.err}"
fi
tgz=$(find "$WORK" -maxdepth 1 -name '*.tgz' | head -n 1)
[[ -n $tgz ]] || skip "npm pack $PKG_SPEC produced no tarball"
tar -xzf "$tgz" -C "$WORK" || fail "cannot unpack $tgz"
PKG=$WORK/package
[[ -f $PKG/dist/src/api/api.js ]] || fail "$PKG_SPEC has no dist/src/api/api.js"

# The dist modules import three host modules (openclaw/plugin-sdk/*); Node
# resolves them from the package's parent directory.
stubs=$WORK/node_modules/openclaw
mkdir -p "$stubs/plugin-sdk"
cat >"$stubs/package.json" <<'EOF'
{"name": "openclaw", "version": "0.0.0-interop-stub", "type": "module",
 "exports": {"./plugin-sdk/*": "./plugin-sdk/*.js"}}
EOF
cat >"$stubs/plugin-sdk/infra-runtime.js" <<'EOF'
// Stub: a scratch directory for the plugin's logs; file locks are not needed.
import os from "node:os";
import path from "node:path";
export function resolvePreferredOpenClawTmpDir() {
  return process.env.OPENCLAW_TMP_DIR || path.join(os.tmpdir(), "openclaw-interop");
}
export async function withFileLock(_path, _options, fn) {
  return await fn();
}
EOF
cat >"$stubs/plugin-sdk/account-id.js" <<'EOF'
// Stub: account ids as file-name-safe lowercase slugs, as the host does.
export function normalizeAccountId(value) {
  const trimmed = String(value ?? "").trim();
  if (!trimmed) return "default";
  if (/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(trimmed)) return trimmed.toLowerCase();
  const slug = trimmed
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);
  return slug || "default";
}
EOF
cat >"$stubs/plugin-sdk/config-runtime.js" <<'EOF'
// Stub: no host configuration.
export function loadConfig() {
  return {};
}
export async function writeConfigFile(_config) {}
EOF

echo "==> interop: building ilink-simulator"
cargo build --locked --quiet -p ilink-testkit --bin ilink-simulator || fail "cargo build of ilink-simulator failed"
SIM=$TARGET/debug/ilink-simulator
[[ -x $SIM ]] || fail "no simulator binary at $SIM"

# ILINK_INTEROP_SIM_ARGS: extra simulator flags (word-split), for experiments.
# shellcheck disable=SC2086
"$SIM" --hold-ms 5000 ${ILINK_INTEROP_SIM_ARGS:-} >"$WORK/sim.out" 2>"$WORK/sim.err" &
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
    bounded 120 node "$ROOT/tests/interop/run.mjs" run </dev/null; then
    if fetch /violations "$WORK/violations.json"; then
        echo "--- protocol violations the simulator recorded: $(cat "$WORK/violations.json")"
    fi
    fail "the official client's run failed (log: $WORK/tmp)"
fi

echo "==> interop: checking what the simulator recorded"
fetch /violations "$WORK/violations.json" || fail "GET /violations failed"
fetch /sent "$WORK/sent.json" || fail "GET /sent failed"
bounded 30 node "$ROOT/tests/interop/run.mjs" verify \
    "$WORK/expect.json" "$WORK/violations.json" "$WORK/sent.json" ||
    fail "the simulator's records do not match (see $WORK/sent.json)"

echo "interop: PASS (official $PKG_SPEC against ilink-simulator)"
