# pqlan build. `make` builds build/pqlan and build/libpqlan.a; `make check`
# runs the whole suite, then again under ASan+UBSan, then a short fuzz run.
# Sources are found by wildcard: a new .c file under src/ joins the library,
# a tests/**/test_*.c becomes a test binary, tests/**/check_*.sh a scripted
# test, tests/fuzz/fuzz_*.c a libFuzzer target.

BUILD ?= build
CC ?= cc
SAN ?=
VECTORS ?= $(abspath ../shared/vectors)
FUZZ_SECONDS ?= 5
# Parallel compiles inside `make check` (tests themselves run one at a time).
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Isrc $(WARN) -fno-strict-aliasing -MMD -MP
LDLIBS := -lssl -lcrypto -linih -lseccomp -lnats -lpthread
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

MAIN_SRC := src/cli/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(shell find tests -name 'test_*.c' -o -name 'tool_*.c' | grep -v '^tests/fuzz/' | sort)
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all tests check check-unit check-san fuzz fuzz-build demo bench bench-relay clean
all: $(BUILD)/pqlan $(BUILD)/libpqlan.a

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libpqlan.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/pqlan: $(BUILD)/obj/$(MAIN_SRC:.c=.o) $(BUILD)/libpqlan.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests: $(TEST_BINS) $(BENCH_BINS)

# Benchmark tools (bench/*.c), built with the tests: check scripts run
# them in short forms.
$(BUILD)/bench/%: bench/%.c $(BUILD)/libpqlan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench $(LDFLAGS) -o $@ $< $(BUILD)/libpqlan.a $(LDLIBS) -lm

$(BUILD)/tests/%: tests/%.c $(BUILD)/libpqlan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/libpqlan.a $(LDLIBS) -lcmocka

# The whole suite: plain build, then the same tests under sanitizers, then
# every fuzz target for a few seconds.
# Each stage appends "passed failed" to build/check-counts; the last line
# is the total over all stages.
check:
	./scripts/install-deps.sh
	@mkdir -p build && rm -f build/check-counts
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) -j$(CHECK_JOBS) check-unit
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) -j$(CHECK_JOBS) check-san
	PQ_COUNTS=$(abspath build/check-counts) $(MAKE) -j$(CHECK_JOBS) fuzz FUZZ_SECONDS=$(or $(CHECK_FUZZ_SECONDS),10)
	@echo "make check: all stages passed (plain build, ASan+UBSan build, fuzz)"
	@awk '{p += $$1; f += $$2} END {printf "check: %d passed, %d failed\n", p, f}' build/check-counts

check-unit: all tests
	PQ_VECTORS=$(VECTORS) ./tests/run.sh $(BUILD)

check-san:
	$(MAKE) BUILD=build/asan SAN=1 all tests
	PQ_VECTORS=$(VECTORS) PQ_SANITIZER=1 ./tests/run.sh build/asan

# libFuzzer targets: clang, ASan+UBSan, the library rebuilt with clang.
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -Isrc -Itests -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/obj/%.o: %.c
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

demo:
	./scripts/demo.sh

bench: all
	$(BUILD)/pqlan bench

bench-relay: all
	./bench/bench_relay_handshake.sh $(BUILD) && ./bench/bench_relay_throughput.sh $(BUILD)

.PHONY: bench-direct
bench-direct: all
	./bench/bench_rehandshake_direct.sh $(BUILD) && ./bench/bench_direct_throughput.sh $(BUILD) && ./bench/bench_direct_fallback.sh $(BUILD)

bench-nat: all
	./bench/bench_nat.sh $(BUILD)

clean:
	rm -rf build

-include $(shell find $(BUILD) build/fuzz -name '*.d' 2>/dev/null)
