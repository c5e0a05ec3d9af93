# pqlan build. `make` builds build/pqlan and build/libpqlan.a; `make check`
# runs the whole suite, then again under ASan+UBSan, then a short fuzz run,
# then the packaging checks. Sources are found by wildcard: a new .c file
# under src/ joins the library, a tests/**/test_*.c becomes a test binary,
# tests/**/check_*.sh a scripted test, tests/fuzz/fuzz_*.c a libFuzzer
# target, bench/bench_*.c a benchmark tool.
#
# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line are
# honoured (a package build passes dpkg-buildflags'); the hardening flags
# and what the code needs (-std=c11, -D_GNU_SOURCE, -Isrc) are added to
# them. Warnings are errors only where we decide (WERROR, set by `make
# check`), so a newer compiler's new warning does not break a user's build.

BUILD ?= build
CC ?= cc
SAN ?=
VECTORS ?= $(abspath tests/vectors)
FUZZ_SECONDS ?= 5
WERROR ?=
# Parallel compiles inside `make check` (tests themselves run one at a time).
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/pqlan
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DESTDIR ?=

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
# Hardening (issue 8 item 6): stack canaries, fortified libc calls, a
# position-independent executable with read-only relocations bound at
# start. -U first: a dpkg-buildflags CPPFLAGS carries _FORTIFY_SOURCE=2.
HARDEN_CPPFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
HARDEN_CFLAGS := -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
ifeq ($(SAN),1)
# ASan intercepts the libc calls itself; fortified wrappers would hide them.
HARDEN_CPPFLAGS :=
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ALL_CPPFLAGS = $(CPPFLAGS) -D_GNU_SOURCE -Isrc -I$(BUILD)/gen $(HARDEN_CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(WERROR) -fno-strict-aliasing $(HARDEN_CFLAGS) $(CFLAGS) \
	$(SAN_FLAGS) -MMD -MP
ALL_LDFLAGS = $(HARDEN_LDFLAGS) $(LDFLAGS) $(SAN_FLAGS)
LDLIBS := -lssl -lcrypto -linih -lseccomp -lnats -lpthread

MAIN_SRC := src/cli/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(shell find tests -name 'test_*.c' -o -name 'tool_*.c' | grep -v '^tests/fuzz/' | sort)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
# Writes the seed corpora of the fuzz targets that have no hand-made ones
# (make fuzz-corpus); built with the tests so it keeps up with the codecs.
FUZZ_GEN := $(BUILD)/tests/fuzz/gen_corpus
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
VERSION_H := $(BUILD)/gen/pq_version.h

.PHONY: all tests check check-unit check-san check-dist fuzz fuzz-build fuzz-corpus demo bench bench-tools \
	bench-relay bench-direct install uninstall deb clean FORCE
all: $(BUILD)/pqlan $(BUILD)/libpqlan.a

# The version: the VERSION file, plus `git describe` when this is a git
# work tree (a release tarball has no .git). Rewritten only when it
# changes, so an unchanged tree does not relink.
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@./scripts/gen-version.sh >$@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

$(BUILD)/obj/%.o: %.c | $(VERSION_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libpqlan.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pqlan: $(BUILD)/obj/$(MAIN_SRC:.c=.o) $(BUILD)/libpqlan.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

tests: $(TEST_BINS) $(FUZZ_GEN)

# test_conn puts "the socket is full" where it wants it (its __wrap_pq_tls_write).
$(BUILD)/tests/net/test_conn: ALL_LDFLAGS += -Wl,--wrap=pq_tls_write

$(BUILD)/tests/%: tests/%.c $(BUILD)/libpqlan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Itests $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libpqlan.a \
		$(LDLIBS) -lcmocka

# Benchmark tools: the same flags as the daemon (the bench/*.sh scripts
# call this rule rather than compiling for themselves).
bench-tools: $(BENCH_BINS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libpqlan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libpqlan.a $(LDLIBS) -lm

# The whole suite: plain build, then the same tests under sanitizers, then
# every fuzz target for a few seconds, then the package and units.
# Each stage appends "passed failed" to build/check-counts; the last line
# is the total over all stages.
check:
	./scripts/install-deps.sh
	@mkdir -p build && rm -f build/check-counts
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) -j$(CHECK_JOBS) WERROR=-Werror check-unit
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) -j$(CHECK_JOBS) WERROR=-Werror check-san
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) -j$(CHECK_JOBS) fuzz FUZZ_SECONDS=$(or $(CHECK_FUZZ_SECONDS),10)
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) check-dist
	@echo "make check: all stages passed (plain build, ASan+UBSan build, fuzz, package)"
	@awk '{p += $$1; f += $$2} END {printf "check: %d passed, %d failed\n", p, f}' build/check-counts

check-unit: all tests bench-tools
	PQ_VECTORS=$(VECTORS) ./tests/run.sh $(BUILD)

check-san:
	$(MAKE) BUILD=build/asan SAN=1 all tests bench-tools
	PQ_VECTORS=$(VECTORS) PQ_SANITIZER=1 ./tests/run.sh build/asan

# The package as a user gets it: the .deb built from a copy of this tree,
# lintian, the units' systemd-analyze scores, the installed files.
check-dist:
	./tests/dist/run.sh

deb:
	./scripts/build-deb.sh

# libFuzzer targets: clang, ASan+UBSan, the library rebuilt with clang.
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -Isrc -I$(FUZZ_BUILD)/gen -Itests \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/gen/pq_version.h: FORCE
	@mkdir -p $(dir $@)
	@./scripts/gen-version.sh >$@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

$(FUZZ_BUILD)/obj/%.o: %.c | $(FUZZ_BUILD)/gen/pq_version.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libpqlan.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libpqlan.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libpqlan.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BINS)

# Rewrite the generated seeds (tests/fuzz/gen_corpus.c says which) in place.
fuzz-corpus: $(FUZZ_GEN)
	$(FUZZ_GEN) tests/fuzz/corpus

# Install what an operator needs (docs/install.md): the binary, the two
# systemd units, the system user, the man pages, example configurations.
install: $(BUILD)/pqlan
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BUILD)/pqlan $(DESTDIR)$(BINDIR)/pqlan
	install -m 0644 man/pqlan.8 $(DESTDIR)$(MANDIR)/man8/pqlan.8
	install -m 0644 man/pqlan.conf.5 $(DESTDIR)$(MANDIR)/man5/pqlan.conf.5
	sed 's|@BINDIR@|$(BINDIR)|g' dist/pqlan@.service >$(DESTDIR)$(UNITDIR)/pqlan@.service
	sed 's|@BINDIR@|$(BINDIR)|g' dist/pqlan-relay.service >$(DESTDIR)$(UNITDIR)/pqlan-relay.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pqlan@.service $(DESTDIR)$(UNITDIR)/pqlan-relay.service
	install -m 0644 dist/sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/pqlan.conf
	install -m 0644 dist/node.conf.example $(DESTDIR)$(DOCDIR)/examples/node.conf
	install -m 0644 dist/relay.conf.example $(DESTDIR)$(DOCDIR)/examples/relay.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pqlan $(DESTDIR)$(MANDIR)/man8/pqlan.8 \
		$(DESTDIR)$(MANDIR)/man5/pqlan.conf.5 $(DESTDIR)$(UNITDIR)/pqlan@.service \
		$(DESTDIR)$(UNITDIR)/pqlan-relay.service $(DESTDIR)$(SYSUSERSDIR)/pqlan.conf
	rm -rf $(DESTDIR)$(DOCDIR)/examples

demo:
	./scripts/demo.sh

bench: all
	$(BUILD)/pqlan bench

bench-relay: all bench-tools
	./bench/bench_relay_handshake.sh $(BUILD) && ./bench/bench_relay_throughput.sh $(BUILD)

bench-direct: all bench-tools
	./bench/bench_rehandshake_direct.sh $(BUILD) && ./bench/bench_direct_throughput.sh $(BUILD) && ./bench/bench_direct_fallback.sh $(BUILD)

bench-nat: all
	./bench/bench_nat.sh $(BUILD)

# Issue 13: UDP direct vs TLS direct vs relay vs OpenVPN, tinc, Nebula, and
# the handshake through a relay, then ping under load on a 20 Mbit/s
# underlay through the same tunnels: every figure of the issue in one run
# (bench/README.md).
.PHONY: bench-udp
bench-udp: all bench-tools
	./bench/bench_udp.sh $(BUILD) && ./bench/bench_latency.sh $(BUILD)

clean:
	rm -rf build

FORCE:

-include $(shell find $(BUILD) build/fuzz -path build/dist -prune -o -name '*.d' -type f -print 2>/dev/null)
