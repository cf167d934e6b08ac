# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# TAP for the shell tests (tests/test_*.sh), in the form kselftest_harness.h
# prints it, so that tests/run-tests.sh counts them as it counts the C
# tests: one "ok"/"not ok" line per check, the plan, then
# "# Totals: pass:N fail:N xfail:0 xpass:0 skip:N error:0".
#
# A check is a shell function: it returns 0 (pass), TAP_SKIP (skip; its
# last line of output is the reason) or anything else (fail). Whatever it
# prints is shown as "# " diagnostics, before its result line.
#
#   . "$KC_SRC/tests/lib/tap.sh"
#   tap_run NAME FUNCTION [ARG...]
#   tap_done                 # prints the totals; returns 1 if any failed

TAP_SKIP=77

tap_n=0
tap_pass=0
tap_fail=0
tap_skip=0

echo "TAP version 13"

tap_run()
{
	local name=$1 out rc reason
	shift

	out=$("$@" 2>&1)
	rc=$?
	tap_n=$((tap_n + 1))
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	if [ "$rc" -eq 0 ]; then
		tap_pass=$((tap_pass + 1))
		echo "ok $tap_n $name"
	elif [ "$rc" -eq "$TAP_SKIP" ]; then
		tap_skip=$((tap_skip + 1))
		reason=$(printf '%s\n' "$out" | tail -n 1)
		echo "ok $tap_n $name # SKIP ${reason:-no reason given}"
	else
		tap_fail=$((tap_fail + 1))
		echo "not ok $tap_n $name"
	fi
	return "$rc"
}

tap_done()
{
	echo "1..$tap_n"
	echo "# Totals: pass:$tap_pass fail:$tap_fail xfail:0 xpass:0 skip:$tap_skip error:0"
	[ "$tap_fail" -eq 0 ]
}
