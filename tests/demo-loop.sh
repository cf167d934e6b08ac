#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make demo` many times in a row: the README's first command must work
# every time, not most times. Stops at the first failure and keeps its
# output; otherwise prints one line per run and a summary.
#
# Usage: tests/demo-loop.sh [-n RUNS] [--clone]
#   -n RUNS   how many runs (default 20)
#   --clone   first make a fresh clone of this repository's HEAD in a
#             temporary folder and run there, as a new user would
set -euo pipefail

runs=20
clone=
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=${2:?-n needs a number}; shift 2 ;;
	--clone) clone=1; shift ;;
	-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo-loop: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case $runs in ''|*[!0-9]*) echo "demo-loop: -n wants a number" >&2; exit 2 ;; esac

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kcourier-demo-loop.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -n "$clone" ]; then
	git clone -q "$top" "$work/clone"
	top=$work/clone
	echo "demo-loop: fresh clone of $(git -C "$top" rev-parse --short HEAD) in $top"
fi

start=$SECONDS
for i in $(seq 1 "$runs"); do
	t0=$SECONDS
	if ! make -C "$top" --no-print-directory demo >"$work/run.log" 2>&1; then
		cp "$work/run.log" /tmp/kcourier-demo-failed.log
		tail -25 "$work/run.log" >&2
		echo "demo-loop: run $i of $runs FAILED (whole log: /tmp/kcourier-demo-failed.log)" >&2
		exit 1
	fi
	echo "demo-loop: run $i of $runs passed ($((SECONDS - t0)) s)"
done
echo "demo-loop: $runs of $runs runs passed in $((SECONDS - start)) s"
