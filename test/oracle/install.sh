#!/usr/bin/env bash
#===- test/oracle/install.sh - install the ONNX Runtime test oracle -------===#
#
# TEST-ONLY. Installs the npm packages pinned in package-lock.json
# (onnxruntime-node, npyjs, protobufjs) into test/oracle/node_modules with
#
#   npm ci --ignore-scripts --no-audit --no-fund
#
# --ignore-scripts skips onnxruntime-node's postinstall, which would download
# the CUDA/TensorRT execution providers from NuGet; the CPU binaries used here
# are inside the npm tarball.
#
# Idempotent: npm runs only when node_modules is missing or stale, that is
# when the stamp written after the last successful install does not match the
# SHA-256 of package.json + package-lock.json. Either way the packages are
# then loaded once with node to prove they work.
#
#   test/oracle/install.sh [--force] [--quiet]
#
# Exit status: 0 ready, 1 install or load failed, 2 node/npm missing or too old.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STAMP="$HERE/node_modules/.distopt-oracle-stamp"
FORCE=0
QUIET=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --quiet|-q) QUIET=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "oracle: unknown argument '$arg' (expected --force, --quiet)" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" -eq 1 ] || echo "oracle: $*"; }

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "oracle: '$tool' not found; install Node.js >= 18 and npm" \
         "(Debian 12: apt-get install nodejs npm, which scripts/setup.sh does)" >&2
    exit 2
  fi
done
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
  echo "oracle: Node.js $(node --version) is too old; onnxruntime-node needs >= 18" >&2
  exit 2
fi

# One install at a time (setup.sh and a test run may start together).
exec 9>"$HERE/.install.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

want="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"

install() {
  say "installing npm packages into $HERE/node_modules (node $(node --version), npm $(npm --version 2>/dev/null))"
  local start=$SECONDS
  rm -f "$STAMP"
  (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  say "npm ci took $((SECONDS - start)) s"
}

# Prove that the packages load and that the CPU backend is there; prints the
# onnxruntime-node version, or node's error.
verify() {
  (cd "$HERE" && node -e '
    const ort = require("onnxruntime-node");
    require("npyjs");
    require("protobufjs");
    const cpu = ort.listSupportedBackends().find((b) => b.name === "cpu" && b.bundled);
    if (!cpu) throw new Error("onnxruntime-node has no bundled cpu backend");
    process.stdout.write(ort.env.versions.node);
  ' 2>&1)
}

if [ "$FORCE" -eq 1 ] || [ "$want" != "$have" ] || [ ! -d "$HERE/node_modules/onnxruntime-node" ]; then
  install
  fresh=1
else
  fresh=0
fi

if ! versions="$(verify)"; then
  if [ "$fresh" -eq 0 ]; then
    say "node_modules is up to date by its stamp but does not load; reinstalling"
    install
    fresh=1
  fi
  if ! versions="$(verify)"; then
    echo "oracle: onnxruntime-node does not load after npm ci:" >&2
    echo "$versions" >&2
    exit 1
  fi
fi

if [ "$fresh" -eq 1 ]; then
  echo "$want" > "$STAMP"
  say "onnxruntime-node $versions installed and loads (CPU)"
else
  say "onnxruntime-node $versions up to date and loads (CPU)"
fi
