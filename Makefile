# SPDX-License-Identifier: GPL-2.0-only
#
# kcourier: one top-level build.
#   make            lib/'s libraries and the tools into $(BUILD)/
#   make check      unit, codec, crypto and interop tests (TAP, then a summary line)
#   make check-vm   the kernel-path tests in a QEMU guest on Debian's 6.12 kernel
#   make demo       the guided round trip
#   make bench      load benchmarks, kcourier beside mosquitto and NATS
#   make bench-vm   the crypto tiers side by side in the VM lab's guest
#   make fuzz       libFuzzer targets for a bounded time (FUZZ_SECONDS)
#   make kmod       kcourier.ko (kmod/, uapi/) against KDIR (Debian's
#                   linux-headers-6.12-amd64 by default); kmod-check runs
#                   checkpatch --strict and sparse on it
#   make deps       installs the Debian packages everything needs
#   make install    the tools, man pages, docs and the systemd unit under
#                   $(DESTDIR)$(PREFIX) (PREFIX=/usr as a package would)
#   SANITIZE=1      builds and tests under ASan+UBSan (in build/san)
#   V=1             shows full commands
#   CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS are the user's (dpkg-buildflags'):
#                   added after the flags the build needs, never instead
#
# check, check-vm, demo, bench, bench-vm and fuzz install what they need
# first (tools/deps.sh) and only then build, in a make of their own: the
# pkg-config answers below are taken when make reads this file, so they
# must be read after the packages exist, and under -j a prerequisite
# "deps" would run beside the compiles it is meant to precede.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/kcourier
UNITDIR ?= $(PREFIX)/lib/systemd/system
# Where the unit keeps the agent's passphrase and state: outside PREFIX,
# as Debian has them for /usr and /usr/local alike.
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var

ifeq ($(SANITIZE),1)
BUILD   ?= build/san
CC      := clang-14
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD   ?= build
SANFLAGS :=
endif

ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

# KC_* are what the build needs; the user's CPPFLAGS, CFLAGS, LDFLAGS and
# LDLIBS come after them in every command, so "make CFLAGS=-O0" changes
# the optimisation and keeps -std, the warnings, -MMD and pkg-config's
# include paths (a command-line CFLAGS would override any "CFLAGS +=").
PKGS        := libcrypto jansson gnutls sqlite3 liburing
CFLAGS      ?= -O2 -g
KC_CPPFLAGS := -Ilib -Iuapi -D_GNU_SOURCE
KC_CFLAGS   := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP $(SANFLAGS) \
	       $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
KC_LDFLAGS  := $(SANFLAGS)
KC_LDLIBS   := $(shell pkg-config --libs libcrypto jansson gnutls 2>/dev/null || echo -lcrypto -ljansson -lgnutls) -lkeyutils -lkcapi

# kselftest_harness.h comes from Debian's linux-source-6.12 at build time.
KSRC_TAR    ?= /usr/src/linux-source-6.12.tar.xz
HARNESS_DIR := build/harness
HARNESS     := $(HARNESS_DIR)/kselftest_harness.h

# lib/: one static library per concern, each allowed to include only the
# ones before it (tools/check-layers.py holds the tree to this order).
#   base       bytes, files, base64, locked memory, status codes, options
#   wire       the frame and record codec (docs/PROTOCOL.md)
#   crypto     primitives, the crypto tiers, keyring, key files, X.509 checks
#   tls        TCP and the TLS client, kernel TLS
#   agentconf  an agent's kcourierd.conf and state file names
#   client     the client: connection, enrollment, E2E sessions, home
LIB_DIRS  := base wire crypto tls agentconf client
LIB_SRCS  := $(foreach d,$(LIB_DIRS),$(wildcard lib/$(d)/*.c))
lib_a      = $(foreach d,$(1),$(BUILD)/lib/libkc$(d).a)
lib_objs   = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard lib/$(1)/*.c))
# Link lines name libraries highest first.
LIBS_AGENT  := $(call lib_a,agentconf tls crypto wire base)
LIBS_CLIENT := $(call lib_a,client tls crypto wire base)
LIBS_ALL    := $(call lib_a,client agentconf tls crypto wire base)

CLI_SRCS  := $(wildcard tools/kcourier/*.c)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
TOOLS     := $(BUILD)/kcourier

# The load tools' shared parts: histogram, ledger, report.
LOADKIT_SRCS := $(wildcard tools/loadkit/*.c)
LOADKIT_OBJS := $(LOADKIT_SRCS:%.c=$(BUILD)/obj/%.o)
LOADKIT_LIB  := $(BUILD)/libloadkit.a

LOAD_SRCS := $(wildcard tools/kcourier-load/*.c)
LOAD_OBJS := $(LOAD_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(LOAD_SRCS),)
TOOLS     += $(BUILD)/kcourier-load
endif

# kcourier-lat and its CO-RE BPF object (bpf/): vmlinux.h from this
# kernel's BTF and the skeleton are generated into $(BUILD)/bpf, never
# committed. Built where the kernel has BTF (tools/deps.sh installs
# clang, bpftool and libbpf-dev).
BPF_OUT   := $(BUILD)/bpf
# Debian puts bpftool in /usr/sbin, which a user's PATH may lack.
BPFTOOL   ?= $(firstword $(wildcard /usr/sbin/bpftool) bpftool)
BPF_ARCH  := $(subst x86_64,x86,$(subst aarch64,arm64,$(shell uname -m)))
LAT_SRCS  := $(wildcard tools/kcourier-lat/*.c)
LAT_OBJS  := $(LAT_SRCS:%.c=$(BUILD)/obj/%.o)
ifneq ($(and $(LAT_SRCS),$(wildcard /sys/kernel/btf/vmlinux)),)
TOOLS     += $(BUILD)/kcourier-lat
endif

# Drivers for the brokers kcourier is compared with (make bench only).
PEER_SRCS := $(wildcard bench/peers/*_load.c)
PEERS     := $(PEER_SRCS:bench/peers/%_load.c=$(BUILD)/bench/%-load) $(BUILD)/bench/mosq-idle

# The agent's layers, lowest first (docs/DESIGN.md "Layers"), and the
# store beside them; the commands, state and PKI stay at the top of
# agent/. Agent code
# names its headers with the folder: #include "conn/conn.h".
AGENT_DIRS := ring conn loop proto store metrics
AGENT_SRCS := $(wildcard agent/*.c) $(foreach d,$(AGENT_DIRS),$(wildcard agent/$(d)/*.c))
AGENT_OBJS := $(filter-out %/main.o,$(AGENT_SRCS:%.c=$(BUILD)/obj/%.o))
AGENT_LIB  := $(BUILD)/libagent.a
AGENT_PKGS := gnutls sqlite3 liburing libisal libmicrohttpd libseccomp
AGENT_LIBS := $(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null) -lkeyutils -lpthread
ifneq ($(AGENT_SRCS),)
TOOLS     += $(BUILD)/kcourierd
endif

TEST_SRCS := $(wildcard tests/test_*.c)
TESTS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)

FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS   := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRCS := $(LIB_SRCS)

all: $(LIBS_ALL) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_CPPFLAGS) $(CPPFLAGS) $(KC_CFLAGS) $(CFLAGS) -c -o $@ $<

# A library's members are its folder's objects (second expansion: $$* is
# known only once the pattern matched).
.SECONDEXPANSION:
$(BUILD)/lib/libkc%.a: $$(call lib_objs,$$*)
	$(call say,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/kcourier: $(CLI_OBJS) $(LIBS_CLIENT)
	$(call say,LD,$@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(LDLIBS)

$(LOADKIT_LIB): $(LOADKIT_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The load tool reads a local agent's kcourierd.conf (lib/agentconf).
$(BUILD)/obj/tools/kcourier-load/%.o: KC_CPPFLAGS += -Itools/loadkit
$(BUILD)/kcourier-load: $(LOAD_OBJS) $(LOADKIT_LIB) $(LIBS_ALL)
	$(call say,LD,$@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) -lpthread -lm $(LDLIBS)

$(BPF_OUT)/vmlinux.h:
	$(call say,BTF,$@)
	@mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c >$@.tmp && mv $@.tmp $@

# The BPF target has no multiarch include path: asm/ comes from the host's.
$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c bpf/%.h $(BPF_OUT)/vmlinux.h
	$(call say,BPF,$<)
	$(Q)clang -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-I$(BPF_OUT) -Ibpf -I/usr/include/$(shell gcc -dumpmachine) \
		-Wall -Werror -c -o $@ $<

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	$(call say,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* >$@.tmp && mv $@.tmp $@

$(LAT_OBJS): KC_CPPFLAGS += -I$(BPF_OUT) -Ibpf
$(LAT_OBJS): $(BPF_OUT)/kcourier_lat.skel.h
$(BUILD)/kcourier-lat: $(LAT_OBJS) $(call lib_a,base)
	$(call say,LD,$@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -ljansson $(LDLIBS)

$(BUILD)/obj/bench/peers/%.o: KC_CPPFLAGS += -Itools/loadkit
# What both drivers share: the command line, the event loop, the payload,
# the run (windows, phases) and its report.
PEER_KIT_OBJS := $(patsubst %,$(BUILD)/obj/bench/peers/peer_%.o,cli loop payload run report)
$(BUILD)/bench/mosq-load: $(BUILD)/obj/bench/peers/mosq_load.o $(PEER_KIT_OBJS) $(LOADKIT_LIB) $(call lib_a,base)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ -lmosquitto -lssl -lcrypto -ljansson -lpthread -lm $(LDLIBS)

# Idle MQTT clients on mutual TLS: mosquitto's memory per connection.
$(BUILD)/bench/mosq-idle: $(BUILD)/obj/bench/peers/mosq_idle.o $(LOADKIT_LIB) $(call lib_a,base)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ -lssl -lcrypto -ljansson -lpthread -lm $(LDLIBS)

$(BUILD)/bench/nats-load: $(BUILD)/obj/bench/peers/nats_load.o $(BUILD)/obj/bench/peers/nats_loop.o $(PEER_KIT_OBJS) $(LOADKIT_LIB) $(call lib_a,base)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ -lnats -ljansson -lpthread -lm $(LDLIBS)

# The crypto floor the agent's CPU per message is held against (issue 4).
FLOOR_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/crypto_floor*.c))
$(BUILD)/bench/crypto-floor: $(FLOOR_OBJS) $(LIBS_CLIENT)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(LDLIBS)

# The message log against a tuned SQLite queue, same batches (issue 12).
$(BUILD)/obj/bench/store_bench.o: KC_CPPFLAGS += -Iagent
$(BUILD)/bench/store-bench: $(BUILD)/obj/bench/store_bench.o $(AGENT_LIB) $(LIBS_AGENT)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(AGENT_LIBS) $(LDLIBS)

# The crypto tiers side by side (issue 5): ops/s per tier, afalg/user.
$(BUILD)/bench/tier-bench: $(BUILD)/obj/bench/tier_bench.o $(LIBS_CLIENT)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(LDLIBS)

# kcourier.ko's ioctl and uring_cmd paths side by side (issue 15).
$(BUILD)/bench/kmod-bench: $(BUILD)/obj/bench/kmod_bench.o $(LIBS_CLIENT)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) -luring $(LDLIBS)

$(BUILD)/obj/agent/%.o: KC_CPPFLAGS += -Iagent
# The agent minus main() is an archive too, so tests can link its parts.
$(AGENT_LIB): $(AGENT_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/kcourierd: $(BUILD)/obj/agent/main.o $(AGENT_LIB) $(LIBS_AGENT)
	$(call say,LD,$@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(AGENT_LIBS) $(LDLIBS)

# Tests: one binary per tests/test_*.c, on kselftest_harness.h.
$(HARNESS):
	$(call say,UNTAR,$@)
	@test -r $(KSRC_TAR) || { echo "missing $(KSRC_TAR): run 'make deps' (package linux-source-6.12)" >&2; exit 1; }
	@mkdir -p $(HARNESS_DIR).tmp
	$(Q)tar -xJf $(KSRC_TAR) -C $(HARNESS_DIR).tmp --strip-components=4 \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/tools/testing/selftests/kselftest.h
	$(Q)mkdir -p $(HARNESS_DIR) && mv $(HARNESS_DIR).tmp/*.h $(HARNESS_DIR)/ && rmdir $(HARNESS_DIR).tmp

$(BUILD)/obj/tests/%.o: tests/%.c $(HARNESS)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_CPPFLAGS) -I$(HARNESS_DIR) -Itests -Itools/loadkit -Iagent $(CPPFLAGS) \
		$(KC_CFLAGS) $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

# Test objects build at -O0 (after the user's CFLAGS, so it stays):
# kselftest_harness.h keeps fork()'s result in a non-volatile local across
# setjmp/longjmp, so an optimised build may lose it when an ASSERT fails
# in the child (gcc's -Wclobbered points at this). The code under test is
# in lib/ and agent/ and keeps its own -O2.
TEST_CFLAGS := -O0 -Wno-sign-compare
TEST_HELPER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/lib/*.c))

# vectors.c finds tests/vectors/ through KC_SRC, else this tree.
$(BUILD)/obj/tests/lib/%.o: tests/lib/%.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_CPPFLAGS) -Itests -Iagent -DKC_TEST_SRC_DIR='"$(CURDIR)"' $(CPPFLAGS) $(KC_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_HELPER_OBJS) $(if $(AGENT_SRCS),$(AGENT_LIB)) $(LOADKIT_LIB) $(LIBS_ALL)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(AGENT_LIBS) -lm $(LDLIBS)

# make check replays every fuzz corpus through its target, built with the
# ordinary compiler around tests/fuzz/replay_main.c instead of libFuzzer
# (tests/test_fuzz_replay.sh): a crash once found stays a regression test.
REPLAYS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
$(BUILD)/obj/tests/fuzz/%.o: KC_CPPFLAGS += -Iagent
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o \
		$(if $(AGENT_SRCS),$(AGENT_LIB)) $(LIBS_ALL)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $^ $(KC_LDLIBS) $(AGENT_LIBS) $(LDLIBS)

# lw-replay: the dm-log-writes replay tool of the VM lab's power-loss test.
VM_TOOLS  := $(BUILD)/tests/vm/lw-replay

tests: $(TESTS) $(TOOLS) $(REPLAYS) $(VM_TOOLS)

# KC_SANITIZE: test_install runs "make install" on this very build.
check:
	$(Q)tools/deps.sh
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)KC_BUILD=$(BUILD) KC_SANITIZE=$(SANITIZE) tests/run-tests.sh $(BUILD)

# Kernel paths (kTLS, AF_ALG, the keyring) need a kernel that has them:
# tests/vm/ boots Debian's linux-image-6.12-amd64 over this machine's root
# and runs these test binaries there (tests/vm/run-vm.sh). test_ktls and
# test_tls: the record layers; test_crypto_ops: the afalg tier's variants;
# test_agent_afalg: an agent on it; test_rsa_keyring: the seal key in the
# kernel keyring (test_unwrap_keys: the tiers' table of such keys);
# test_wycheproof: AES-CBC and HMAC vectors through AF_ALG as well;
# test_key_quota: the afalg session cap sized from the key quota, and the
# fallback to locked memory when the quota is full;
# test_agent_loop, test_agent_auth, test_kcourierd: the
# agent suites, which there run over kTLS (test_agent_loop checks that
# every connection went to the kernel). test_client_e2e stays on the host:
# its CLI runs PBKDF2 600k at every command, minutes per test under TCG.
# test_powercut and test_flakey: power loss replayed from dm-log-writes,
# and a disk that drops or fails writes (dm-flakey), on loop devices.
# test_kmod: kcourier.ko's ioctls and uring_cmd (the job loads the module
# from kmod/; test_crypto_ops and test_agent_afalg then run the kmod tier
# too). KC_TEST_CRYPTO=kmod runs the agent suites on that tier.
VM_TESTS ?= test_kmod test_ktls test_tls test_crypto_ops test_agent_afalg \
	    test_rsa_keyring test_unwrap_keys test_wycheproof test_agent_loop \
	    test_agent_auth test_kcourierd test_key_quota test_powercut \
	    test_flakey

check-vm:
	$(Q)tools/deps.sh
	$(Q)tools/deps.sh vm
	$(Q)$(MAKE) --no-print-directory all tests kmod
	$(Q)tests/vm/run-vm.sh $(BUILD) $(VM_TESTS)

# The crypto tiers side by side where the kernel has AF_ALG and loads
# kcourier.ko: tier-bench in the VM lab's guest (under TCG only the
# afalg/user and kmod/user ratios mean anything), then kmod-bench for the
# module's ioctl and uring_cmd paths. TIER_SECONDS per case.
TIER_SECONDS ?= 2
bench-vm:
	$(Q)tools/deps.sh
	$(Q)tools/deps.sh vm
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/tier-bench $(BUILD)/bench/kmod-bench kmod
	$(Q)tests/vm/run-vm.sh $(BUILD) --run bench/tier-bench --seconds $(TIER_SECONDS)
	$(Q)tests/vm/run-vm.sh $(BUILD) --run bench/kmod-bench $(TIER_SECONDS)

# The kernel module: kbuild reads ./Kbuild (then kmod/Kbuild) and leaves
# kcourier.ko in kmod/. KDIR is the newest installed 6.12 headers unless
# given; the VM lab's kernel is that version, the host's may be any.
KDIR ?= $(lastword $(sort $(wildcard /lib/modules/6.12.*/build)))
KMOD_SRCS := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) uapi/linux/kcourier.h
kmod: kmod/kcourier.ko

kmod/kcourier.ko: $(KMOD_SRCS) Kbuild kmod/Kbuild
	@test -n "$(KDIR)" || { echo "no 6.12 kernel headers: run 'make deps' (linux-headers-6.12-amd64)" >&2; exit 1; }
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# checkpatch.pl --strict from linux-source-6.12, and sparse (make C=1).
KC_CHECKPATCH := build/kernel-scripts/checkpatch.pl
$(KC_CHECKPATCH):
	@mkdir -p build/kernel-scripts
	$(Q)tar -xJf $(KSRC_TAR) -C build/kernel-scripts --strip-components=2 \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
kmod-check: $(KC_CHECKPATCH)
	$(Q)$(KC_CHECKPATCH) --strict --no-tree --terse -f $(KMOD_SRCS)
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules

kmod-clean:
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Fuzz targets: clang-14 libFuzzer with ASan+UBSan, own object tree.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard tests/fuzz/*.h lib/*/*.h)
	$(call say,FUZZCC,$@)
	@mkdir -p $(dir $@)
	$(Q)clang-14 $(KC_CPPFLAGS) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(KC_LDLIBS) $(LDLIBS)

# The agent's frame path (fuzz_agent) runs the agent's own layers in the
# fuzzer's process: every agent source but main.c, built the same way.
FUZZ_AGENT_SRCS := $(filter-out agent/main.c,$(AGENT_SRCS))
build/fuzz/fuzz_agent: tests/fuzz/fuzz_agent.c $(FUZZ_LIB_SRCS) $(FUZZ_AGENT_SRCS) \
		$(wildcard tests/fuzz/*.h lib/*/*.h agent/*.h agent/*/*.h)
	$(call say,FUZZCC,$@)
	@mkdir -p $(dir $@)
	$(Q)clang-14 $(KC_CPPFLAGS) -Iagent $(CPPFLAGS) $(FUZZ_CFLAGS) \
		$(shell pkg-config --cflags $(AGENT_PKGS) 2>/dev/null) -o $@ $< \
		$(FUZZ_AGENT_SRCS) $(FUZZ_LIB_SRCS) $(KC_LDLIBS) $(AGENT_LIBS) $(LDLIBS)

fuzzers: $(FUZZERS)

fuzz:
	$(Q)tools/deps.sh
	$(Q)$(MAKE) --no-print-directory fuzzers
	$(Q)FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

# Benchmarks: kcourier and its peers (mosquitto, NATS) side by side on
# loopback; results in $(BUILD)/bench/, the table on standard output.
# BENCH_RUNS repetitions (medians reported), BENCH_SECONDS per run;
# BENCH_PIN=both|1|0: servers on CPU 0 and load on CPU 1, unpinned, or
# both (the default with 2 CPUs or more; bench/run-bench.sh says more);
# BENCH_SHIELD=1 runs the pinned processes SCHED_FIFO (shared machines).
bench:
	$(Q)tools/deps.sh
	$(Q)tools/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all $(PEERS) $(BUILD)/bench/crypto-floor $(BUILD)/bench/tier-bench $(BUILD)/bench/store-bench
	$(Q)bench/run-bench.sh $(BUILD)

demo:
	$(Q)tools/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh $(BUILD)

deps:
	$(Q)tools/deps.sh

# The goals above that install packages and then recurse run one after
# the other when several are given ("make -j8 clean check" must not
# delete what check builds); each one's own make still builds in
# parallel, as the jobserver goes down to it.
ifneq ($(filter check check-vm bench bench-vm demo fuzz,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

# Man pages go to man<section> by their suffix, gzip'ed as dh_compress
# would (-n: no name or time stamp, so two installs are byte-identical).
MANPAGES := $(wildcard docs/man/*.[1-8])
MANSECTS := $(sort $(patsubst .%,man%,$(suffix $(MANPAGES))))

# The unit is made from its template at install time, not at build time,
# so that it names the directories of this install (BINDIR, DOCDIR, ...)
# however PREFIX was given. DESTDIR is only where the files are staged: it
# is never part of a path the unit names.
UNIT_SUBST := -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	      -e 's|@MANDIR@|$(MANDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	      -e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(addprefix $(DESTDIR)$(MANDIR)/,$(MANSECTS))
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	for m in $(MANPAGES); do \
		gz=$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}.gz; \
		gzip -9n <$$m >$$gz && chmod 0644 $$gz || exit; \
	done
	sed $(UNIT_SUBST) agent/kcourierd.service.in >$(DESTDIR)$(UNITDIR)/kcourierd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/kcourierd.service

format:
	clang-format -i $(LIB_SRCS) $(wildcard lib/*/*.h) $(CLI_SRCS) $(wildcard tools/kcourier/*.h)

clean:
	rm -rf build
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order modules.order Module.symvers .*.cmd

.PHONY: all tests check check-vm kmod kmod-check kmod-clean fuzz fuzzers bench bench-vm demo deps install format clean
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
