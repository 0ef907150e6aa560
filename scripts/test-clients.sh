#!/usr/bin/env bash
# Tests the client libraries against the real server: clients/node (built with
# tsc, node's test runner) and clients/python (unittest), both at once, each
# starting its own servers from build/bankfeed on free loopback ports.
# Called by scripts/test.sh after the normal build; BANKFEED_BIN picks another
# binary.  About 40 s.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BANKFEED_BIN:-build/bankfeed}
if [ ! -x "$bin" ]; then
  echo "test-clients: $bin is missing: build first (cmake --build build)" >&2
  exit 1
fi
for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "test-clients: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
export BANKFEED_BIN
BANKFEED_BIN=$(realpath "$bin")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== client libraries: build"
# npm ci again only when package-lock.json changed since the last install.
(cd clients/node && { [ node_modules/.package-lock.json -nt package-lock.json ] ||
  npm ci --silent --no-audit --no-fund >/dev/null; } && npm run --silent build)
# The spec, once, for both: python reads this JSON (it has no YAML parser).
node clients/node/scripts/spec-summary.mjs docs/openapi.yaml > "$work/spec.json"
export BANKFEED_SPEC_SUMMARY="$work/spec.json"

echo "== client libraries: node and python tests against the real server"
(cd clients/node && node --test --test-reporter=spec test/) > "$work/node.log" 2>&1 &
node_pid=$!
(cd clients/python && python3 -m unittest discover -v -s tests -t .) > "$work/python.log" 2>&1 &
py_pid=$!
node_rc=0; py_rc=0
wait "$node_pid" || node_rc=$?
wait "$py_pid" || py_rc=$?

echo "-- clients/node"
cat "$work/node.log"
echo "-- clients/python"
cat "$work/python.log"
if [ "$node_rc" -ne 0 ] || [ "$py_rc" -ne 0 ]; then
  echo "test-clients: FAILED (node $node_rc, python $py_rc)" >&2
  exit 1
fi
echo "client libraries: all tests passed"
