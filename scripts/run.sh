#!/usr/bin/env bash
# Builds bankfeed and starts it on 127.0.0.1:8080 with its SQLite file under
# ./data/, the Sandbox Bank, and a demo client printed with a curl line.
# Extra arguments go to `bankfeed serve` (see `build/bankfeed help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec ./build/bankfeed serve --demo "$@"
