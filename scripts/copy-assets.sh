#!/usr/bin/env bash
# Node-RED loads a node's editor HTML, its locales/ (messages and help) and icons/ from beside the
# runtime .js file: copy them next to the nodes tsc compiled into dist/nodes, then build the record
# nodes' editor HTML, messages and help from their specs (scripts/build-editor.ts, compiled by tsc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p dist/nodes
rm -rf dist/nodes/locales dist/nodes/icons
cp nodes/*.html dist/nodes/
cp -R nodes/locales nodes/icons dist/nodes/
node dist/scripts/build-editor.js
# The HTTP pages' CSS and scripts (http/assets.ts reads them from beside dist/http).
rm -rf dist/http/assets
mkdir -p dist/http
cp -R http/assets dist/http/
# The empty PGlite cluster a new embedded database starts from (no initdb on a Pi: issue 16).
node dist/scripts/pglite-cluster.js
