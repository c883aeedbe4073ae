# coretool: `make demo` runs the main job on a sample core, `make check` runs every test.
CC ?= gcc
# libdebuginfod (binaries by build ID, lib/target/target_find.c) is dlopened, as libdwfl does:
# only its header is needed to build.
# libzstd liblz4 liblzma zlib libzip: packed cores (lib/base/unpack.c); json-c: their metadata.
PKGS := libdw libelf libzstd liblz4 liblzma zlib libzip json-c
DEPS_STAMP := build/.deps-ok
# Messages are cut to their bounded buffers on purpose: gcc's truncation
# warning is off (clang has no such warning and would reject the option).
NO_TRUNC_WARN := $(shell $(CC) -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror $(NO_TRUNC_WARN) -O2 -g -fPIC -fvisibility=hidden
# Capstone 5 from Debian trixie, static (scripts/capstone.sh says why not Debian 12's).
CAPSTONE := build/capstone/usr
CFLAGS_PKG = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I$(CAPSTONE)/include
LIBS_PKG = $(CAPSTONE)/lib/x86_64-linux-gnu/libcapstone.a $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Layers, lowest first. A layer's code sees its own headers and those of the
# layers below it only (include paths), so an upward include does not compile;
# scripts/check_layers.py also fails include circles between modules.
#   lib/base      errors, memory sources, cache, the JSON/text writer
#   lib/elf       the core file, DWARF, symbols
#   lib/go        the Go runtime: layout, heap, goroutines, maps, values
#   lib/cheap     glibc malloc
#   lib/target    a core or process with its files and models
#   lib/analysis  classify, holders, fault, insn, unwind, triage, cgocheck
#   out           renderers of the analyses
#   cli           the verbs and the command line (main.c is only in the CLI)
#   api           the exported ct_* API (libcoretool.so exports nothing else)
LAYER_DIRS := lib/base lib/elf lib/go lib/cheap lib/target lib/analysis out cli api
# What each layer may include: itself and the layers below it (go and cheap
# are side by side: neither sees the other).
INC_lib/base     := lib/base
INC_lib/elf      := $(INC_lib/base) lib/elf
INC_lib/go       := $(INC_lib/elf) lib/go
INC_lib/cheap    := $(INC_lib/elf) lib/cheap
INC_lib/target   := $(INC_lib/elf) lib/go lib/cheap lib/target
INC_lib/analysis := $(INC_lib/target) lib/analysis
INC_out          := $(INC_lib/analysis) out
INC_cli          := $(INC_out) cli
INC_api          := $(INC_cli) api
# The directory of a source below coretool/ (coretool/lib/go/x.c -> lib/go).
layer_of = $(patsubst coretool/%/,%,$(dir $(1)))
inc_of = $(addprefix -Icoretool/,$(INC_$(call layer_of,$(1))))
# Everything below the API, for the tests' and the fuzzers' include path.
INC_ALL := $(addprefix -Icoretool/,$(INC_cli))

ALL_SRCS := $(foreach d,$(LAYER_DIRS),$(wildcard coretool/$(d)/*.c))
MAIN_SRCS := coretool/cli/main.c
VERB_SRCS := $(filter-out $(MAIN_SRCS),$(wildcard coretool/cli/*.c))
API_SRCS := $(wildcard coretool/api/*.c)
# The static library the tests link: the lib and out layers. libcoretool.so
# adds the verbs and the API on top; the CLI is main.c and the verbs over the
# static library.
LIB_SRCS := $(filter-out $(MAIN_SRCS) $(VERB_SRCS) $(API_SRCS),$(ALL_SRCS))
LIB_OBJS := $(patsubst coretool/%.c,build/obj/%.o,$(LIB_SRCS))
API_OBJS := $(patsubst coretool/%.c,build/obj/%.o,$(VERB_SRCS) $(API_SRCS))
CLI_SRCS := $(MAIN_SRCS) $(VERB_SRCS)
CLI_OBJS := $(patsubst coretool/%.c,build/obj/%.o,$(CLI_SRCS))
HDRS := $(foreach d,$(LAYER_DIRS),$(wildcard coretool/$(d)/*.h))

.PHONY: glibc all deps toolchains delve samples gotests demo check test clean
all: build/coretool build/libcoretool.so build/libcoretool.a

# Installs what is missing (Debian packages); fast when all is there.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh scripts/capstone.sh
	bash scripts/install-deps.sh
	bash scripts/capstone.sh
	@mkdir -p build && touch $@

build/obj/%.o: coretool/%.c $(HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(call inc_of,$<) $(CFLAGS_PKG) $(CFLAGS) -c $< -o $@

build/libcoretool.a: $(LIB_OBJS)
	rm -f $@.tmp && ar rcs $@.tmp $^ && mv $@.tmp $@

# Link to a temporary name, then rename: a running test keeps its old binary.
# The static Capstone's own symbols stay inside (only the ct_* API is exported).
build/libcoretool.so: $(LIB_OBJS) $(API_OBJS)
	$(CC) -shared -o $@.tmp $^ $(LIBS_PKG) -Wl,--exclude-libs,libcapstone.a $(LDFLAGS) && mv $@.tmp $@

build/coretool: $(CLI_OBJS) build/libcoretool.a
	$(CC) -o $@.tmp $(CLI_OBJS) build/libcoretool.a $(LIBS_PKG) $(LDFLAGS) && mv $@.tmp $@

toolchains: $(DEPS_STAMP)
	bash scripts/toolchains.sh

# Another glibc than the machine's (Debian's 2.41), for the C sample. After the
# toolchains: both use the same private apt state, which is not safe to share
# between two apt-get runs at once (make -j).
glibc: $(DEPS_STAMP) toolchains
	bash scripts/glibc.sh

# Delve, pinned, from the Go module proxy (scripts/delve.sh): the samples dump a running
# program with it. After the toolchains: it is built with their Go 1.26.
delve: toolchains
	bash scripts/delve.sh

# The kernel's cores, then the same scenarios cored by gdb (gcore at the fatal signal; gdb -p
# and Delve's dump on a waiting one) from the same binaries (BIN_FROM: not built again).
samples: toolchains glibc delve
	bash samples/build.sh
	bash samples/systemd-cores.sh
	bash samples/libsuite/build.sh
	bash samples/bigmap/build.sh
	CORE_MODE=gdb SAMPLES_OUT=build/samples-gcore BIN_FROM=build/samples DLV=build/delve/dlv bash samples/build.sh
	bash samples/gdbvalues.sh
	CORE_MODE=gdb SAMPLES_OUT=build/samples-gdbvalues-gcore bash samples/gdbvalues.sh
	bash samples/heapgraph.sh

# The main job on sample cores: what the core says, then what really happened.
DEMO_CORE := build/samples/go1.26/c-uaf-map/core
demo: all samples
	@echo "== coretool info $(DEMO_CORE)"
	@./build/coretool info $(DEMO_CORE) || true
	@echo
	@echo "== coretool triage $(DEMO_CORE)"
	@./build/coretool triage $(DEMO_CORE) || true
	@echo
	@echo "== coretool triage --summary over every sample core"
	@./build/coretool triage --summary --jobs 2 build/samples/*/*/core | sed -n '/^summary:/,$$p' || true

# Go's own runtime test binary, built by each toolchain (scripts/go-gdb-tests.sh): its TestGdb*
# run with coretool loaded into gdb (tests/test_go_gdb.py, tests/gdbwrap/gdb).
gotests: toolchains
	bash scripts/go-gdb-tests.sh

check: all samples gotests
	bash tests/run.sh

test: check

clean:
	rm -rf build/obj build/coretool build/libcoretool.so build/libcoretool.a

# ==== Untrusted input: sanitizers, fuzzing, corrupted cores (issue 8) ====
# Kept in one block; nothing above depends on it.
#   make asan      the CLI and library with ASan+UBSan in build/asan/
#   make fuzz      builds the libFuzzer harnesses (tests/fuzz/) and runs each for
#                  FUZZ_SECONDS (default 60) over seeds cut from the sample cores;
#                  crashes land in build/fuzz/crashes/<harness>/
#   make fuzz-regress  replays tests/fuzz/regress/<harness>/* (make check does it too)
#   make corrupt   the corrupted-core corpus in build/corrupt/ (scripts/corrupt_cores.py)
SAN_CC ?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo gcc)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_WARN := -Wall -Wextra $(if $(findstring clang,$(SAN_CC)),,-Wno-format-truncation)
SAN_CFLAGS := -std=c11 $(SAN_WARN) -O1 -g $(SAN_FLAGS)
ASAN_LIB_OBJS := $(patsubst coretool/%.c,build/asan/obj/%.o,$(LIB_SRCS))
ASAN_CLI_OBJS := $(patsubst coretool/%.c,build/asan/obj/%.o,$(CLI_SRCS))

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJS := $(patsubst coretool/%.c,build/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_BINS := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_HARNESSES))

.PHONY: asan fuzz fuzz-build fuzz-seeds fuzz-regress corrupt
asan: build/asan/coretool

build/asan/obj/%.o: coretool/%.c $(HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) $(call inc_of,$<) $(CFLAGS_PKG) -c $< -o $@

build/asan/libcoretool.a: $(ASAN_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

build/asan/coretool: $(ASAN_CLI_OBJS) build/asan/libcoretool.a
	$(SAN_CC) $(SAN_FLAGS) -o $@ $(ASAN_CLI_OBJS) build/asan/libcoretool.a $(LIBS_PKG)

build/fuzz/obj/%.o: coretool/%.c $(HDRS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(call inc_of,$<) $(CFLAGS_PKG) -c $< -o $@

build/fuzz/libcoretool.a: $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h build/fuzz/libcoretool.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(INC_ALL) $(CFLAGS_PKG) \
		-DCT_FUZZ_ROOT='"$(CURDIR)"' -o $@ $< build/fuzz/libcoretool.a $(LIBS_PKG)

fuzz-build: $(FUZZ_BINS)

# The harnesses record their own seeds from the sample cores (CT_FUZZ_RECORD).
fuzz-seeds: fuzz-build
	python3 tests/fuzz/mkseeds.py

fuzz: fuzz-build fuzz-seeds
	bash tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-regress: fuzz-build
	bash tests/fuzz/run.sh regress 0 $(FUZZ_HARNESSES)

corrupt: all
	python3 scripts/corrupt_cores.py
# ==== end of issue 8 block ====

# ==== Benchmarks against gdb, Delve and viewcore (issue 7) ====
# Kept in one block; nothing above depends on it, and `make check` does not run it.
#   make bench   builds bench/sample with Go 1.26 and 1.23 and crashes it into multi-GiB cores
#                in build/bench/<go>/ (once; needs ~6 GiB of disk), installs the pinned anchors
#                into build/bench/bin/, runs every task with coretool and each anchor (each
#                anchor run bounded by BENCH_TIMEOUT, default 600 s) and writes bench/RESULTS.md.
#                See bench/README.md.
.PHONY: bench
bench: all toolchains
	bash bench/mkcores.sh
	bash bench/anchors.sh
	python3 bench/run.py
# ==== end of issue 7 block ====

# The include path of everything below the API (tests/run.sh compiles the unit tests with it).
.PHONY: print-inc print-cflags print-libs
print-inc:
	@echo $(INC_ALL)
# What a program linking build/libcoretool.a needs besides (the unit tests, the probes).
print-cflags:
	@echo $(CFLAGS_PKG)
print-libs:
	@echo $(LIBS_PKG)
