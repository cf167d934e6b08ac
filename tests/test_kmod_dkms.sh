#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test_kmod_dkms: dkms.conf builds kcourier.ko as Debian's dkms would,
# against the installed linux-headers-6.12-amd64, in a dkms tree of its
# own (--dkmstree, --sourcetree, --installtree: nothing of the machine's
# dkms state is touched). Then the module it made must be a kcourier.ko
# for that kernel, and the Kbuild files and sources it needs must all be
# in the tree dkms copied (a file missing from the source list would show
# here, not on a user's machine).
#
# SKIPs where dkms or the 6.12 headers are missing (tools/deps.sh vm
# installs both). Runs from tests/run-tests.sh; TAP via tests/lib/tap.sh.
set -u

src=${KC_SRC:-$(pwd)}
. "$src/tests/lib/tap.sh"

work=$(mktemp -d /tmp/kcourier-dkms.XXXXXX)
trap 'rm -rf "$work"' EXIT

kernel()
{
	local d

	d=$(ls -d /lib/modules/6.12.*/build 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] || return 1
	d=${d%/build}
	echo "${d#/lib/modules/}"
}

dkms_build()
{
	local kver tree="$work/dkms" srcs="$work/src" ko
	local dk=(dkms --dkmstree "$tree" --sourcetree "$srcs"
		  --installtree "$work/install")

	command -v dkms >/dev/null || { echo "no dkms (tools/deps.sh vm)"; return $TAP_SKIP; }
	kver=$(kernel) || { echo "no 6.12 headers (tools/deps.sh vm)"; return $TAP_SKIP; }
	mkdir -p "$tree" "$srcs/kcourier-1"
	(cd "$src" && git ls-files -z Kbuild dkms.conf kmod uapi 2>/dev/null |
		xargs -0 -r cp --parents -t "$srcs/kcourier-1") || return 1
	[ -f "$srcs/kcourier-1/dkms.conf" ] || cp -r "$src"/{Kbuild,dkms.conf,kmod,uapi} "$srcs/kcourier-1/"
	"${dk[@]}" add -m kcourier -v 1 >"$work/log" 2>&1 || { cat "$work/log"; return 1; }
	nice "${dk[@]}" build -m kcourier -v 1 -k "$kver" >>"$work/log" 2>&1 ||
		{ tail -20 "$work/log"; cat "$tree"/kcourier/1/build/make.log 2>/dev/null | tail -20; return 1; }
	ko=$(find "$tree/kcourier/1/$kver" -name 'kcourier.ko*' | head -1)
	[ -n "$ko" ] || { echo "dkms built no kcourier.ko"; return 1; }
	case $ko in
	*.xz) xz -dc "$ko" >"$work/kcourier.ko" ;;
	*) cp "$ko" "$work/kcourier.ko" ;;
	esac
	modinfo -F vermagic "$work/kcourier.ko" | grep -q "^$kver " ||
		{ echo "vermagic: $(modinfo -F vermagic "$work/kcourier.ko")"; return 1; }
	modinfo -F license "$work/kcourier.ko" | grep -qx GPL ||
		{ echo "license: $(modinfo -F license "$work/kcourier.ko")"; return 1; }
}

tap_run dkms_builds_the_module dkms_build
tap_done
