#!/usr/bin/env bash
# Sets up the official WeChat iLink client, the npm package
# @tencent-weixin/openclaw-weixin, so that its compiled dist/ modules run under
# plain Node: `npm pack` into DIR, unpacked as DIR/package, plus the three host
# modules it imports (openclaw/plugin-sdk/*) as stubs in DIR/node_modules, where
# Node resolves them from the package's parent directory.
#
# Usage: crates/ilink-proof/node/official.sh DIR [--reuse]
#   --reuse   keep an already unpacked package of the same version
#
# Exit status: 0 when DIR/package is ready; 3 after printing `SKIP: <reason>`
# when Node, npm or the package cannot be had (offline, no Node, Node older
# than 20); 1 on any other failure. Used by crates/ilink-proof/scripts/interop.sh
# and crates/ilink-proof/scripts/bench-compare.sh. ILINK_OFFICIAL_SPEC overrides
# the package spec.
set -uo pipefail

PKG_SPEC=${ILINK_OFFICIAL_SPEC:-@tencent-weixin/openclaw-weixin@2.4.9}
DIR=${1:?usage: official.sh DIR [--reuse]}
REUSE=${2:-}

skip() {
    echo "SKIP: $*"
    exit 3
}
fail() {
    echo "official.sh: $*" >&2
    exit 1
}
# `timeout` where coreutils has it; otherwise npm's own timeouts apply.
bounded() {
    local secs=$1
    shift
    if command -v timeout >/dev/null 2>&1; then
        timeout --kill-after=5 "$secs" "$@"
    else
        "$@"
    fi
}

command -v node >/dev/null 2>&1 || skip "node not found"
command -v npm >/dev/null 2>&1 || skip "npm not found"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || skip "node does not run"
((node_major >= 20)) || skip "node $node_major is too old (20 or later needed)"

mkdir -p "$DIR" || fail "cannot create $DIR"
PKG=$DIR/package
want_version=${PKG_SPEC##*@}
have_version=$(node -p 'require(process.argv[1]).version' "$PKG/package.json" 2>/dev/null || true)
if [[ $REUSE == --reuse && $have_version == "$want_version" && -f $PKG/dist/src/api/api.js ]]; then
    echo "==> official client: reusing $PKG ($PKG_SPEC)"
else
    echo "==> official client: fetching $PKG_SPEC with npm pack"
    rm -rf "$PKG" "$DIR"/*.tgz
    if ! (cd "$DIR" && bounded 90 npm pack --ignore-scripts --loglevel=error "$PKG_SPEC" >pack.out 2>pack.err); then
        why=$(grep -E '^npm (error|ERR!)' "$DIR/pack.err" | grep -vE ' (code|errno|syscall) ' | head -n 1)
        skip "npm pack $PKG_SPEC failed: ${why:-see $DIR/pack.err}"
    fi
    tgz=$(find "$DIR" -maxdepth 1 -name '*.tgz' | head -n 1)
    [[ -n $tgz ]] || skip "npm pack $PKG_SPEC produced no tarball"
    tar -xzf "$tgz" -C "$DIR" || fail "cannot unpack $tgz"
    [[ -f $PKG/dist/src/api/api.js ]] || fail "$PKG_SPEC has no dist/src/api/api.js"
fi

stubs=$DIR/node_modules/openclaw
mkdir -p "$stubs/plugin-sdk" || fail "cannot create $stubs"
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
