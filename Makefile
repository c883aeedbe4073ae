# coretool: `make demo` runs the main job on a sample core, `make check` runs every test.
CC ?= gcc
PKGS := libdw libelf
DEPS_STAMP := build/.deps-ok
CFLAGS_BASE := -std=c11 -Wall -Wextra -Werror -Wno-format-truncation -O2 -g -fPIC
CFLAGS_PKG = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS_PKG = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

LIB_SRCS := $(filter-out coretool/main.c coretool/cmd_%.c,$(wildcard coretool/*.c))
CLI_SRCS := coretool/main.c $(wildcard coretool/cmd_*.c)
LIB_OBJS := $(patsubst coretool/%.c,build/obj/%.o,$(LIB_SRCS))
CLI_OBJS := $(patsubst coretool/%.c,build/obj/%.o,$(CLI_SRCS))
HDRS := $(wildcard coretool/*.h)

.PHONY: all deps toolchains samples demo check test clean
all: build/coretool build/libcoretool.so build/libcoretool.a

# Installs what is missing (Debian packages); fast when all is there.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	bash scripts/install-deps.sh
	@mkdir -p build && touch $@

build/obj/%.o: coretool/%.c $(HDRS) | $(DEPS_STAMP)
	@mkdir -p build/obj
	$(CC) $(CFLAGS_BASE) $(CFLAGS_PKG) $(CFLAGS) -c $< -o $@

build/libcoretool.a: $(LIB_OBJS)
	ar rcs $@ $^

build/libcoretool.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(LIBS_PKG) $(LDFLAGS)

build/coretool: $(CLI_OBJS) build/libcoretool.a
	$(CC) -o $@ $(CLI_OBJS) build/libcoretool.a $(LIBS_PKG) $(LDFLAGS)

toolchains: $(DEPS_STAMP)
	bash scripts/toolchains.sh

samples: toolchains
	bash samples/build.sh

demo: all samples
	@echo "== coretool info (the core's own view) =="
	./build/coretool info build/samples/go1.26/c-uaf-map/core; true

check: all samples
	bash tests/run.sh

test: check

clean:
	rm -rf build/obj build/coretool build/libcoretool.so build/libcoretool.a
