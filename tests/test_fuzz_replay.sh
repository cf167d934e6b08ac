#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every fuzz target (tests/fuzz/fuzz_*.c), built without libFuzzer
# (tests/fuzz/replay_main.c), runs once on each input of its committed
# corpus: the seeds, and every input that once made a target crash, kept
# there as a regression test. A target's checks abort() on a fault, so
# this fails whenever a fixed bug comes back.
. "${KC_SRC:-.}/tests/lib/tap.sh"

src=${KC_SRC:-.}
build=${KC_BIN:-$src/build}

replay()
{
	local name=$1 bin=$build/fuzz-replay/$1 corpus=$src/tests/fuzz/corpus/$1
	local out

	if [ ! -x "$bin" ]; then
		echo "no $bin (make tests builds it)"
		return 1
	fi
	[ -d "$corpus" ] || { echo "no corpus $corpus"; return 1; }
	# The last "replay FILE" line names the input a failure was on.
	out=$("$bin" "$corpus" 2>&1) || {
		printf '%s\n' "$out" | grep -v '^kcourierd: ' | tail -n 5
		return 1
	}
	printf '%s\n' "$out" | tail -n 1
}

for t in "$src"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	tap_run "replay_$name" replay "$name"
done
tap_done
