#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel-path lab: boots Debian's linux-image-6.12-amd64 in QEMU over
# the host's root (read-only 9p under a tmpfs overlay), loads the modules
# the kernel paths need and runs tests/run-tests.sh there on an already
# built tree. The verdict comes from the guest's exit status, which its
# /init (tests/vm/init) writes to a second serial port; any kernel BUG,
# WARNING, Oops or panic in the console or dmesg fails the run too.
#
# Usage: tests/vm/run-vm.sh BUILD [TEST...]
#        tests/vm/run-vm.sh BUILD --run PROG [ARG...]
#   --run: run BUILD/PROG (e.g. bench/tier-bench) in the guest instead of
#   tests; its exit status is the verdict.
#   KC_VM_TIMEOUT  seconds the whole boot may take (default 2700)
#   KC_VM_TCG_THREAD  single (default) or multi, for TCG
#   KC_POWERCUT_*, KC_FLAKEY_*  passed to the guest (test_powercut, test_flakey)
#   KC_VM_MODS     modules to load (default: tls,af_alg,algif_skcipher,
#                  algif_hash,pkcs8_key_parser)
#
# Files (in BUILD/vm/): initramfs.cpio, build/ (the programs the guest
# runs, copied from BUILD), job.sh (what the guest runs),
# console.log (ttyS0), result (ttyS1: "kc-vm-exit=N"), dmesg.log (ttyS2).
set -euo pipefail

build=${1:?usage: run-vm.sh BUILD [TEST...]}
shift
src=$(pwd)
build=$(cd "$build" && pwd)
vm=$build/vm
snap=$vm/build
timeout_s=${KC_VM_TIMEOUT:-2700}
mods=${KC_VM_MODS:-tls,af_alg,algif_skcipher,algif_hash,pkcs8_key_parser}
boot_mods="fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay"

die() {
	echo "run-vm: $*" >&2
	exit 1
}

# The kernel version comes from what is installed, never from uname -r:
# the host may run any kernel at all.
pick_kernel() {
	kdir=$(ls -d /lib/modules/6.12.* 2>/dev/null | sort -V | tail -1)
	[ -n "$kdir" ] || die "no /lib/modules/6.12.*: run 'tools/deps.sh vm'"
	kver=${kdir#/lib/modules/}
	vmlinuz=/boot/vmlinuz-$kver
	[ -r "$vmlinuz" ] || die "no $vmlinuz: run 'tools/deps.sh vm'"
}

check_tools() {
	command -v qemu-system-x86_64 >/dev/null ||
		die "no qemu-system-x86_64: run 'tools/deps.sh vm'"
	[ -x /bin/busybox ] && ! readelf -l /bin/busybox | grep -q interpreter ||
		die "no static /bin/busybox: run 'tools/deps.sh vm'"
}

# A tiny initramfs: busybox, the init script and the modules needed to
# reach the host's root, uncompressed so busybox's insmod can load them.
make_initramfs() {
	local root=$vm/initramfs m a

	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,mnt,modules}
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	install -m 0755 "$src/tests/vm/init" "$root/init"
	for m in $boot_mods; do
		xz -dc "$kdir/kernel/$m.ko.xz" >"$root/modules/${m##*/}.ko"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$vm/initramfs.cpio"
}

# The guest runs a copy of the built programs, so a rebuild on the host
# while a long guest run goes on cannot swap binaries under it.
snapshot_build() {
	local f

	rm -rf "$snap"
	mkdir -p "$snap"
	for f in "$build"/*; do
		[ -f "$f" ] && [ -x "$f" ] && cp -p "$f" "$snap/"
	done
	cp -pr "$build/tests" "$snap/tests"
	[ ! -d "$build/bench" ] || cp -pr "$build/bench" "$snap/bench"
}

# The power-loss tests' knobs (KC_POWERCUT_*, KC_FLAKEY_*) go through to
# the guest, whose environment is otherwise empty.
pass_env() {
	local v

	for v in $(compgen -e | grep -E '^KC_(POWERCUT|FLAKEY)_'); do
		echo "export $v=$(printf '%q' "${!v}")"
	done
}

# run-tests.sh on the given tests (or, after --run, one program of the
# build), from the source tree, in the guest.
write_job() {
	local t args="" run

	if [ "${1:-}" = --run ]; then
		shift
		run=${1:?--run needs a program}
		shift
		[ -x "$build/$run" ] || die "no $build/$run: build it first"
		run="exec $(printf '%q' "$snap/$run")"
	else
		run="exec tests/run-tests.sh $(printf '%q' "$snap")"
	fi
	for t in "$@"; do args+=" $(printf '%q' "$t")"; done
	cat >"$vm/job.sh" <<JOB
cd $(printf '%q' "$src") || exit 125
export KC_TEST_TIMEOUT=$(printf '%q' "${KC_TEST_TIMEOUT:-1800}")
$(pass_env)
export KC_TEST_CRYPTO=$(printf '%q' "${KC_TEST_CRYPTO:-}")
[ -n "\$KC_TEST_CRYPTO" ] || unset KC_TEST_CRYPTO
# kcourier.ko from this tree (make kmod), for the kmod tier's tests.
[ ! -r kmod/kcourier.ko ] || insmod kmod/kcourier.ko || exit 125
echo "kc-vm: \$(uname -r), \$(nproc) cpus; modules: \$(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
$run$args
JOB
}

# TCG unless the CPU really has hardware virtualisation: a /dev/kvm backed
# by anything else (kvm_pvm) cannot run a stock kernel and hangs qemu.
# One TCG thread for both vCPUs by default: with thread=multi, QEMU 7.2 now
# and then runs a stale translation of kernel text another vCPU has just
# patched (an "Oops: int3" in a static key, about one boot in eight here).
accel_args() {
	if grep -qE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
		echo "-accel kvm -cpu host"
	else
		echo "-accel tcg,thread=${KC_VM_TCG_THREAD:-single} -cpu max"
	fi
}

boot() {
	local cmdline rc=0

	# no_timer_check: under TCG on a loaded host the IO-APIC timer check
	# can miss its window and panic the boot ("IO-APIC + timer doesn't
	# work!"); the timer works, the check is what is too slow.
	cmdline="console=ttyS0 loglevel=5 oops=panic panic_on_warn=1 panic=-1 no_timer_check"
	cmdline+=" kc_job=$vm/job.sh kc_mods=$mods"
	: >"$vm/result"
	: >"$vm/dmesg.log"
	# shellcheck disable=SC2046
	timeout -k 10 "$timeout_s" nice -n 10 qemu-system-x86_64 \
		-machine q35 $(accel_args) -m 1G -smp 2 \
		-nographic -monitor none -no-reboot -nic none \
		-serial stdio -serial "file:$vm/result" \
		-serial "file:$vm/dmesg.log" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-kernel "$vmlinuz" -initrd "$vm/initramfs.cpio" \
		-append "$cmdline" </dev/null 2>&1 |
		stdbuf -oL tr -d '\r' | tee "$vm/console.log" || rc=$?
	return "$rc"
}

# Kernel trouble anywhere fails the run, whatever the tests said.
# Only kernel lines (a "[ seconds]" stamp) count: test output may say "BUG:".
kernel_trouble() {
	tr -d '\r' <"$vm/dmesg.log" | cat "$vm/console.log" - |
		grep -E '^\[ *[0-9]+\.[0-9]+\] .*(BUG:|WARNING:|Oops|Kernel panic|general protection fault)'
}

main() {
	local start rc status

	pick_kernel
	check_tools
	mkdir -p "$vm"
	make_initramfs
	snapshot_build
	write_job "$@"
	echo "run-vm: booting $kver ($(accel_args | cut -d' ' -f2)), timeout ${timeout_s}s"
	start=$(date +%s)
	boot && rc=0 || rc=$?
	echo "run-vm: guest ran $(($(date +%s) - start))s"
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] &&
		die "guest timed out after ${timeout_s}s"
	if kernel_trouble >"$vm/trouble.log"; then
		cat "$vm/trouble.log" >&2
		die "kernel reported trouble (see $vm/console.log, $vm/dmesg.log)"
	fi
	# The guest's tty turns "\n" into "\r\n".
	status=$(tr -d '\r' <"$vm/result" |
		sed -n 's/^kc-vm-exit=\([0-9]*\)$/\1/p' | tail -1)
	[ -n "$status" ] || die "guest gave no exit status (qemu exited $rc)"
	[ "$status" -eq 0 ] || die "the guest's job failed (exit $status)"
	echo "run-vm: guest job passed"
}

main "$@"
