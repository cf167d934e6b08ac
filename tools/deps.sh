#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Installs the Debian 12 packages that building and testing kcourier need.
# Idempotent: asks dpkg what is missing and installs only that. Needs root;
# otherwise prints the exact apt-get line to run.
#
# Usage: tools/deps.sh        what `make`, `make check` and `make fuzz` need
#        tools/deps.sh vm     what the kernel-path lab (tests/vm/) adds
#        tools/deps.sh bench  the peers `make bench` compares with
set -eu

# groff-base: test_manpages renders the man pages with groff.
# clang (the BPF target), libbpf-dev, libelf-dev and bpftool: bpf/ and
# kcourier-lat; systemtap-sdt-dev: the agent's USDT probes (sys/sdt.h);
# libmicrohttpd-dev: the Prometheus endpoint.
PACKAGES="
build-essential pkg-config xz-utils ca-certificates
libssl-dev openssl
libjansson-dev
libgnutls28-dev gnutls-bin
liburing-dev libsqlite3-dev sqlite3 libisal-dev python3-crc32c
libkeyutils-dev keyutils
libseccomp-dev
libkcapi-dev
clang-14 libclang-rt-14-dev
clang libbpf-dev libelf-dev bpftool systemtap-sdt-dev libmicrohttpd-dev
python3 python3-cryptography
linux-source-6.12
groff-base
"

# The VM lab boots Debian's own 6.12 kernel over the host's root, so the
# guest finds these modules in /lib/modules; busybox-static makes its
# initramfs. No initramfs of its own: INITRD=No below skips building one.
# dmsetup, e2fsprogs and xfsprogs: the power-loss tests' disks
# (dm-log-writes, dm-flakey, ext4 and xfs in the guest).
# linux-headers-6.12-amd64 builds kcourier.ko for that kernel (make kmod),
# sparse checks it (make kmod-check) and dkms builds it as a package would.
VM_PACKAGES="
linux-image-6.12-amd64
linux-headers-6.12-amd64 sparse dkms
qemu-system-x86
busybox-static cpio
dmsetup e2fsprogs xfsprogs
"

# The brokers kcourier is measured against, their C client libraries for
# our drivers (bench/peers/), openssl s_server and nginx for the handshake
# rate, and taskset (util-linux) for the pinned runs.
BENCH_PACKAGES="
mosquitto libmosquitto-dev
nginx-light libnginx-mod-stream
nats-server libnats-dev
openssl libssl-dev
util-linux
"

case "${1:-}" in
vm) PACKAGES=$VM_PACKAGES ;;
bench) PACKAGES=$BENCH_PACKAGES ;;
"") ;;
*) echo "usage: $0 [vm|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = "installed" ] || missing="$missing $p"
done

[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "kcourier: missing packages; run as root:" >&2
	echo "  apt-get update && $cmd" >&2
	exit 1
fi

echo "  DEPS    installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The kernel's postinst hooks skip update-initramfs when this is set.
export INITRD=No
# A bare machine has empty package lists; refresh them once if an install fails.
if ! $cmd >/tmp/kcourier-deps.log 2>&1; then
	apt-get update >>/tmp/kcourier-deps.log 2>&1
	$cmd >>/tmp/kcourier-deps.log 2>&1 || { tail -20 /tmp/kcourier-deps.log >&2; exit 1; }
fi
