# vigil - plain Makefile.  `make` builds everything into build/,
# `make test` runs every test, `make run` starts the demo.
# Variants: `make SAN=asan` (ASan+UBSan) into build/asan,
#           `make SAN=tsan` (ThreadSanitizer) into build/tsan.

PREFIX		?= /usr/local
DESTDIR		?=
SAN		?=
BUILD		?= build$(if $(SAN),/$(SAN))
CC		?= cc
PKGS		 = libcurl libevent msgpack libcjson inih
VERSION		 = 0.1.0

CFLAGS_BASE	 = -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
		   -fno-strict-aliasing -DVIGIL_VERSION='"$(VERSION)"' \
		   -Iinclude -Icommon
ifeq ($(SAN),asan)
SANFLAGS	 = -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),tsan)
SANFLAGS	 = -fsanitize=thread -fno-omit-frame-pointer
endif

# pkg-config runs only once the libraries are there (see `deps`).
DEPS_MISSING	:= $(shell pkg-config --exists $(PKGS) 2>/dev/null || echo yes)
ifeq ($(DEPS_MISSING),)
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS))
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS))
endif
CFLAGS		?=
LDFLAGS		?=
ALL_CFLAGS	 = $(CFLAGS_BASE) $(SANFLAGS) $(PKG_CFLAGS) $(CFLAGS)
LIBS		 = $(PKG_LIBS) -lm -lpthread -lrt

# Process directories: name:dir.  Each dir has main.c; its other sources
# go into an archive that the unit tests can link too.  A role is one
# line here; a dir without sources yet is skipped.
ROLES		 = vigild:supervisor vigil-prober:prober \
		   vigil-aggregator:aggregator vigil-api:api vigilctl:ctl \
		   vigil-sim:tests/sim
role_name	 = $(word 1,$(subst :, ,$(1)))
role_dir	 = $(word 2,$(subst :, ,$(1)))
PRESENT_ROLES	:= $(foreach r,$(ROLES),$(if $(wildcard $(call role_dir,$(r))/main.c),$(r)))
PROGRAMS	:= $(foreach r,$(PRESENT_ROLES),$(BUILD)/$(call role_name,$(r)))

COMMON_SRC	:= $(wildcard common/*.c)
COMMON_OBJ	:= $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIBCOMMON	 = $(BUILD)/libvigil.a

dir_lib		 = $(BUILD)/lib$(subst /,_,$(1)).a
dir_objs	 = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
DIR_LIBS	:= $(foreach r,$(PRESENT_ROLES),$(call dir_lib,$(call role_dir,$(r))))

UNIT_SRC	:= $(wildcard tests/unit/test_*.c)
UNIT_BIN	:= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC	:= $(wildcard bench/bench_*.c)
BENCH_BIN	:= $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
TOOL_SRC	:= $(wildcard tests/tools/*.c)
TOOL_BIN	:= $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
EXAMPLE_SRC	:= $(wildcard examples/*.c)
EXAMPLE_BIN	:= $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

.PHONY: all deps deps-test test test-unit run bench fuzz clean install \
	deb rpm programs tests

all: $(if $(DEPS_MISSING),deps-then-all,programs tests)

deps-then-all: deps
	$(MAKE) all

programs: $(LIBCOMMON) $(PROGRAMS) $(EXAMPLE_BIN)
tests: $(UNIT_BIN) $(BENCH_BIN) $(TOOL_BIN)

# ---- dependencies ------------------------------------------------------

deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

# ---- compilation -------------------------------------------------------

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define ROLE_RULES
$(call dir_lib,$(2)): $(call dir_objs,$(2))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
$(BUILD)/$(1): $(BUILD)/obj/$(2)/main.o $(call dir_lib,$(2)) $(LIBCOMMON)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $$@ $$^ $(LIBS)
endef
$(foreach r,$(PRESENT_ROLES),$(eval $(call ROLE_RULES,$(call role_name,$(r)),$(call role_dir,$(r)))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(DIR_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(DIR_LIBS) $(LIBCOMMON) $(LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(DIR_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(DIR_LIBS) $(LIBCOMMON) $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(DIR_LIBS) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $< $(DIR_LIBS) $(LIBCOMMON) $(LIBS)

$(BUILD)/examples/%: examples/%.c include/vigil/vigil.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -Werror -O2 -Iinclude -o $@ $< -lrt

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- tests ---------------------------------------------------------------
# The default build, then the ASan+UBSan build, then the ThreadSanitizer
# build of the lock-free tests; one runner prints one closing line.

TSAN_TESTS	 = test_ring_threads

test: deps-test
	$(MAKE) all
	$(MAKE) SAN=asan tests programs
	$(MAKE) SAN=tsan $(addprefix build/tsan/tests/,$(TSAN_TESTS))
	sh tests/run.sh "default:build:unit,e2e" "asan:build/asan:unit,e2e" \
	    "tsan:build/tsan:$(TSAN_TESTS)"

test-unit: all
	sh tests/run.sh "default:build:unit"

# ---- demo, benchmarks ------------------------------------------------------

run: all
	sh tools/demo.sh

bench: all
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build

# install, deb and rpm live beside the packaging they serve.
-include packaging/install.mk
