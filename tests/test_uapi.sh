#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test_uapi: uapi/linux/kcourier.h is usable as the kernel's uapi headers
# must be: from C (c99, -pedantic) and from C++ with only the libc's
# <linux/*.h>, every structure a fixed size with its fields where the ABI
# puts them (no implicit padding, 8-byte aligned), and the ioctl numbers
# stable. Runs from tests/run-tests.sh; TAP via tests/lib/tap.sh.
set -u

src=${KC_SRC:-$(pwd)}
. "$src/tests/lib/tap.sh"

work=$(mktemp -d /tmp/kcourier-uapi.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The layout, as the ABI promises it; both languages must agree.
cat >"$work/layout.h" <<'H'
#include <stddef.h>
#include <linux/kcourier.h>
#define KC_AT(s, f, o) KC_SA(offsetof(struct s, f) == (o), #s "." #f)
KC_SA(sizeof(struct kcourier_version) == 32, "version");
KC_SA(sizeof(struct kcourier_unwrap) == 72, "unwrap");
KC_AT(kcourier_unwrap, wrapped, 32);
KC_AT(kcourier_unwrap, enc_key, 48);
KC_AT(kcourier_unwrap, reserved, 60);
KC_SA(sizeof(struct kcourier_op) == 104, "op");
KC_AT(kcourier_op, aad, 8);
KC_AT(kcourier_op, iv, 48);
KC_AT(kcourier_op, tag, 64);
KC_AT(kcourier_op, status, 96);
KC_SA(sizeof(struct kcourier_batch) == 32, "batch");
KC_SA(sizeof(struct kcourier_stats) == 32, "stats");
KC_SA(sizeof(struct kcourier_uring_cmd) == 16, "uring_cmd");
KC_SA(KCOURIER_IOC_UNWRAP == 0xc048c601u, "UNWRAP number");
KC_SA(KCOURIER_IOC_OPEN == 0xc020c602u, "OPEN number");
H

in_c()
{
	printf '#define KC_SA(c, m) _Static_assert(c, m)\n#include "layout.h"\nint main(void) { return 0; }\n' >"$work/c.c"
	gcc -std=c11 -pedantic -Wall -Wextra -Werror -I"$src/uapi" -I"$work" \
		-fsyntax-only "$work/c.c"
}

in_cxx()
{
	printf '#define KC_SA(c, m) static_assert(c, m)\n#include "layout.h"\nint main() { kcourier_batch b{}; return (int)b.count; }\n' >"$work/c.cc"
	g++ -std=c++17 -pedantic -Wall -Wextra -Werror -I"$src/uapi" -I"$work" \
		-fsyntax-only "$work/c.cc"
}

tap_run c11_pedantic in_c
tap_run cxx17_pedantic in_cxx
tap_done
