#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kill -9 under load, many times in a row (tests/test_agent_crash.c): every
# acknowledged message delivered, none twice within one agent lifetime.
# make check runs 3 crashes; this runs 20 (or -n N).
#
# Usage: tests/kill9-loop.sh [-n CRASHES] [BUILD]
set -euo pipefail

crashes=20
while [ $# -gt 0 ]; do
	case $1 in
	-n) crashes=${2:?-n needs a number}; shift 2 ;;
	-h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
build=${1:-build}
cd "$(dirname "$0")/.."
KC_CRASH_CYCLES=$crashes exec tests/run-tests.sh "$build" test_agent_crash
