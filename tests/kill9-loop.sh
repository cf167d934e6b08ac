#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kill -9 under load, many times in a row (tests/test_agent_crash.c): two
# senders and two receivers, all of them also hanging up and reconnecting
# within each agent lifetime; every acknowledged message delivered to its
# recipient, none again in the lifetime its DELIVERED reached the agent.
# Prints the counts: acknowledged, delivered, lost, delivered again after
# a crash (by crash) or after a receiver dropped them, duplicates within
# a lifetime. make check runs 3 crashes; this runs 20 (or -n N).
#
# Usage: tests/kill9-loop.sh [-n CRASHES] [BUILD]
set -euo pipefail

crashes=20
while [ $# -gt 0 ]; do
	case $1 in
	-n) crashes=${2:?-n needs a number}; shift 2 ;;
	-h|--help) sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
done
build=${1:-build}
cd "$(dirname "$0")/.."
KC_CRASH_CYCLES=$crashes exec tests/run-tests.sh "$build" test_agent_crash
