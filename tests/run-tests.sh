#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs every kselftest-harness binary in BUILD/tests, shows their TAP output
# and ends with one line: "N passed, N failed, N skipped". Exits non-zero
# if any test failed or any binary died without a summary.
#
# Usage: tests/run-tests.sh BUILD [TEST-NAME...]
set -u

build=${1:?usage: run-tests.sh BUILD [TEST...]}
shift
export KC_BUILD=${KC_BUILD:-$build}
export KC_BIN=$(cd "$build" && pwd)
export KC_SRC=$(pwd)

if [ $# -gt 0 ]; then
	bins=()
	for t in "$@"; do bins+=("$build/tests/$t"); done
else
	bins=("$build"/tests/test_*)
fi

pass=0 fail=0 skip=0 broken=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for bin in "${bins[@]}"; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	echo "# ===== $name"
	timeout --signal=KILL "${KC_TEST_TIMEOUT:-900}" "$bin" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	totals=$(grep -E '^# Totals: pass:[0-9]+ fail:[0-9]+' "$log" | tail -1)
	if [ -z "$totals" ]; then
		echo "not ok $name: exited $rc without a summary"
		broken=$((broken + 1))
		continue
	fi
	p=$(sed -E 's/^# Totals: pass:([0-9]+).*/\1/' <<<"$totals")
	f=$(sed -E 's/.* fail:([0-9]+).*/\1/' <<<"$totals")
	s=$(sed -E 's/.* skip:([0-9]+).*/\1/' <<<"$totals")
	e=$(sed -E 's/.* error:([0-9]+).*/\1/' <<<"$totals")
	pass=$((pass + p))
	fail=$((fail + f + e))
	skip=$((skip + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ]; then
		echo "not ok $name: exited $rc"
		broken=$((broken + 1))
	fi
done

fail=$((fail + broken))
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
