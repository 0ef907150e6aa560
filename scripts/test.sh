#!/usr/bin/env bash
# Builds bankfeed twice (normal, and with AddressSanitizer + UBSan) and runs
# every test in both: unit tests, API tests against the real server on
# loopback, the OpenAPI check of the responses the API tests saw, the normal
# build's suite again on PostgreSQL, the Debian package (built and checked),
# and a short run of each fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
(cd tests/prism && npm ci --silent --no-audit --no-fund >/dev/null)  # Prism: test_sandbox_bank checks XS2A against the spec

echo "== normal build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
rm -f build/exchanges.jsonl
(cd build && ctest --output-on-failure -j"$jobs")

if [ -f tests/openapi/check.mjs ]; then
  echo "== OpenAPI: the API tests' responses against docs/openapi.yaml"
  (cd tests/openapi && npm ci --silent --no-audit --no-fund >/dev/null)
  node tests/openapi/check.mjs --selftest
  node tests/openapi/check.mjs docs/openapi.yaml build/exchanges.jsonl
fi

# The same suite on PostgreSQL (issue 13): scripts/pg-tests.sh.
pg_pass() {
  echo "== PostgreSQL: the normal build's suite on a throwaway cluster"
  bash scripts/pg-tests.sh build "$jobs"
}
pg_pass

if [ -f tests/browser/run.mjs ]; then
  echo "== browser: the Connect page and the dashboard in Chromium (Playwright, axe-core)"
  (cd tests/browser && npm ci --silent --no-audit --no-fund >/dev/null)
  node tests/browser/run.mjs build/bankfeed build/screenshots
fi
bash scripts/test-clients.sh   # the client libraries (clients/node, clients/python) against build/bankfeed

echo "== Debian package"
bash scripts/package.sh

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBANKFEED_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs")

if [ -x fuzz/run.sh ]; then
  echo "== fuzzers, a short run each"
  fuzz/run.sh "${BANKFEED_FUZZ_SECONDS:-10}"
fi
echo "all tests passed"
