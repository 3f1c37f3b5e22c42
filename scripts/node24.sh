#!/usr/bin/env bash
# Runs a command with Node.js 24 first on PATH, without touching the system Node.
# If the Node on PATH is older, the matching `node-linux-<arch>@24` package from the
# npm registry is installed once under .tools/node24 (the package is the official binary).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want=24
have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    armv7l) arch=armv7l ;;
    *) echo "node24.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
  esac
  dir="$root/.tools/node24"
  bin="$dir/node_modules/node-linux-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    echo "node24.sh: installing Node.js $want (node-linux-$arch@$want) into .tools/node24" >&2
    mkdir -p "$dir"
    npm install --no-save --no-audit --no-fund --prefix "$dir" "node-linux-$arch@$want" >&2
  fi
  export PATH="$bin:$PATH"
fi
exec "$@"
