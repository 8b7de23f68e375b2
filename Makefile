# libgreen: M:N green threads for unmodified pthread programs.
#
#   make            build build/libgreen.so (release, -O2), examples, bench programs
#   make test       build everything and run every test (unit, integration, apps, ebpf)
#   make demo       run an example natively and under libgreen, eBPF comparison
#   make bench      native vs libgreen vs Go benchmark table (BENCH_REPS=n, BENCH_QUICK=1,
#                   BENCH_ONLY=a,b); JSON in build/bench/results.json
#   make bench-plot the last results as an SVG chart, build/bench/results.svg
#   make debug      build/debug/libgreen.so with assertions, -O0
#   make asan       unit tests + integration smoke under AddressSanitizer
#   make tsan       core unit tests under ThreadSanitizer (Gs as TSan fibers); fails on any report
#   make deps       install the Debian packages we need (root)
#
# Quiet unless V=1.  Everything generated lives under build/.

Q := $(if $(V),,@)
BUILD ?= build
CXX := g++
CC := gcc

DEB_PKGS := g++ make libboost-context-dev libunwind-dev libcriterion-dev \
	libbpf-dev bpftool clang libelf-dev zlib1g-dev systemtap-sdt-dev python3
# Files whose absence means a package is missing.
DEP_FILES := /usr/include/boost/context/detail/fcontext.hpp \
	/usr/lib/x86_64-linux-gnu/libboost_context.a \
	/usr/include/x86_64-linux-gnu/libunwind.h /usr/include/criterion/criterion.h \
	/usr/include/bpf/libbpf.h /usr/sbin/bpftool /usr/bin/clang \
	/usr/include/gelf.h /usr/include/zlib.h \
	/usr/include/x86_64-linux-gnu/sys/sdt.h
MISSING_DEPS := $(strip $(foreach f,$(DEP_FILES),$(if $(wildcard $(f)),,$(f))))

# ---- flags -----------------------------------------------------------------
WARN := -Wall -Wextra -Werror
COMMON := -fPIC -g -fvisibility=hidden -ftls-model=initial-exec \
	-fno-omit-frame-pointer -pthread -D_GNU_SOURCE -Icore
MODE ?= release
ifeq ($(MODE),debug)
  OPT := -O0 -DGREEN_DEBUG=1
else ifeq ($(MODE),asan)
  OPT := -O1 -DGREEN_DEBUG=1 -fsanitize=address -DBOOST_USE_ASAN
  SAN_LD := -fsanitize=address
else ifeq ($(MODE),tsan)
  OPT := -O1 -DGREEN_DEBUG=1 -fsanitize=thread
  SAN_LD := -fsanitize=thread
  UNIT_EXTRA := tests/unit/tsan/criterion_arena.cpp
else
  OPT := -O2
endif
CXXFLAGS := -std=c++20 $(WARN) $(COMMON) $(OPT) -fno-exceptions -fno-rtti
# libunwind (both from Debian's libunwind8): -lunwind, local unwinding (preemption's
# safe-point check); -lunwind-generic, its remote interface (thread dumps unwind
# copies of G stacks). Dynamic: Debian's static archives are not PIC.
# libgcc_s before libunwind: the _Unwind_* API (cancellation's forced unwind,
# C++ exceptions) then resolves to GCC's unwinder, as without libgreen, not
# to libunwind's copy of it.
LDLIBS_CORE := /usr/lib/x86_64-linux-gnu/libboost_context.a -ldl \
	-Wl,--push-state,--no-as-needed -lgcc_s -Wl,--pop-state -lunwind-generic -lunwind

OUT := $(BUILD)$(if $(filter release,$(MODE)),,/$(MODE))
CORE_SRC := $(wildcard core/*.cpp)
SHIM_SRC := $(wildcard shim/*.cpp)
PRELOAD_SRC := $(wildcard preload/*.cpp)
CORE_OBJ := $(CORE_SRC:%.cpp=$(OUT)/obj/%.o)
SHIM_OBJ := $(SHIM_SRC:%.cpp=$(OUT)/obj/%.o)
PRELOAD_OBJ := $(PRELOAD_SRC:%.cpp=$(OUT)/obj/%.o)
# The I/O shims keep pins (shim/fd.h) in frames that a cancellation's
# forced unwind leaves: their destructors must run, so these objects get
# landing pads.
PIN_OBJ := $(addprefix $(OUT)/obj/shim/,io.o connect.o splice.o)
$(PIN_OBJ): CXXFLAGS += -fexceptions

EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c)) \
	$(patsubst examples/%.cpp,$(BUILD)/examples/%,$(wildcard examples/*.cpp))
# Benchmark programs: tests/bench/*.c, plus the tests/sync bench_* programs
# and the tests/io echo server, which make bench reuses as they are.
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c)) \
	$(patsubst tests/sync/%.c,$(BUILD)/bench/%,$(wildcard tests/sync/bench_*.c)) $(BUILD)/bench/echo
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.cpp,$(OUT)/unit/%,$(wildcard tests/unit/*.cpp))
ITEST_BIN := $(patsubst tests/integration/%.c,$(BUILD)/itest/%,$(wildcard tests/integration/*.c)) \
	$(patsubst tests/integration/%.cpp,$(BUILD)/itest/%,$(wildcard tests/integration/*.cpp))

.PHONY: all lib examples tools itest unit ebpf test test-unit test-integration test-io test-sync test-preempt test-signal test-process test-cancel test-diag test-bench test-apps test-ebpf \
	bench bench-plot bench-deps demo debug asan tsan clean deps check-deps format

all: check-deps lib examples tools itest $(BENCH_BIN) ebpf

lib: $(OUT)/libgreen.so

check-deps:
ifneq ($(MISSING_DEPS),)
	@echo "missing: $(MISSING_DEPS) -> installing Debian packages"
	$(Q)$(MAKE) --no-print-directory deps
endif

deps:
	$(Q)if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get install $(DEB_PKGS))"; exit 1; fi
	$(Q)apt-get update -qq
	$(Q)DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PKGS) >/dev/null

$(OUT)/obj/%.o: %.cpp $(wildcard core/*.h shim/*.h preload/*.h)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CXX     $<")
	$(Q)$(CXX) $(CXXFLAGS) -Ishim -Ipreload -c $< -o $@

$(OUT)/libgreen_core.a: $(CORE_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/libgreen.so: $(CORE_OBJ) $(SHIM_OBJ) $(PRELOAD_OBJ) preload/libgreen.map
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CXX) -shared -o $@ $(CORE_OBJ) $(SHIM_OBJ) $(PRELOAD_OBJ) $(SAN_LD) \
		-Wl,--version-script=preload/libgreen.map -Wl,-z,now -Wl,--no-undefined \
		-Wl,--exclude-libs,ALL $(LDLIBS_CORE) -pthread

# Example "legacy" programs: plain C/C++ + pthreads, never a libgreen header.
examples: $(EXAMPLES)
$(BUILD)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@ -lm
$(BUILD)/examples/%: examples/%.cpp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CXX     $<")
	$(Q)$(CXX) -std=c++20 -O2 -g -Wall -Wextra -Werror -pthread $< -o $@

# Integration-test programs: plain pthread programs, run natively and preloaded.
itest: $(ITEST_BIN) $(patsubst tests/integration/lib/%.c,$(BUILD)/itest/lib%.so,$(wildcard tests/integration/lib/*.c))
$(BUILD)/itest/lib%.so: tests/integration/lib/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -shared -fPIC $< -o $@
$(BUILD)/itest/%: tests/integration/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@ -lm
$(BUILD)/itest/%: tests/integration/%.cpp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CXX     $<")
	$(Q)$(CXX) -std=c++20 -O2 -g -Wall -Wextra -Werror -pthread $< -o $@

tools: $(TOOLS)
$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@

$(BUILD)/bench/%: tests/bench/%.c tests/bench/common.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@ -lm
$(BUILD)/bench/%: tests/sync/%.c tests/sync/common.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@ -lm
$(BUILD)/bench/echo: tests/io/echo.c tests/io/common.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@

# Criterion unit tests of core, linked against the core archive (no preload).
unit: $(UNIT_TESTS)
$(OUT)/unit/%: tests/unit/%.cpp tests/unit/fixture.h $(OUT)/libgreen_core.a $(UNIT_EXTRA)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CXX     $<")
	$(Q)$(CXX) -std=c++20 $(WARN) -Wno-missing-field-initializers $(COMMON) $(OPT) $(SAN_LD) $< $(UNIT_EXTRA) -o $@ \
		$(OUT)/libgreen_core.a $(LDLIBS_CORE) -lcriterion

ebpf: check-deps lib
	$(Q)$(if $(wildcard ebpf/Makefile),$(MAKE) --no-print-directory -C ebpf BUILD=$(abspath $(BUILD))/ebpf)

test: all unit
	$(Q)$(MAKE) --no-print-directory test-unit test-integration test-io test-sync test-preempt test-signal test-process test-cancel test-diag test-bench test-apps test-ebpf

test-unit: unit
	$(Q)set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t --jobs 1; done

test-integration: lib examples tools itest
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/integration/run.sh

test-io: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/io/run.sh

test-sync: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/sync/run.sh

test-preempt: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/preempt/run.sh

test-signal: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/signal/run.sh

test-process: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/process/run.sh

test-cancel: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/cancel/run.sh

test-diag: lib
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/diag/run.sh

# The make-bench programs once each, small, both ways: they still do (and
# check) their work. No timing.
test-bench: lib examples $(BENCH_BIN)
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/bench/smoke.sh

# Real Debian programs (pigz, xz, zstd, sysbench, stress-ng) and a heavy C++
# program, natively and under libgreen; installs the packages it needs.
test-apps: lib tools
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/apps/run.sh

test-ebpf: ebpf
	$(Q)$(if $(wildcard tests/ebpf/run.sh),BUILD=$(abspath $(BUILD)) bash tests/ebpf/run.sh)

# Go (Debian's golang-go) gives the reference column; without it (not root,
# no package) the Go column stays empty.
bench-deps:
	$(Q)command -v go >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; } || \
		echo "make bench: golang-go not installed: no Go column"

bench: all bench-deps
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/bench/run.sh

bench-plot:
	$(Q)python3 tests/bench/plot.py $(BUILD)/bench/results.json $(BUILD)/bench/results.svg

demo: all
	$(Q)BUILD=$(abspath $(BUILD)) bash examples/demo.sh

debug:
	$(Q)$(MAKE) --no-print-directory MODE=debug lib unit

asan:
	$(Q)$(MAKE) --no-print-directory MODE=asan lib unit
	$(Q)set -e; for t in $(patsubst tests/unit/%.cpp,$(BUILD)/asan/unit/%,$(wildcard tests/unit/*.cpp)); do \
		echo "== $$t"; ASAN_OPTIONS=detect_leaks=0:handle_segv=0 $$t --jobs 1; done

# ThreadSanitizer pass over core (a developer pass, not part of make test).
# Every unit suite runs, linked against build/tsan/libgreen_core.a (no
# preload); each G is a TSan fiber, switches are annotated (core/sched.cpp,
# core/tls.cpp). Any report fails the target; the suppressions file lists
# the known false positives, one entry per cause. What does not run:
#  - preemption: core never preempts in a TSan build (core/preempt.cpp);
#    in the unit tests it never switched a G anyway (all their code is
#    libgreen's own binary, never a safe point);
#  - the fork tests (sched/fork_*): TSan gives up on the child of a
#    multi-threaded fork (it ignores only the forking thread's accesses,
#    not those of the fibers it switches to there) and reports nonsense.
# handle_segv=0: the stack suites expect to die by SIGSEGV (guard pages).
TSAN_SUPP := $(abspath tests/unit/tsan/suppressions.txt)
TSAN_SKIP := sched/fork_*
tsan: check-deps
	$(Q)$(MAKE) --no-print-directory MODE=tsan unit
	$(Q)set -e; for t in $(patsubst tests/unit/%.cpp,$(BUILD)/tsan/unit/%,$(wildcard tests/unit/*.cpp)); do \
		echo "== $$t"; rc=0; \
		TSAN_OPTIONS="handle_segv=0 history_size=4 suppressions=$(TSAN_SUPP)" \
			timeout -s KILL 900 $$t --jobs 1 --filter '!($(TSAN_SKIP))' >$$t.log 2>&1 || rc=$$?; \
		grep -v '^    #\|^  \|^$$' $$t.log | tail -3; \
		if [ $$rc != 0 ] || grep -q 'ThreadSanitizer: \(data race\|reported\|SEGV\|lock-order\|heap-use\|signal\)\|ERROR: ThreadSanitizer' $$t.log; then \
			echo "make tsan: $$t failed (exit $$rc); full output in $$t.log"; exit 1; fi; \
	done

format:
	$(Q)clang-format -i core/*.cpp core/*.h shim/*.cpp shim/*.h preload/*.cpp preload/*.h

clean:
	$(Q)rm -rf $(BUILD)
	$(Q)$(if $(wildcard ebpf/Makefile),$(MAKE) --no-print-directory -C ebpf clean BUILD=$(abspath $(BUILD))/ebpf)

.DELETE_ON_ERROR:
