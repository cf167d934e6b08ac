#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test_manpages: the man pages in docs/man/ against the tools as built.
#
# Every tool in the build has a page NAME.[1-8] that groff renders without
# a warning. Everything else is read from the tool's live --help output,
# never from a copy, so a page falls behind as soon as an option or a
# command is added:
#   - every long option "TOOL --help" prints is in the page's OPTIONS;
#   - every command it lists under "Commands:" has a subsection (.SS) of
#     its name, which names every long option "TOOL COMMAND --help" prints,
#     and no option that neither that nor "TOOL --help" has.
#
# Runs from tests/run-tests.sh (KC_SRC, KC_BIN). Prints TAP through
# tests/lib/tap.sh.
set -u

src=${KC_SRC:-$(pwd)}
bin=${KC_BIN:-$src/${KC_BUILD:-build}}
. "$src/tests/lib/tap.sh"

# The page as text: ASCII, no bold or underline, lines long enough and no
# hyphenation, so that an option is never broken across lines. Section
# headings start in column 0, subsection headings in column 3.
render()
{
	groff -man -Tascii -P-cbou -rLL=1000n -rHY=0 "$1" 2>/dev/null
}

# The lines of section $2 (a .SH heading) of the rendered page $1.
section()
{
	awk -v name="$2" '
		/^[^ ]/ { on = ($0 == name); next }
		on' <<<"$1"
}

# The lines of the subsection whose heading's first word is $2.
subsection()
{
	awk -v name="$2" '
		/^[^ ]/ || /^   [^ ]/ { split($0, w, " "); on = (w[1] == name && /^   /); next }
		on' <<<"$1"
}

# The long options in a text, once each.
long_opts()
{
	grep -o -- '--[a-z0-9][a-z0-9-]*' <<<"$1" | sort -u
}

# Does text $1 name option $2 as a word of its own (not --foo in --foo-bar)?
names()
{
	grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" <<<"$1"
}

# The commands a --help lists: the first word of each line of the
# "Commands:" block, up to its blank line.
commands()
{
	awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' <<<"$1"
}

page_of()
{
	ls "$src"/docs/man/"$1".[1-8] 2>/dev/null | head -n 1
}

check_page()
{
	local page

	page=$(page_of "$1")
	[ -n "$page" ] || { echo "no docs/man/$1.[1-8]"; return 1; }
	echo "${page#"$src"/}"
}

# groff's own checks at the width man(1) uses, all warnings on.
check_render()
{
	local page out

	page=$(page_of "$1")
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	[ -z "$out" ] || { echo "$out"; return 1; }
	[ -n "$(render "$page")" ] || { echo "$page renders empty"; return 1; }
}

# Every option of "TOOL --help" is in the page's OPTIONS section.
check_options()
{
	local tool=$1 help text opts opt bad=0

	help=$("$bin/$tool" --help) || { echo "'$tool --help' failed"; return 1; }
	opts=$(long_opts "$help")
	[ -n "$opts" ] || { echo "'$tool --help' prints no long option"; return 1; }
	text=$(section "$(render "$(page_of "$tool")")" OPTIONS)
	[ -n "$text" ] || { echo "the page has no OPTIONS section"; return 1; }
	for opt in $opts; do
		names "$text" "$opt" || { echo "OPTIONS lacks $opt"; bad=1; }
	done
	echo "options: $(paste -sd ' ' <<<"$opts")"
	return "$bad"
}

# Command $2 of tool $1 has a subsection with exactly the options of its
# --help (and the tool's own, which its synopsis may show).
check_command()
{
	local tool=$1 cmd=$2 help global text opt bad=0

	help=$("$bin/$tool" "$cmd" --help) ||
		{ echo "'$tool $cmd --help' failed"; return 1; }
	global=$("$bin/$tool" --help)
	text=$(subsection "$(render "$(page_of "$tool")")" "$cmd")
	[ -n "$text" ] || { echo "no subsection (.SS) '$cmd'"; return 1; }
	for opt in $(long_opts "$help"); do
		names "$text" "$opt" ||
			{ echo "'$cmd' lacks $opt ('$tool $cmd --help' has it)"; bad=1; }
	done
	for opt in $(long_opts "$text"); do
		names "$help" "$opt" || names "$global" "$opt" ||
			{ echo "'$cmd' names $opt, which '$tool $cmd --help' does not have"; bad=1; }
	done
	echo "$cmd: $(long_opts "$help" | paste -sd ' ')"
	return "$bad"
}

# A tool that lists commands has at least one; a parse that finds none
# in a --help that mentions "Commands" would hide every check above.
check_commands_found()
{
	local help=$2

	if [ -z "$(commands "$help")" ] && grep -q 'Commands' <<<"$help"; then
		echo "'$1 --help' mentions Commands but none was parsed"
		return 1
	fi
	echo "commands: $(commands "$help" | paste -sd ' ')"
}

ntools=0
for tool in "$bin"/*; do
	[ -f "$tool" ] && [ -x "$tool" ] || continue # a dir, a lib
	tool=${tool##*/}
	ntools=$((ntools + 1))
	tap_run "manpages.$tool.page" check_page "$tool" || continue
	tap_run "manpages.$tool.render" check_render "$tool"
	tap_run "manpages.$tool.options" check_options "$tool"
	help=$("$bin/$tool" --help 2>/dev/null)
	tap_run "manpages.$tool.commands" check_commands_found "$tool" "$help"
	for cmd in $(commands "$help"); do
		tap_run "manpages.$tool.$cmd" check_command "$tool" "$cmd"
	done
done
[ "$ntools" -gt 0 ] || tap_run manpages.tools false
tap_done
