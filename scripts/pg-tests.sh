#!/usr/bin/env bash
# The test suite's PostgreSQL pass (issue 13): a throwaway cluster in a
# temporary directory (scripts/pg-cluster.sh), the normal build's ctest
# suite against it (each API test's server gets a database of its own,
# tests/harness.c), then the cluster stopped and removed, however the run
# ends.  Tests labelled "pg" (several nodes on one database) run only here.
#
#   scripts/pg-tests.sh BUILD_DIR [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=${2:-$(nproc)}

pgdir=$(mktemp -d /tmp/bankfeed-pg.XXXXXX)
rmdir "$pgdir"
trap 'scripts/pg-cluster.sh stop "$pgdir"' EXIT
params=$(scripts/pg-cluster.sh start "$pgdir")
export BANKFEED_TEST_PG="$params"
export BANKFEED_TEST_PG_DIR="$pgdir"
(cd "$build" && ctest --output-on-failure -j"$jobs")
