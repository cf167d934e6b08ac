#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test_install: "make install PREFIX=/usr DESTDIR=<tmp>", the way a Debian
# package build stages its files, then checks what landed there: the tools,
# the man pages, the docs, and a systemd unit that names where they went
# (not where a hardcoded path thought they would go).
#
# Runs from tests/run-tests.sh (KC_SRC, KC_BUILD, KC_BIN; KC_SANITIZE from
# make check). Prints TAP through tests/lib/tap.sh.
set -u

src=${KC_SRC:-$(pwd)}
build=${KC_BUILD:-build}
bin=${KC_BIN:-$src/$build}
. "$src/tests/lib/tap.sh"

work=$(mktemp -d /tmp/kcourier-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest=$work/dest

# What PREFIX=/usr means for each directory: the Makefile's defaults.
prefix=/usr
bindir=$prefix/bin
mandir=$prefix/share/man
docdir=$prefix/share/doc/kcourier
unitdir=$prefix/lib/systemd/system
unit=$dest$unitdir/kcourierd.service
template=$src/agent/kcourierd.service.in

# The value of KEY= in the installed unit, all occurrences, in order.
unit_values()
{
	sed -n "s/^$1=//p" "$unit"
}

# The ExecStart= program: its first word, without systemd's prefixes
# ("-", "@", ":", "+", "!") that change how it runs, not what runs.
exec_program()
{
	unit_values ExecStart | head -n 1 | awk '{ print $1 }' | sed 's/^[-@:+!]*//'
}

# make install in a clean environment: the MAKEFLAGS of the make check
# around us carry its jobserver and goals, which are not ours. BUILD and
# SANITIZE name the tree under test, so nothing is rebuilt differently.
check_make_install()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -C "$src" --no-print-directory -s install \
		PREFIX="$prefix" DESTDIR="$dest" BUILD="$build" \
		SANITIZE="${KC_SANITIZE:-}" >"$work/make.log" 2>&1
	local rc=$?

	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$work/make.log"
		echo "make install PREFIX=$prefix DESTDIR=$dest exited $rc"
		return 1
	fi
	[ -f "$unit" ] || { echo "no unit at $unitdir/kcourierd.service"; return 1; }
}

# Every tool of the build, installed as it was built, mode 0755.
check_tools()
{
	local t name n=0 bad=0 mode

	for t in "$bin"/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue # not a tool: a dir, a lib
		name=${t##*/}
		n=$((n + 1))
		if ! cmp -s "$t" "$dest$bindir/$name"; then
			echo "$bindir/$name: missing or not $t"
			bad=1
			continue
		fi
		mode=$(stat -c %a "$dest$bindir/$name")
		[ "$mode" = 755 ] || { echo "$bindir/$name: mode $mode"; bad=1; }
	done
	[ "$n" -gt 0 ] || { echo "no tools in $bin"; return 1; }
	echo "$n tools in $bindir"
	return "$bad"
}

# The unit is the template with the directories of PREFIX=/usr filled in,
# every other line (the hardening) as it is in the template.
check_unit_generated()
{
	local left mode

	left=$(grep -n '@[A-Z_]*@' "$unit")
	[ -z "$left" ] || { echo "placeholders left:"; echo "$left"; return 1; }
	if grep -q -e "$work" -e /usr/local "$unit"; then
		echo "the unit names DESTDIR or /usr/local:"
		grep -n -e "$work" -e /usr/local "$unit"
		return 1
	fi
	mode=$(stat -c %a "$unit")
	[ "$mode" = 644 ] || { echo "unit mode $mode"; return 1; }
	sed -e "s|@BINDIR@|$bindir|g" -e "s|@DOCDIR@|$docdir|g" \
	    -e "s|@MANDIR@|$mandir|g" -e "s|@SYSCONFDIR@|/etc|g" \
	    -e "s|@LOCALSTATEDIR@|/var|g" "$template" >"$work/expected.service"
	diff -u "$work/expected.service" "$unit"
}

# ExecStart= runs the kcourierd just installed, with options it has.
check_unit_execstart()
{
	local n prog cmd opt opts bad=0

	n=$(unit_values ExecStart | wc -l)
	[ "$n" -eq 1 ] || { echo "$n ExecStart= lines, expected 1"; return 1; }
	prog=$(exec_program)
	echo "ExecStart program: $prog"
	[ "$prog" = "$bindir/kcourierd" ] ||
		{ echo "expected $bindir/kcourierd"; return 1; }
	[ -x "$dest$prog" ] || { echo "$dest$prog is not an executable"; return 1; }
	cmp -s "$dest$prog" "$bin/kcourierd" ||
		{ echo "$dest$prog is not $bin/kcourierd"; return 1; }
	cmd=$(unit_values ExecStart | head -n 1 | awk '{ print $2 }')
	opts=$("$dest$prog" "$cmd" --help) ||
		{ echo "'kcourierd $cmd --help' failed"; return 1; }
	for opt in $(unit_values ExecStart | head -n 1 | grep -o -- '--[a-z][a-z0-9-]*'); do
		grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" <<<"$opts" ||
			{ echo "kcourierd $cmd has no $opt"; bad=1; }
	done
	return "$bad"
}

# Documentation= names pages and files that were installed, and at least
# one man page and one file.
check_unit_documentation()
{
	local uri name sec page path nman=0 nfile=0 bad=0

	for uri in $(unit_values Documentation); do
		case $uri in
		man:*)
			name=${uri#man:}
			sec=${name#*(}
			sec=${sec%)}
			name=${name%%(*}
			page=$(ls "$dest$mandir/man$sec/$name.$sec" \
				  "$dest$mandir/man$sec/$name.$sec.gz" 2>/dev/null | head -n 1)
			if [ -z "$page" ]; then
				echo "$uri: no $mandir/man$sec/$name.${sec}[.gz]"
				bad=1
			elif command -v man >/dev/null &&
			     [ "$(MANPATH=$dest$mandir man -w "$sec" "$name" 2>/dev/null)" != "$page" ]; then
				echo "$uri: man -w does not find $page"
				bad=1
			else
				echo "$uri: ${page#"$dest"}"
				nman=$((nman + 1))
			fi
			;;
		file://*)
			path=${uri#file://}
			if [ -s "$dest$path" ]; then
				echo "$uri: installed"
				nfile=$((nfile + 1))
			else
				echo "$uri: $path not installed"
				bad=1
			fi
			;;
		http://* | https://*)
			echo "$uri: not checked (network)"
			;;
		*)
			echo "$uri: not a man:, file: or http(s): URI"
			bad=1
			;;
		esac
	done
	[ "$nman" -gt 0 ] || { echo "no man: page in Documentation="; bad=1; }
	[ "$nfile" -gt 0 ] || { echo "no file: in Documentation="; bad=1; }
	return "$bad"
}

# Every installed tool has its man page installed, gzip'ed and whole, and
# the docs are there.
check_man_and_docs()
{
	local t name page bad=0 doc

	for t in "$dest$bindir"/*; do
		name=${t##*/}
		page=$(ls "$dest$mandir"/man[1-8]/"$name".[1-8].gz 2>/dev/null | head -n 1)
		if [ -z "$page" ]; then
			echo "$name: no man page in $mandir"
			bad=1
		elif ! gzip -t "$page"; then
			echo "$page: broken gzip"
			bad=1
		else
			echo "$name: ${page#"$dest"}"
		fi
	done
	for doc in README.md OPERATIONS.md PROTOCOL.md; do
		[ -s "$dest$docdir/$doc" ] ||
			{ echo "$docdir/$doc not installed"; bad=1; }
	done
	return "$bad"
}

# Without systemd-analyze (or where it cannot run) this is what remains:
# [Section] headers systemd has, Key=Value lines, and the keys that make
# the unit a service.
check_unit_syntax()
{
	local line n=0 bad=0 section=

	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		'' | '#'* | ';'*) ;;
		'[Unit]' | '[Service]' | '[Install]') section=$line ;;
		'['*)
			echo "line $n: unknown section $line"
			bad=1
			;;
		*)
			if ! [[ $line =~ ^[A-Z][A-Za-z]*= ]] || [ -z "$section" ]; then
				echo "line $n: not Key=Value in a section: $line"
				bad=1
			fi
			;;
		esac
	done <"$unit"
	for line in Description ExecStart User WantedBy; do
		[ -n "$(unit_values $line)" ] || { echo "no $line="; bad=1; }
	done
	return "$bad"
}

# systemd-analyze verify, in a root of its own: the install plus the
# host's targets that the unit's dependencies need (sysinit.target ...),
# so that ExecStart= is resolved in the install, not on this machine.
# MANPATH makes its man: check look at the installed pages. It runs only
# if it can: a control unit must verify cleanly first, else this is a
# SKIP and check_unit_syntax is what was done.
check_systemd_analyze()
{
	local root=$work/verify units out control

	if ! command -v systemd-analyze >/dev/null; then
		echo "no systemd-analyze here: the unit was only parsed (unit_syntax)"
		return "$TAP_SKIP"
	fi
	for units in /lib/systemd/system /usr/lib/systemd/system ""; do
		[ -z "$units" ] || [ -e "$units/sysinit.target" ] && break
	done
	cp -a "$dest" "$root" && mkdir -p "$root/etc/systemd/system" || return 1
	[ -n "$units" ] && cp -a "$units"/*.target "$root/etc/systemd/system/"
	# The control names what make install put in BINDIR, whatever the
	# unit under test says.
	control=$root/etc/systemd/system/kc-control.service
	printf '[Unit]\nDescription=control\n\n[Service]\nExecStart=%s --help\n' \
		"$bindir/kcourierd" >"$control"
	if ! out=$(MANPATH=$root$mandir systemd-analyze --root="$root" verify "$control" 2>&1) ||
	   [ -n "$out" ]; then
		echo "$out"
		echo "systemd-analyze verify cannot run here (a control unit fails): the unit was only parsed (unit_syntax)"
		return "$TAP_SKIP"
	fi
	out=$(MANPATH=$root$mandir systemd-analyze --root="$root" verify \
		"$root$unitdir/kcourierd.service" 2>&1)
	local rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		echo "$out"
		echo "systemd-analyze verify exited $rc, with the messages above"
		return 1
	fi
	echo "systemd-analyze verify: clean ($(systemd-analyze --version | head -n 1))"
}

if tap_run install.make_install check_make_install; then
	tap_run install.tools check_tools
	tap_run install.unit_generated check_unit_generated
	tap_run install.unit_execstart check_unit_execstart
	tap_run install.unit_documentation check_unit_documentation
	tap_run install.man_and_docs check_man_and_docs
	tap_run install.unit_syntax check_unit_syntax
	tap_run install.systemd_analyze_verify check_systemd_analyze
fi
tap_done
