#!/bin/sh
# fuzz/run.sh SECONDS: builds the fuzzers (statement parsers, HTTP framing,
# XS2A bank answers, log lines) with clang and runs each for SECONDS seconds,
# as many at once as there are cores, on a corpus seeded from fuzz/seeds,
# the project's own test files (mt942 and camt054: the files of
# tests/data/statements/real/ named so) and, when it is there,
# ../shared/corpus.  Exits non-zero on the first finding (the crashing
# input is left in the build dir's fuzz-out/).
# BUILD_DIR overrides the build directory; FUZZERS picks some targets.
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
shared=${BANKFEED_CORPUS_DIR:-$root/../shared/corpus}
fuzzers=${FUZZERS:-"camt053 camt054 mt940 mt942 ofx coda bai2 zip h1 logfmt xs2a web"}

CC=clang cmake -S "$root" -B "$build" -DBANKFEED_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
for t in $fuzzers; do
	cmake --build "$build" -j2 --target "fuzz_$t" >/dev/null
done

# one_fuzzer NAME: runs fuzz_NAME for secs seconds; non-zero on a finding.
one_fuzzer() {
	t=$1
	work="$build/fuzz-corpus/$t"
	out="$build/fuzz-out/$t"
	mkdir -p "$work" "$out"
	cp "$root/fuzz/seeds/$t/"* "$work/" 2>/dev/null || true
	cp "$root/tests/data/statements/$t/"* "$work/" 2>/dev/null || true
	# Files written by others (real/), by the format in their name.
	find "$root/tests/data/statements/real" -maxdepth 1 -type f \
	    -name "*$t*" -exec cp {} "$work/" \; 2>/dev/null || true
	if [ -d "$shared/$t" ]; then
		find "$shared/$t" -maxdepth 1 -type f ! -name '*.md' \
		    -exec cp {} "$work/" \;
	fi
	if ! "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=512 -malloc_limit_mb=256 \
	    -artifact_prefix="$out/" -print_final_stats=1 "$work" \
	    >"$out/log" 2>&1; then
		echo "fuzz_$t: FINDING, see $out/log" >&2
		tail -n 40 "$out/log" >&2
		return 1
	fi
	echo "fuzz_$t: ${secs}s, $(grep -E "stat::number_of_executed_units" \
	    "$out/log" | tail -n 1 | awk '{print $2}') runs"
}

# As many at once as there are cores: each fuzzer uses one.
jobs=$(nproc 2>/dev/null || echo 1)
status=0
pids=""
for t in $fuzzers; do
	one_fuzzer "$t" &
	pids="$pids $!"
	set -- $pids
	if [ $# -ge "$jobs" ]; then
		wait "$1" || status=1
		shift
		pids="$*"
	fi
done
for p in $pids; do
	wait "$p" || status=1
done
exit $status
