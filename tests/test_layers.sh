#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The tree keeps its layers (docs/DESIGN.md "Layers"): tools/check-layers.py
# over this tree finds no upward include, no include of agent/ from tools/
# or lib/, and no cycle. First it must catch each fault in a tree made to
# have it, so a checker that finds nothing cannot pass.
. "${KC_SRC:-.}/tests/lib/tap.sh"

checker=${KC_SRC:-.}/tools/check-layers.py

# A scratch repository holding the given files (path=content pairs).
fake_tree()
{
	local dir pair
	dir=$(mktemp -d /tmp/kc-layers.XXXXXX)
	git -C "$dir" init -q
	for pair in "$@"; do
		mkdir -p "$dir/$(dirname "${pair%%=*}")"
		printf '%b' "${pair#*=}" >"$dir/${pair%%=*}"
	done
	git -C "$dir" add -A
	echo "$dir"
}

expect_fault()
{
	local kind=$1 dir out
	shift
	dir=$(fake_tree "$@")
	out=$("$checker" "$dir")
	rm -rf "$dir"
	printf '%s\n' "$out"
	grep -q "^$kind: " <<<"$out"
}

catches_upward()
{
	expect_fault upward 'lib/wire/w.h=#include "crypto/c.h"\n' \
		'lib/crypto/c.h=/* c */\n'
}

catches_agent_from_tools()
{
	expect_fault foreign 'tools/x/t.c=#include "../../agent/a.h"\n' \
		'agent/a.h=/* a */\n'
}

catches_module_cycle()
{
	expect_fault cycle 'agent/a.c=#include "b.h"\n' 'agent/a.h=\n' \
		'agent/b.c=#include "a.h"\n' 'agent/b.h=\n'
}

# The agent's layers: conn may not call up into proto, nor the loop use
# the store, which is for proto and the commands.
catches_agent_upward()
{
	expect_fault upward 'agent/conn/c.c=#include "proto/p.h"\n' \
		'agent/proto/p.h=/* p */\n'
}

catches_store_from_loop()
{
	expect_fault upward 'agent/loop/w.c=#include "store/store.h"\n' \
		'agent/store/store.h=/* s */\n'
}

this_tree_is_clean()
{
	"$checker" "${KC_SRC:-.}"
}

tap_run layers.catches_upward catches_upward
tap_run layers.catches_agent_from_tools catches_agent_from_tools
tap_run layers.catches_module_cycle catches_module_cycle
tap_run layers.catches_agent_upward catches_agent_upward
tap_run layers.catches_store_from_loop catches_store_from_loop
tap_run layers.this_tree this_tree_is_clean
tap_done
