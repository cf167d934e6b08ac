#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs libFuzzer targets for a bounded time, each on a fresh copy of its
# committed seed corpus: libFuzzer writes new inputs into its corpus
# directory, and the committed seeds must stay as they are.
#
# Prints one line per fuzzer with its run count, then "N passed, N failed"
# on its own line. Exits non-zero if any fuzzer crashed, leaked, timed out,
# ran out of memory or could not be run at all; the offending input is
# kept in the fuzzer's work directory and named in the output.
#
# Usage: tests/fuzz/run-fuzz.sh SECONDS FUZZER...
#   FUZZER is a binary such as build/fuzz/fuzz_frame. Its seeds are read
#   from tests/fuzz/corpus/fuzz_frame/ and its work directory is
#   build/fuzz/work/fuzz_frame/ (log, grown corpus, crash inputs).
#   FUZZ_MAX_LEN caps input size (default 65536: far above any frame the
#   seeds start from, small enough to keep executions fast).
#   FUZZ_RUNS, when set, also stops each fuzzer after that many runs
#   (the long mode: "make fuzz FUZZ_SECONDS=1800 FUZZ_RUNS=10000000").
#   Each "ok" line gives the runs, runs per second, and libFuzzer's last
#   coverage figures (cov: edges, ft: features) with the corpus size.
set -u

usage="usage: run-fuzz.sh SECONDS FUZZER..."
secs=${1:?$usage}
shift
if [ $# -eq 0 ]; then
	echo "$usage" >&2
	exit 2
fi
case $secs in
'' | *[!0-9]*)
	echo "run-fuzz.sh: SECONDS must be a whole number, not '$secs'" >&2
	exit 2
	;;
esac

src=$(cd "$(dirname "$0")/../.." && pwd)
max_len=${FUZZ_MAX_LEN:-65536}
pass=0
fail=0

# Sets $work to a new, empty work dir holding a copy of the seeds.
prepare_work() {
	local bin=$1 name=$2 seeds=$src/tests/fuzz/corpus/$2

	work=$(dirname "$bin")/work/$name
	rm -rf "$work"
	mkdir -p "$work/corpus" || return 1
	if [ -d "$seeds" ]; then
		cp -R "$seeds/." "$work/corpus/"
	else
		echo "# $name: no seed corpus in $seeds, starting empty"
	fi
}

report_failure() {
	local name=$1 rc=$2 runs=$3 artifact

	artifact=$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		"$work"/oom-* 2>/dev/null | head -n 1)
	echo "not ok $name: exit $rc after ${runs:-?} runs" \
		"${artifact:+(input kept in $artifact)}"
	echo "# last lines of $work/log:"
	tail -n 25 "$work/log" | sed 's/^/#   /'
}

elapsed() {
	echo $(($(date +%s) - $1))
}

rate() {
	local secs

	secs=$(elapsed "$2")
	echo $(($1 / (secs > 0 ? secs : 1)))
}

# libFuzzer's last status line ("#N ... cov: E ft: F corp: ..."): E edges
# and F features reached, the figures the fuzzing docs quote.
coverage() {
	grep -E '^#[0-9]+' "$work/log" | tail -n 1 |
		sed -nE 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/p'
}

run_one() {
	local bin=$1 name rc runs files start

	name=$(basename "$bin")
	if [ ! -x "$bin" ]; then
		echo "not ok $name: no executable $bin (run 'make fuzz')"
		return 1
	fi
	prepare_work "$bin" "$name" || return 1
	start=$(date +%s)
	# The outer timeout only guards against a fuzzer that ignores
	# -max_total_time (e.g. stuck in one input past -timeout).
	timeout --signal=KILL $((secs + 120)) "$bin" \
		-max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} \
		-max_len="$max_len" -timeout=25 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' \
		"$work/log" | tail -n 1)
	if [ "$rc" -ne 0 ] || [ -z "$runs" ]; then
		report_failure "$name" "$rc" "$runs"
		return 1
	fi
	files=$(find "$work/corpus" -type f | wc -l)
	echo "ok $name: $runs runs in $(elapsed "$start")s" \
		"($(rate "$runs" "$start") runs/s), $(coverage), corpus $files inputs"
}

for bin in "$@"; do
	if run_one "$bin"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
