#!/bin/sh
# fuzz/run.sh SECONDS: builds the fuzzers (statement parsers, HTTP framing,
# log lines) with clang and runs each for SECONDS seconds on a corpus seeded
# from fuzz/seeds, the project's own test files and, when it is there,
# ../shared/corpus.  Exits non-zero on the first finding (the crashing
# input is left in the build dir's fuzz-out/).
# BUILD_DIR overrides the build directory; FUZZERS picks some targets.
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
shared=${BANKFEED_CORPUS_DIR:-$root/../shared/corpus}
fuzzers=${FUZZERS:-"camt053 mt940 ofx h1 logfmt web"}

CC=clang cmake -S "$root" -B "$build" -DBANKFEED_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
for t in $fuzzers; do
	cmake --build "$build" -j2 --target "fuzz_$t" >/dev/null
done

status=0
for t in $fuzzers; do
	work="$build/fuzz-corpus/$t"
	out="$build/fuzz-out/$t"
	mkdir -p "$work" "$out"
	cp "$root/fuzz/seeds/$t/"* "$work/" 2>/dev/null || true
	cp "$root/tests/data/statements/$t/"* "$work/" 2>/dev/null || true
	if [ -d "$shared/$t" ]; then
		find "$shared/$t" -maxdepth 1 -type f ! -name '*.md' \
		    -exec cp {} "$work/" \;
	fi
	echo "fuzz_$t: ${secs}s"
	if ! "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=512 -malloc_limit_mb=256 \
	    -artifact_prefix="$out/" -print_final_stats=1 "$work" \
	    >"$out/log" 2>&1; then
		echo "fuzz_$t: FINDING, see $out/log" >&2
		tail -n 40 "$out/log" >&2
		status=1
		break
	fi
	grep -E "stat::number_of_executed_units|Done" "$out/log" | tail -n 2
done
exit $status
