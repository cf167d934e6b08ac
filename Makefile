# SPDX-License-Identifier: GPL-2.0-only
#
# kcourier: one top-level build.
#   make            libkcourier.a and the tools into $(BUILD)/
#   make check      unit, codec, crypto and interop tests (TAP, then a summary line)
#   make check-vm   the kernel-path tests in a QEMU guest on Debian's 6.12 kernel
#   make demo       the guided round trip
#   make bench      load benchmarks, kcourier beside mosquitto and NATS
#   make bench-vm   the crypto tiers side by side in the VM lab's guest
#   make fuzz       libFuzzer targets for a bounded time (FUZZ_SECONDS)
#   make deps       installs the Debian packages everything needs
#   SANITIZE=1      builds and tests under ASan+UBSan (in build/san)
#   V=1             shows full commands

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin

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

PKGS     := libcrypto jansson gnutls sqlite3 liburing
CPPFLAGS += -Ilib -Iuapi -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP $(SANFLAGS)
CFLAGS   += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(shell pkg-config --libs libcrypto jansson gnutls 2>/dev/null || echo -lcrypto -ljansson -lgnutls) -lkeyutils -lkcapi

# kselftest_harness.h comes from Debian's linux-source-6.12 at build time.
KSRC_TAR    ?= /usr/src/linux-source-6.12.tar.xz
HARNESS_DIR := build/harness
HARNESS     := $(HARNESS_DIR)/kselftest_harness.h

LIB_SRCS  := $(wildcard lib/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBKC     := $(BUILD)/libkcourier.a

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

# Drivers for the brokers kcourier is compared with (make bench only).
PEER_SRCS := $(wildcard bench/peers/*_load.c)
PEERS     := $(PEER_SRCS:bench/peers/%_load.c=$(BUILD)/bench/%-load)

AGENT_SRCS := $(wildcard agent/*.c)
AGENT_OBJS := $(filter-out %/main.o,$(AGENT_SRCS:%.c=$(BUILD)/obj/%.o))
AGENT_LIB  := $(BUILD)/libagent.a
AGENT_PKGS := gnutls sqlite3 liburing
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

all: $(LIBKC) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBKC): $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/kcourier: $(CLI_OBJS) $(LIBKC)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LOADKIT_LIB): $(LOADKIT_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The load tool reads a local agent's kcourierd.conf with the agent's own
# parser (agent/config.c), so it links that part of libagent.a.
$(BUILD)/obj/tools/kcourier-load/%.o: CPPFLAGS += -Itools/loadkit -Iagent
$(BUILD)/kcourier-load: $(LOAD_OBJS) $(LOADKIT_LIB) $(AGENT_LIB) $(LIBKC)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread -lm

$(BUILD)/obj/bench/peers/%.o: CPPFLAGS += -Itools/loadkit
# What both drivers share: the command line and the run (windows, report).
PEER_KIT_OBJS := $(BUILD)/obj/bench/peers/peer_cli.o $(BUILD)/obj/bench/peers/peer_run.o
$(BUILD)/bench/mosq-load: $(BUILD)/obj/bench/peers/mosq_load.o $(PEER_KIT_OBJS) $(LOADKIT_LIB)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lmosquitto -ljansson -lpthread -lm

$(BUILD)/bench/nats-load: $(BUILD)/obj/bench/peers/nats_load.o $(PEER_KIT_OBJS) $(LOADKIT_LIB)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lnats -ljansson -lpthread -lm

# The crypto floor the agent's CPU per message is held against (issue 4).
FLOOR_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/crypto_floor*.c))
$(BUILD)/bench/crypto-floor: $(FLOOR_OBJS) $(LIBKC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The crypto tiers side by side (issue 5): ops/s per tier, afalg/user.
$(BUILD)/bench/tier-bench: $(BUILD)/obj/bench/tier_bench.o $(LIBKC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The agent minus main() is an archive too, so tests can link its parts.
$(AGENT_LIB): $(AGENT_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/kcourierd: $(BUILD)/obj/agent/main.o $(AGENT_LIB) $(LIBKC)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(AGENT_LIBS)

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
	$(Q)$(CC) $(CPPFLAGS) -I$(HARNESS_DIR) -Itests -Itools/loadkit $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

# Test objects build at -O0: kselftest_harness.h keeps fork()'s result in a
# non-volatile local across setjmp/longjmp, so an optimised build may lose
# it when an ASSERT fails in the child (gcc's -Wclobbered points at this).
# The code under test is in libkcourier and keeps its own -O2.
TEST_CFLAGS := -O0 -Wno-sign-compare
TEST_HELPER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/lib/*.c))

$(BUILD)/obj/tests/lib/%.o: tests/lib/%.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_HELPER_OBJS) $(if $(AGENT_SRCS),$(AGENT_LIB)) $(LOADKIT_LIB) $(LIBKC)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(AGENT_LIBS) -lm

tests: $(TESTS) $(TOOLS)

check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)KC_BUILD=$(BUILD) KC_VECTORS=$(VECTORS) tests/run-tests.sh $(BUILD)

# Kernel paths (kTLS, AF_ALG, the keyring) need a kernel that has them:
# tests/vm/ boots Debian's linux-image-6.12-amd64 over this machine's root
# and runs these test binaries there (tests/vm/run-vm.sh). test_ktls and
# test_tls: the record layers; test_crypto_ops: the afalg tier's variants;
# test_agent_afalg: an agent on it; test_rsa_keyring: the seal key in the
# kernel keyring (test_unwrap_keys: the tiers' table of such keys);
# test_wycheproof: AES-CBC and HMAC vectors through AF_ALG as well;
# test_agent_loop, test_agent_auth, test_kcourierd: the
# agent suites, which there run over kTLS (test_agent_loop checks that
# every connection went to the kernel). test_client_e2e stays on the host:
# its CLI runs PBKDF2 600k at every command, minutes per test under TCG.
VM_TESTS ?= test_ktls test_tls test_crypto_ops test_agent_afalg \
	    test_rsa_keyring test_unwrap_keys test_wycheproof test_agent_loop \
	    test_agent_auth test_kcourierd

check-vm: deps
	$(Q)tools/deps.sh vm
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)KC_VECTORS=$(VECTORS) tests/vm/run-vm.sh $(BUILD) $(VM_TESTS)

# The crypto tiers side by side where the kernel has AF_ALG: tier-bench
# in the VM lab's guest (under TCG only the afalg/user ratios mean
# anything). TIER_SECONDS per case.
TIER_SECONDS ?= 2
bench-vm: deps
	$(Q)tools/deps.sh vm
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bench/tier-bench
	$(Q)tests/vm/run-vm.sh $(BUILD) --run bench/tier-bench --seconds $(TIER_SECONDS)

# Public test vectors (Wycheproof JSON in VECTORS/wycheproof/): ./vectors when
# it exists, else none (the tests that need them SKIP); VECTORS=DIR for others.
VECTORS ?= $(wildcard vectors)

# Fuzz targets: clang-14 libFuzzer with ASan+UBSan, own object tree.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard tests/fuzz/*.h lib/*.h)
	$(call say,FUZZCC,$@)
	@mkdir -p $(dir $@)
	$(Q)clang-14 $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(LDLIBS)

fuzz: deps $(FUZZERS)
	$(Q)tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

# Benchmarks: kcourier and its peers (mosquitto, NATS) side by side on
# loopback; results in $(BUILD)/bench/, the table on standard output.
# BENCH_RUNS repetitions (medians reported), BENCH_SECONDS per run.
bench: deps
	$(Q)tools/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all $(PEERS) $(BUILD)/bench/crypto-floor $(BUILD)/bench/tier-bench
	$(Q)bench/run-bench.sh $(BUILD)

demo: deps all
	$(Q)tools/demo.sh $(BUILD)

deps:
	$(Q)tools/deps.sh

DOCDIR  ?= $(PREFIX)/share/doc/kcourier
UNITDIR ?= $(PREFIX)/lib/systemd/system

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 agent/kcourierd.service $(DESTDIR)$(UNITDIR)/

format:
	clang-format -i $(LIB_SRCS) $(wildcard lib/*.h) $(CLI_SRCS) $(wildcard tools/kcourier/*.h)

clean:
	rm -rf build

.PHONY: all tests check check-vm fuzz bench bench-vm demo deps install format clean
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
