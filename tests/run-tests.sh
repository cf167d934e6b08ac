#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs every kselftest-harness binary in BUILD/tests, then every shell test
# tests/test_*.sh (TAP in the harness's form, tests/lib/tap.sh), shows their
# TAP output and ends with one line: "N passed, N failed, N skipped". Exits
# non-zero if any test failed or any test died without a summary.
#
# Usage: tests/run-tests.sh BUILD [TEST-NAME...]   (test_foo: the binary,
#        else tests/test_foo.sh)
set -u

build=${1:?usage: run-tests.sh BUILD [TEST...]}
shift
export KC_BUILD=${KC_BUILD:-$build}
export KC_BIN=$(cd "$build" && pwd)
export KC_SRC=$(pwd)

if [ $# -gt 0 ]; then
	bins=()
	for t in "$@"; do
		if [ ! -e "$build/tests/$t" ] && [ -e "tests/$t.sh" ]; then
			bins+=("tests/$t.sh")
		else
			bins+=("$build/tests/$t")
		fi
	done
else
	bins=("$build"/tests/test_* tests/test_*.sh)
fi

pass=0 fail=0 skip=0 broken=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for bin in "${bins[@]}"; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" .sh)
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
