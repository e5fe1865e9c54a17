# vigil - plain Makefile.  `make` builds everything into build/,
# `make test` runs every test, `make run` starts the demo.
# Variants: `make SAN=asan` (ASan+UBSan) into build/asan,
#           `make SAN=tsan` (ThreadSanitizer) into build/tsan.

PREFIX		?= /usr/local
DESTDIR		?=
SAN		?=
BUILD		?= build$(if $(SAN),/$(SAN))
CC		?= cc
PKGS		 = libcurl libevent libevent_openssl msgpack libcjson inih libssl libcrypto zlib
VERSION		 = 0.1.0

CFLAGS_BASE	 = -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
		   -fno-strict-aliasing -DVIGIL_VERSION='"$(VERSION)"' \
		   -DVIGIL_LIBEXECDIR='"$(LIBEXECDIR)"' -Iinclude -Icommon
ifeq ($(SAN),asan)
SANFLAGS	 = -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),tsan)
# GCC warns that TSan does not model atomic_thread_fence; every shared
# word is accessed atomically, so the fences hide no race (clang has no
# such warning and rejects the flag).
SANFLAGS	 = -fsanitize=thread -fno-omit-frame-pointer \
		   $(if $(findstring clang,$(CC)),,-Wno-tsan)
endif
# libFuzzer: clang, coverage on every object, the fuzzer's main only in
# the targets (see `fuzz` below).
ifeq ($(SAN),fuzz)
CC		 = clang
SANFLAGS	 = -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-omit-frame-pointer -fno-sanitize-recover=undefined
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
# libwslay (WebSocket framing) ships no .pc file in Debian.
LIBS		 = $(PKG_LIBS) -lwslay -lm -lpthread -lrt

# Process directories: name:dir.  Each dir has main.c; its other sources
# go into an archive that the unit tests can link too.  A role is one
# line here; a dir without sources yet is skipped.
ROLES		 = vigild:supervisor vigil-prober:prober \
		   vigil-aggregator:aggregator vigil-api:api vigilctl:ctl \
		   vigil-sim:tests/sim vigil-statuspage:statuspage
comma		:= ,
empty		:=
space		:= $(empty) $(empty)
role_name	 = $(word 1,$(subst :, ,$(1)))
role_dir	 = $(word 2,$(subst :, ,$(1)))
PRESENT_ROLES	:= $(foreach r,$(ROLES),$(if $(wildcard $(call role_dir,$(r))/main.c),$(r)))
PROGRAMS	:= $(foreach r,$(PRESENT_ROLES),$(BUILD)/$(call role_name,$(r)))

COMMON_SRC	:= $(wildcard common/*.c)
COMMON_OBJ	:= $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIBCOMMON	 = $(BUILD)/libvigil.a

dir_lib		 = $(BUILD)/lib$(subst /,_,$(1)).a
dir_objs	 = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))

UNIT_SRC	:= $(wildcard tests/unit/test_*.c)
UNIT_BIN	:= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC	:= $(wildcard bench/bench_*.c)
BENCH_BIN	:= $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
TOOL_SRC	:= $(wildcard tests/tools/*.c)
TOOL_BIN	:= $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
EXAMPLE_SRC	:= $(wildcard examples/*.c)
EXAMPLE_BIN	:= $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

.PHONY: all deps deps-test deps-bench fuzz-regress soak test test-unit run bench fuzz clean install \
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

deps-bench:
	@sh tools/deps.sh bench

# ---- compilation -------------------------------------------------------

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

LIB_ROLES	:= $(foreach r,$(ROLES),$(if $(wildcard $(call role_dir,$(r))/*.c),$(r)))

define LIB_RULE
$(call dir_lib,$(1)): $(call dir_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef
define ROLE_RULE
$(BUILD)/$(1): $(BUILD)/obj/$(2)/main.o $(call dir_lib,$(2)) $(LIBCOMMON)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $$@ $$^ $(LIBS)
endef
$(foreach r,$(LIB_ROLES),$(eval $(call LIB_RULE,$(call role_dir,$(r)))))
$(foreach r,$(PRESENT_ROLES),$(eval $(call ROLE_RULE,$(call role_name,$(r)),$(call role_dir,$(r)))))

# What each test, tool, benchmark and fuzz target links besides
# libvigil.a: one row a binary, NAME=DIR[,DIR...] naming the role dirs
# whose archives it needs, or NAME= for libvigil.a alone.  Nothing else
# is linked, so that one role's half-finished code never breaks another
# role's tests; and a binary without a row stops make with an error
# naming it, instead of linking too little and failing far from the
# cause.
LINKS		 = \
		   test_addr= \
		   test_agg_main=aggregator \
		   test_alert=aggregator \
		   test_api=api \
		   test_api_metrics=api \
		   test_api_views=api \
		   test_cache=api \
		   test_circuit=aggregator \
		   test_classify=prober,tests/sim \
		   test_conf= \
		   test_control_peer=supervisor \
		   test_check=prober \
		   test_child= \
		   test_ctl=ctl \
		   test_curlev= \
		   test_engine=aggregator \
		   test_engine_traffic=aggregator \
		   test_fdpass= \
		   test_frame= \
		   test_gen=prober \
		   test_hist= \
		   test_log= \
		   test_persist=aggregator \
		   test_priv= \
		   test_prober=prober \
		   test_prober_exec=prober \
		   test_ratelimit=prober,tests/sim \
		   test_readmodel= \
		   test_ring= \
		   test_ring_kill= \
		   test_ring_threads= \
		   test_reports= \
		   test_reports_threads= \
		   test_segment= \
		   test_settings= \
		   test_sim=tests/sim \
		   test_sim_gen=prober,tests/sim \
		   test_status=aggregator \
		   test_statuspage=statuspage \
		   test_stream=prober \
		   test_trend=aggregator \
		   test_vantage=aggregator \
		   test_window=aggregator \
		   curlloop= \
		   peek= \
		   segdump= \
		   segfill=api \
		   vreport= \
		   bench_hist= \
		   bench_metrics=api \
		   bench_plainhttp=api \
		   bench_ring= \
		   bench_report= \
		   bench_seqlock= \
		   fuzz_classify=prober \
		   fuzz_conf= \
		   fuzz_frame= \
		   fuzz_headers=prober \
		   fuzz_persist=aggregator \
		   fuzz_reports= \
		   fuzz_query=api \
		   fuzz_segment= \
		   fuzz_statuspage=statuspage \
		   fuzz_stream=prober \
		   fuzz_validate=prober
link_row	 = $(filter $(1)=%,$(LINKS))
link_dirs	 = $(if $(call link_row,$(1)),$(subst $(comma),$(space),$(patsubst $(1)=%,%,$(call link_row,$(1)))),$(error $(1) has no row in the Makefile's LINKS: add "$(1)=DIR,..." naming the role dirs it links, or "$(1)=" for libvigil.a alone))
link_libs	 = $(foreach d,$(call link_dirs,$(1)),$(call dir_lib,$(d)))

define LINK_RULE
$(BUILD)/$(1)/$(2): $(BUILD)/obj/$(3)/$(2).o $(call link_libs,$(2)) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $$@ $$^ $(LIBS)
endef
$(foreach t,$(UNIT_SRC),$(eval $(call LINK_RULE,tests,$(basename $(notdir $(t))),tests/unit)))
$(foreach t,$(TOOL_SRC),$(eval $(call LINK_RULE,tests/tools,$(basename $(notdir $(t))),tests/tools)))
$(foreach t,$(BENCH_SRC),$(eval $(call LINK_RULE,bench,$(basename $(notdir $(t))),bench)))

FUZZ_SRC	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES	:= $(basename $(notdir $(FUZZ_SRC)))
define FUZZ_RULE
$(BUILD)/fuzz/$(1): $(BUILD)/obj/tests/fuzz/$(1).o $(call link_libs,$(1)) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$(CC) $(SANFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $$@ $$^ $(LIBS)
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call FUZZ_RULE,$(t))))

# What an example links beyond the header: EXAMPLE_LIBS_NAME.
EXAMPLE_LIBS_router = -lcurl
$(BUILD)/examples/%: examples/%.c include/vigil/vigil.h
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -Wall -Wextra -Werror -O2 -Iinclude -o $@ $< \
	    $(EXAMPLE_LIBS_$*) -lrt

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- tests ---------------------------------------------------------------
# The default build, then the ASan+UBSan build, then the ThreadSanitizer
# build of the lock-free tests; one runner prints one closing line.

# Tests of the lock-free code that also run under ThreadSanitizer.
TSAN_TESTS	:= $(basename $(notdir $(wildcard tests/unit/test_ring_threads.c tests/unit/test_reports_threads.c)))

# The builds use both cores of the CI machine (JOBS), and so do the
# tests: two lanes at once (tests/run.sh --lanes), the plain build's in
# one, the sanitizers' in the other.
JOBS		?= 2

test: deps-test deps-pkg
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) fuzz-regress
	$(MAKE) -j$(JOBS) SAN=asan tests programs
	$(if $(TSAN_TESTS),$(MAKE) -j$(JOBS) SAN=tsan $(addprefix build/tsan/tests/,$(TSAN_TESTS)))
	sh tests/run.sh --lanes "default:build:unit,e2e,pkg,soak" \
	    "asan:build/asan:unit,e2e $(if $(TSAN_TESTS),tsan:build/tsan:$(subst $(space),$(comma),$(TSAN_TESTS)))"

test-unit: all
	sh tests/run.sh "default:build:unit"

# ---- demo, benchmarks ------------------------------------------------------

run: all
	sh tools/demo.sh

# Every benchmark, one at a time (build/bench/bench_*, bench_api.sh,
# bench_scale.py, bench_detect.py); prints each figure beside its
# baseline and rewrites docs/performance.md.  About 23 minutes.
bench: all deps-bench
	@BUILD=$(BUILD) VIGIL_BUILD=$(BUILD) /usr/bin/python3 bench/report.py

# Every input kept in tests/fuzz/corpus (seeds and crashes found and
# fixed) runs once through its target: a regression test in `make test`.
fuzz-regress: deps-test
	$(MAKE) SAN=fuzz $(addprefix build/fuzz/fuzz/,$(FUZZ_NAMES))
	@set -e; for f in $(FUZZ_NAMES); do \
	    if build/fuzz/fuzz/$$f -runs=0 tests/fuzz/corpus/$$f \
	        >build/fuzz/$$f.regress.log 2>&1; then \
	        echo "fuzz-regress: $$f: $$(ls tests/fuzz/corpus/$$f | wc -l) inputs ok"; \
	    else tail -30 build/fuzz/$$f.regress.log; exit 1; fi; \
	done

# The soak (docs/reliability.md): 30 minutes, 50 providers at 1 s, faults,
# HTTP load, prober kills; CSV and plot in build/soak.
soak: all deps-bench
	VIGIL_BUILD=build /usr/bin/python3 tests/soak/soak.py --minutes 30 \
	    --providers 50 --csv build/soak/soak.csv --png build/soak/soak.png

# `make fuzz` runs every libFuzzer target for FUZZ_TIME seconds, from its
# seed corpus tests/fuzz/corpus/NAME (kept) plus what it finds (in
# build/fuzz/corpus, thrown away by `make clean`).
FUZZ_TIME	?= 60
fuzz: deps-test
	$(MAKE) SAN=fuzz $(addprefix build/fuzz/fuzz/,$(FUZZ_NAMES))
	@set -e; for f in $(FUZZ_NAMES); do \
	    mkdir -p build/fuzz/corpus/$$f; \
	    echo "== $$f ($(FUZZ_TIME) s)"; \
	    seeds=; [ -d tests/fuzz/corpus/$$f ] && seeds=tests/fuzz/corpus/$$f; \
	    if build/fuzz/fuzz/$$f -max_total_time=$(FUZZ_TIME) \
	        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
	        build/fuzz/corpus/$$f $$seeds >build/fuzz/$$f.log 2>&1; then \
	        grep -E '^stat::(number_of_executed_units|peak_rss_mb)' \
	            build/fuzz/$$f.log; \
	    else tail -40 build/fuzz/$$f.log; exit 1; fi; \
	done

clean:
	rm -rf build

# install, deb and rpm live beside the packaging they serve.
-include packaging/install.mk
