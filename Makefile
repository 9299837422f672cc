# libmanushya — plain Makefile.
#   make                 library (shared + static) and the manushya CLI under build/
#   make check           every test (starts the servers it needs); SAN=1 for ASan+UBSan
#   make check-build     what make check runs, built but not run
#   make demo            the main job on the embedded default
#   make deps            installs the Debian packages the build needs (scripts/deps.sh)
#   WITH_POSTGRES=0 WITH_REDIS=0 WITH_CURL=0   leave out a backend and the library it links
#                        (each on its own; default all 1); use a build dir of its own (B=...)
#   WITH_SERVE=0         a CLI without `manushya serve` (and without libmicrohttpd, zlib)
#   make abi-check       the shared library's ABI against the stored baseline (tests/abi/)
#   make abi-baseline    writes that baseline (and the frozen header of a MAJOR.0 release)
#   make install         PREFIX=/usr/local DESTDIR=
#   make bench-ingest    ingest benchmark on a fresh embedded database
#   make bench-ingest-pg  PostgreSQL ingest against a raw binary COPY of the same rows, on a
#                        private server (bench/ingest_pg.sh; BENCH_N, default 100000)
#   make bench-policy    policy decisions/s: the engine (uncached, cached; bench/), then the
#                        public call
#   make bench-ann       vector index benchmark on generated 100k x 384 data (ANN_N=1000000: 1M)
#   make bench-ann-hnswlib  the same, then Debian's hnswlib on the same files, side by side
#   make bench-10m       the index at 10,000,000 x 384, int8 codes (BENCH_10M_N=1000000: 1M)
#   make bench-ratelimit  rate-limit decisions/s in process, over Redis, and redis-benchmark
#   make bench-python    one search call from the Python package against the same C call
#   make bench-serve     manushya serve under wrk: the guide's mixed load at 1000 connections,
#                        then each route, then 1000 users with think time, then one
#                        connection (bench/serve/run.sh)
#   make fuzz            every libFuzzer harness (tests/fuzz) for FUZZ_SECONDS (default 60) each

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
PCDIR   ?= $(LIBDIR)/pkgconfig

VERSION := $(shell sed -n 's/^\#define MN_VERSION "\(.*\)"/\1/p' include/manushya.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

CC      ?= cc
OPT     ?= -O2
ifeq ($(SAN),1)
  B       ?= build-san
  SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
  B       ?= build
  SANFLAGS =
endif

# ---- optional backends ----------------------------------------------------------------------
# Each switch WITH_X (default 1) adds a backend: X_PKG is the library it links (pkg-config
# name), X_LIB its flag in manushya.pc, X_SRCS its sources (and the test code that talks to
# it), X_TESTS the test programs that need it, left out without it (make check says so).
# The code learns the switches from $(B)/gen/build_options.h; only the backend registries
# read it.
BACKENDS := POSTGRES REDIS CURL
WITH_POSTGRES ?= 1
WITH_REDIS    ?= 1
WITH_CURL     ?= 1
POSTGRES_PKG   := libpq
POSTGRES_LIB   :=
POSTGRES_SRCS  := $(wildcard lib/store/postgres/*.c) $(B)/gen/migrations_postgres.c \
                  tests/support/raw_sql.c
POSTGRES_TESTS := test_store_pg test_store_pglite test_jobs test_erase test_crypt test_audit test_maintenance \
                  test_search_hybrid
REDIS_PKG      := hiredis
REDIS_LIB      := -lhiredis
REDIS_SRCS     := $(wildcard lib/redis/*.c) lib/ratelimit/redis_counter.c lib/cache/redis.c
REDIS_TESTS    := test_ratelimit_redis test_cache_redis
CURL_PKG       := libcurl
CURL_LIB       :=
CURL_SRCS      := $(wildcard lib/embed/openai*.c) lib/webhook/post.c lib/core/curl.c tests/support/embed_server.c
CURL_TESTS     := test_embed_http test_jobs test_secrets

BUILT         := $(foreach b,$(BACKENDS),$(if $(filter 1,$(WITH_$(b))),$(b)))
UNBUILT       := $(filter-out $(BUILT),$(BACKENDS))
OPTIONAL_PKGS := $(foreach b,$(BUILT),$($(b)_PKG))
UNBUILT_SRCS  := $(foreach b,$(UNBUILT),$($(b)_SRCS))
UNBUILT_TESTS := $(sort $(foreach b,$(UNBUILT),$($(b)_TESTS)))
BUILD_OPTIONS := $(foreach b,$(BACKENDS),WITH_$(b)=$(WITH_$(b)))

# ---- the HTTP server ------------------------------------------------------------------------
# `manushya serve` (serve/) is part of the CLI, not of the library: WITH_SERVE=0 leaves it and
# its libraries (libmicrohttpd, zlib) out of the CLI; the library is the same either way.
WITH_SERVE ?= 1
# libmicrohttpd is loaded when `serve` starts (serve/mhd.c), not linked, for the same reason as
# libpq and libcurl below: serve/mhd.c uses the library's loader (lib/core/dl.c, compiled into
# the CLI too: a generic helper with no state of the library's).
ifeq ($(WITH_SERVE),1)
  SERVE_OBJS   = $(patsubst %.c,$(B)/obj/%.o,$(sort $(wildcard serve/*.c))) $(B)/obj/serve/dl.o
  SERVE_CFLAGS = -DMN_CLI_SERVE $(shell pkg-config --cflags libmicrohttpd zlib 2>/dev/null)
  SERVE_LIBS   = $(shell pkg-config --libs zlib 2>/dev/null)
endif

# Deferred (=, not :=): on a fresh machine the packages appear only once deps-ok has run.
DEPS_PKGS  := sqlite3 libcjson libsodium $(OPTIONAL_PKGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(DEPS_PKGS) 2>/dev/null)
# libpq and libcurl are not linked: the library loads them when a handle first needs one
# (lib/core/dl.h), so that a process that never does (an embedded one-shot CLI call) does not
# pay the dynamic loader for them and their ~30 libraries at every start. Only their headers
# are needed to build.
LOADED_PKGS := libpq libcurl
PKG_LIBS   = $(shell pkg-config --libs $(filter-out $(LOADED_PKGS),$(DEPS_PKGS)) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread \
             -Iinclude -Ilib -I$(B)/gen $(PKG_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

LIB_SRCS := $(filter-out $(UNBUILT_SRCS),$(sort $(wildcard lib/*/*.c lib/*/*/*.c)) \
              $(B)/gen/migrations_sqlite.c $(B)/gen/migrations_postgres.c)
LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS:$(B)/%=%))
CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(CLI_SRCS))
UNIT_SRCS := $(filter-out $(UNBUILT_TESTS:%=tests/unit/%.c),$(sort $(wildcard tests/unit/test_*.c)))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(B)/bench/%,$(sort $(wildcard bench/*.c)))
ifeq ($(WITH_POSTGRES),0)
BENCH_BINS := $(filter-out $(B)/bench/bench_pg_copy,$(BENCH_BINS))
endif
CXX_SRCS  := $(sort $(wildcard tests/cxx/test_*.cc))
CXX_BINS  := $(patsubst tests/cxx/%.cc,$(B)/tests/%,$(CXX_SRCS))
TEST_SUPPORT := $(patsubst %.c,$(B)/obj/%.o,$(filter-out $(UNBUILT_SRCS), \
                  $(sort $(wildcard tests/support/*.c))))

SONAME  := libmanushya.so.$(SOMAJOR)
SHLIB   := $(B)/libmanushya.so.$(VERSION)
STLIB   := $(B)/libmanushya.a
CLI     := $(B)/manushya

.PHONY: all deps check check-build demo install uninstall clean bench-ingest bench-policy

all: deps-ok $(SHLIB) $(B)/libmanushya.so $(STLIB) $(CLI)

# The Debian packages the build (deps-ok) or the tests (deps-test-ok) need (scripts/deps.sh,
# told the build's switches). Plain `make` only checks, and names `make deps` and the apt-get
# command when one is missing; `make deps`, `make check` and `make demo` install it.
# Everything compiled waits for them (order-only prerequisites).
.PHONY: deps-ok deps-test-ok
DEPS_SH := $(BUILD_OPTIONS) WITH_SERVE=$(WITH_SERVE) scripts/deps.sh
DEPS_FIX := $(if $(filter check demo,$(MAKECMDGOALS)),,--require)
deps-ok:
	@$(DEPS_SH) $(DEPS_FIX)
deps-test-ok: deps-ok
	@$(DEPS_SH) $(DEPS_FIX) --test
deps:
	$(DEPS_SH)

# The switches as the code sees them; rewritten only when they change, so that switching
# recompiles just the files that read them.
.PHONY: build-options
$(B)/gen/build_options.h: build-options
	@mkdir -p $(dir $@)
	@printf '/* Made by the Makefile: %s */\n' '$(BUILD_OPTIONS)' > $@.tmp
	@printf '#define MNI_%s %s\n' $(subst =, ,$(BUILD_OPTIONS)) >> $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(B)/gen/migrations_sqlite.c: $(sort $(wildcard sql/sqlite/*.sql)) scripts/embed-sql.sh | deps-ok
	@mkdir -p $(dir $@)
	scripts/embed-sql.sh mni_sqlite_migrations $(sort $(wildcard sql/sqlite/*.sql)) > $@.tmp
	mv $@.tmp $@

# The PostgreSQL backend's numbered migrations (sql/postgres/NNN_*.sql; tuning.sql is not one).
PG_MIGRATIONS = $(sort $(wildcard sql/postgres/[0-9]*.sql))
$(B)/gen/migrations_postgres.c: $(PG_MIGRATIONS) scripts/embed-sql.sh | deps-ok
	@mkdir -p $(dir $@)
	scripts/embed-sql.sh mni_postgres_migrations $(PG_MIGRATIONS) > $@.tmp
	mv $@.tmp $@

$(B)/obj/gen/%.o: $(B)/gen/%.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c | deps-ok $(B)/gen/build_options.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The CLI is a user of the library like any other: manushya.h is all it sees (no -Ilib).
CLI_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -pthread -Iinclude \
             $(shell pkg-config --cflags libcjson 2>/dev/null) $(SERVE_CFLAGS)
$(B)/obj/cli/%.o: cli/%.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -MMD -MP -c $< -o $@

# The server is a user of the public API too, with the CLI's helpers (cli.h).
$(B)/obj/serve/%.o: serve/%.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -Icli -MMD -MP -c $< -o $@

# ... and of the library's loader of optional libraries (lib/core/dl.h), for libmicrohttpd.
$(B)/obj/serve/mhd.o: CLI_CFLAGS += -Ilib
$(B)/obj/serve/dl.o: lib/core/dl.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CLI_CFLAGS) -fvisibility=hidden -Ilib -MMD -MP -c $< -o $@

# One relocatable object with the hidden (internal) symbols made local, so that a program
# linking the archive sees only mn_* names, as with the shared library.
$(STLIB): $(LIB_OBJS)
	@rm -f $@
	$(LD) -r -o $(B)/libmanushya.o $^
	objcopy --localize-hidden $(B)/libmanushya.o
	ar rcs $@ $(B)/libmanushya.o

# lib/manushya.map exports exactly the public functions, under the version node MANUSHYA_1.
$(SHLIB): $(LIB_OBJS) lib/manushya.map
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
	    -Wl,--version-script=lib/manushya.map -o $@ $(LIB_OBJS) $(LDLIBS_ALL)

$(B)/libmanushya.so: $(SHLIB)
	ln -sf libmanushya.so.$(VERSION) $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# The CLI links the shared library, found next to it in the build dir or, installed, in
# LIBDIR (the run path, relative to the binary, so that a DESTDIR or a moved tree works too).
CLI_RPATH = $$ORIGIN:$$ORIGIN/$(shell realpath -m --relative-to=$(BINDIR) $(LIBDIR))
$(CLI): $(CLI_OBJS) $(SERVE_OBJS) $(B)/libmanushya.so
	$(CC) $(CLI_CFLAGS) -o $@ $(CLI_OBJS) $(SERVE_OBJS) -L$(B) -lmanushya \
	    -Wl,-rpath,'$(CLI_RPATH)' $(shell pkg-config --libs libcjson 2>/dev/null) $(SERVE_LIBS) -lm

# Unit tests reach internal functions too, so they link the objects, not the archive.
# The shared test code (tests/support) is compiled once, not into every test program (and
# kept: make would delete these objects as intermediate files of the pattern chain).
.SECONDARY: $(TEST_SUPPORT)
$(B)/obj/tests/support/%.o: tests/support/%.c | deps-test-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Itests -MMD -MP -c $< -o $@

$(B)/tests/%: tests/unit/%.c $(TEST_SUPPORT) $(LIB_OBJS) | deps-test-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Itests -o $@ $< $(TEST_SUPPORT) $(LIB_OBJS) \
	    $(CHECK_LIBS) $(LDLIBS_ALL)

# The C++ interface (include/manushya.hpp) is tested as its users build it: C++17, warnings as
# errors, -pedantic, against the shared library and its public header only.
CXX      ?= c++
CXXWARN  := -std=c++17 -Wall -Wextra -Werror -pedantic -Wshadow
CXXFLAGS ?= $(OPT) -g
ALL_CXXFLAGS = $(CXXWARN) $(CXXFLAGS) $(SANFLAGS) -pthread -Iinclude
$(B)/tests/%: tests/cxx/%.cc include/manushya.hpp include/manushya.h $(B)/libmanushya.so | deps-test-ok
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -o $@ $< -L$(B) -lmanushya -Wl,-rpath,'$$ORIGIN/..' $(CHECK_LIBS)

# ---- tests ---------------------------------------------------------------------------------
# The fuzz harnesses are built first (in a build with every backend: they read every URL):
# tests/fuzz/test_fuzz.sh replays their corpora and fuzzes each a few seconds
# (FUZZ_CHECK_SECONDS, default 6). MN_NOT_BUILT: the test programs this build's switches left
# out, for run.sh to report.
# check-build: everything make check runs, built without running it (CI builds the next pass
# while this one's tests run).
check-build: all $(UNIT_BINS) $(CXX_BINS) $(BENCH_BINS) $(if $(filter 0,$(WITH_POSTGRES) $(WITH_REDIS) $(WITH_CURL)),,fuzz-build) | deps-test-ok
check: check-build
	MN_BUILD=$(B) MN_NOT_BUILT="$(UNBUILT_TESTS)" \
	    MN_BUILD_OPTIONS="$(BUILD_OPTIONS) WITH_SERVE=$(WITH_SERVE)" \
	    tests/run.sh $(UNIT_BINS) $(CXX_BINS)

# ---- fuzzing --------------------------------------------------------------------------------
# libFuzzer harnesses, tests/fuzz/fuzz_NAME.c, each with its corpus in tests/fuzz/corpus/NAME/.
# They link the library's objects (and the CLI's import and .fvecs readers) compiled by clang
# with the fuzzer's coverage, ASan and UBSan into build-fuzz/: a make of its own (B, CC and the
# flags given below), whatever SAN says, so its objects never mix with build/ or build-san/.
# make fuzz runs each harness FUZZ_SECONDS from its corpus; what it learns goes to
# build-fuzz/corpus/NAME/ and a crash to build-fuzz/crash/ (fix it, then add the input to the
# harness's corpus in the tree, where test_fuzz.sh replays it at every make check).
FUZZ_B       := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
# Uninitialised variables hold a pattern (0xAA bytes), so that a read of one fails the same way
# at every replay.
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -ftrivial-auto-var-init=pattern
FUZZ_OBJS     = $(B)/obj/tests/fuzz/fuzz.o $(B)/obj/cli/import_line.o $(B)/obj/cli/input.o $(B)/obj/cli/ann_vecs.o

.PHONY: fuzz fuzz-build fuzz-bins
fuzz-build: | deps-test-ok
	@$(MAKE) --no-print-directory B=$(FUZZ_B) SAN= CC=clang OPT=-O1 SANFLAGS="$(FUZZ_FLAGS)" \
	    fuzz-bins

fuzz-bins: $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_NAMES))

.SECONDARY: $(FUZZ_OBJS)
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) $(LIB_OBJS) | deps-test-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Icli -Itests/fuzz -o $@ $< $(FUZZ_OBJS) $(LIB_OBJS) \
	    $(LDLIBS_ALL)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_WORK=$(FUZZ_B) sh tests/fuzz/test_fuzz.sh

# The index harness's seeds are real files written by the library (tests/fuzz/seed_index.c).
.PHONY: fuzz-seeds
fuzz-seeds: | deps-test-ok
	@$(MAKE) --no-print-directory B=$(FUZZ_B) SAN= CC=clang OPT=-O1 SANFLAGS="$(FUZZ_FLAGS)" \
	    $(FUZZ_B)/fuzz/seed_index
	d=$$(mktemp -d) && $(FUZZ_B)/fuzz/seed_index $$d tests/fuzz/corpus/index; rc=$$?; \
	rm -rf $$d; exit $$rc

$(B)/fuzz/seed_index: tests/fuzz/seed_index.c $(LIB_OBJS) | deps-test-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS_ALL)

# ---- ABI ------------------------------------------------------------------------------------
# abi-check: the built shared library against the stored baseline tests/abi/SONAME.abi, with
# abigail-tools; fails on any incompatible change (make check runs it too, tests/abi/).
# abi-baseline: writes that baseline from the built library and, for a MAJOR.0 release, the
# frozen header tests/abi/frozen.c is built against: run it once, when a major version is
# released (scripts/abi.sh).
.PHONY: abi-check abi-baseline
abi-check: all | deps-test-ok
	scripts/abi.sh check $(SHLIB)

abi-baseline: all | deps-test-ok
	scripts/abi.sh baseline $(SHLIB)

# ---- main job, benchmarks -------------------------------------------------------------------
demo: all
	MN_BUILD=$(B) examples/demo.sh

# bench-ingest and bench-policy run on a fresh database in a temporary directory, removed when
# the benchmark ends, fails or is interrupted: $(call in_temp_dir,COMMAND) runs COMMAND with
# $$d naming it. BENCH_N sets the memories (ingest) or decisions (policy) to time.
BENCH_N ?= 100000
in_temp_dir = d=$$(mktemp -d "$${TMPDIR:-/tmp}/manushya-bench.XXXXXX") || exit 1; \
	trap 'rm -rf "$$d"' EXIT; trap 'exit 130' INT TERM; $(1)

bench-ingest: all
	@$(call in_temp_dir,$(CLI) --db "sqlite:$$d/bench.db" bench ingest --n $(BENCH_N) --batch 1000)

# PostgreSQL ingest and its ceiling, the same rows by raw COPY (bench/bench_pg_copy.c).
.PHONY: bench-ingest-pg
bench-ingest-pg: all $(B)/bench/bench_pg_copy
	MN_TOP=. MN_BUILD=$(B) sh bench/ingest_pg.sh $(BENCH_N) 1000

# Benchmarks that reach the library's internals (bench/*.c): built with its objects, never
# installed. Each links the public-API workload it shares with the CLI's benchmark.
$(B)/bench/bench_policy_engine: $(B)/obj/cli/bench_policy_set.o
$(B)/bench/bench_pg_copy: $(B)/obj/cli/bench_text.o
$(B)/bench/%: bench/%.c $(LIB_OBJS) | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Icli -o $@ $< $(filter %.o,$^) $(LDLIBS_ALL)

# The policy engine alone (bench/bench_policy_engine.c, 20 x BENCH_N decisions), then the whole
# public call (mn_policy_test, `manushya bench policy`) on a fresh database.
bench-policy: all $(B)/bench/bench_policy_engine
	$(B)/bench/bench_policy_engine --n $$(( $(BENCH_N) * 20 ))
	@$(call in_temp_dir,$(CLI) --db "sqlite:$$d/bench.db" bench policy --n $(BENCH_N))

# Vector index: data from tests/bench/ann_gen.py (numpy) made once into build/ann/N (N = ANN_N,
# default 100000; dimension 384, 1000 queries, exact top-100 truth); ANN_ARGS adds options
# (e.g. ANN_ARGS="--threads 2 --filter-selectivity 0.1"). bench-ann-hnswlib builds the
# benchmark-only comparator tests/bench/hnswlib_bench.cc against Debian's header-only hnswlib
# (never a dependency of the library) and runs both on the same files with the same options.
# bench-10m: 10,000,000 x 384 int8-coded on one machine, its data generated once in
# bounded memory (ann_gen.py --stream) into build/ann/stream-N (N = BENCH_10M_N; e.g.
# BENCH_10M_N=1000000 runs the same path at a million); BENCH_10M_ARGS replaces its options.
.PHONY: bench-ann bench-ann-hnswlib bench-ann-data bench-10m bench-10m-data
BENCH_10M_N ?= 10000000
BENCH_10M_ARGS ?= --quantize int8 --threads 2 --ef 10,20,40,80,160
# $(call ann_data,DIR,GENERATOR OPTIONS): runs tests/bench/ann_gen.py into DIR unless it is whole.
define ann_data
@d=$(1); [ -f $$d/meta.json ] && exit 0; py=; \
	for p in python3 /usr/bin/python3; do \
	    if $$p -c 'import numpy' 2>/dev/null; then py=$$p; break; fi; done; \
	if [ -z "$$py" ]; then \
	    echo "$@: needs python3 with numpy: apt-get install python3-numpy" >&2; exit 1; fi; \
	echo "$@: generating $$d (once)"; \
	$$py tests/bench/ann_gen.py $(2) $$d
endef
bench-ann-data:
	$(call ann_data,build/ann/$(or $(ANN_N),100000),--n $(or $(ANN_N),100000))

bench-10m-data:
	$(call ann_data,build/ann/stream-$(BENCH_10M_N),--stream --n $(BENCH_10M_N))

bench-10m: all bench-10m-data
	d=build/ann/stream-$(BENCH_10M_N); $(CLI) bench ann --base $$d/base.fvecs \
	    --queries $$d/query.fvecs --truth $$d/gt.ivecs $(BENCH_10M_ARGS)

bench-ann: all bench-ann-data
	d=build/ann/$(or $(ANN_N),100000); $(CLI) bench ann --base $$d/base.fvecs \
	    --queries $$d/query.fvecs --truth $$d/gt.ivecs $(ANN_ARGS)

bench-ann-hnswlib: all bench-ann-data
	@[ -f /usr/include/hnswlib/hnswlib.h ] || { echo "bench-ann-hnswlib: needs Debian's \
	header-only hnswlib: apt-get install libhnswlib-dev" >&2; exit 1; }
	@mkdir -p $(B)/bench
	$(CXX) -O3 -march=native -ffp-contract=off -std=c++17 -Wall -Wextra -pthread \
	    -o $(B)/bench/hnswlib_bench tests/bench/hnswlib_bench.cc
	d=build/ann/$(or $(ANN_N),100000); \
	set -- --base $$d/base.fvecs --queries $$d/query.fvecs --truth $$d/gt.ivecs $(ANN_ARGS); \
	$(CLI) bench ann "$$@" && $(B)/bench/hnswlib_bench "$$@"

# Rate limiting: in-process decisions (1024 endpoints, then one), then through a
# private redis-server on one connection, and redis-benchmark on one connection (-c 1 -P 1)
# replaying the very EVALSHA call the library makes (the script's SHA1, key and arguments, as
# MONITOR shows them during a short run), so both figures are for the same script and key.
# Then calls of 3e6 at once under a limit of 1e9, in process and in Redis (with the key's
# bytes there): a decision costs the same whatever n and the limit.
# The Python package's overhead on a search call (bindings/python/bench): the same call on the
# same database from a C program (built here against the public header and the shared
# library), through bare ctypes, and through the package; p50/p99 of each.
.PHONY: bench-python
bench-python: all
	@mkdir -p $(B)/bench
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(B)/bench/search_call \
	    bindings/bench/search_call.c -L$(B) -lmanushya -Wl,-rpath,$(abspath $(B))
	MANUSHYA_LIBRARY=$(abspath $(B))/libmanushya.so.1 python3 bindings/python/bench/bench_search.py \
	    --c-program $(B)/bench/search_call

.PHONY: bench-ratelimit
bench-ratelimit: all
	$(CLI) bench ratelimit --backend memory
	$(CLI) bench ratelimit --backend memory --keys 1
	d=$$(mktemp -d); eval "$$(sh tests/servers/redis.sh start $$d)"; port=$${MN_REDIS_URL##*:}; \
	$(CLI) --redis $$MN_REDIS_URL bench ratelimit --backend redis --keys 1 --seconds 5; \
	redis-cli -p $$port MONITOR > $$d/monitor & mon=$$!; sleep 0.5; \
	$(CLI) --redis $$MN_REDIS_URL bench ratelimit --backend redis --keys 1 --seconds 0.2 \
	    >/dev/null; kill $$mon; \
	call=$$(grep -m1 '"EVALSHA"' $$d/monitor | sed 's/^[^]]*\] //'); \
	echo "redis-benchmark -c 1 -P 1: $$call"; eval "set -- $$call"; \
	redis-benchmark -p $$port -c 1 -P 1 -n 100000 -q "$$@" | tr "\r" "\n" | tail -1; \
	$(CLI) bench ratelimit --backend memory --keys 1 --limit 1000000000 --n 3000000; \
	$(CLI) --redis $$MN_REDIS_URL bench ratelimit --backend redis --keys 1 --limit 1000000000 \
	    --n 3000000; \
	for k in $$(redis-cli -p $$port --scan --pattern 'ratelimit:*'); do \
	    redis-cli -p $$port MEMORY USAGE "$$k"; done | sort -n | tail -n 1 | \
	    sed 's/.*/Redis: the largest rate-limit key of these runs holds & bytes (MEMORY USAGE)/'; \
	sh tests/servers/redis.sh stop $$d; rm -rf $$d

# manushya serve under wrk (Debian's wrk, bench/serve/mix.lua) on a fresh embedded database:
# throughput and p50/p95/p99 per route; CONNECTIONS, SECONDS_EACH, THREADS, MEMORIES set them.
.PHONY: bench-serve
bench-serve: all
	sh bench/serve/run.sh $(CLI)

# ---- install --------------------------------------------------------------------------------
# manushya.pc is made at each install: its paths are those of this install, relative to
# ${prefix} where they are under PREFIX; it names only the libraries this build links.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCDIR))
PC_LIBS_PRIVATE = $(foreach b,$(BUILT),$($(b)_LIB)) -lpthread -lm
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 644 include/manushya.h $(DESTDIR)$(INCDIR)/manushya.h
	install -m 644 include/manushya.hpp $(DESTDIR)$(INCDIR)/manushya.hpp
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/libmanushya.so.$(VERSION)
	ln -sf libmanushya.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmanushya.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/libmanushya.a
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' -e 's|@INCDIR@|$(PC_INCDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBS_PRIVATE@|$(strip $(PC_LIBS_PRIVATE))|g' \
	    pkgconfig/manushya.pc.in > $(DESTDIR)$(PCDIR)/manushya.pc
	chmod 644 $(DESTDIR)$(PCDIR)/manushya.pc
	install -m 644 man/manushya.1 $(DESTDIR)$(MANDIR)/man1/manushya.1
	$(if $(SERVE_OBJS),install -m 644 man/manushya-serve.1 $(DESTDIR)$(MANDIR)/man1/manushya-serve.1)
	install -m 644 man/libmanushya.3 $(DESTDIR)$(MANDIR)/man3/libmanushya.3
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/manushya

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/manushya.h $(DESTDIR)$(INCDIR)/manushya.hpp \
	    $(DESTDIR)$(LIBDIR)/libmanushya.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libmanushya.so \
	    $(DESTDIR)$(LIBDIR)/libmanushya.a $(DESTDIR)$(PCDIR)/manushya.pc \
	    $(DESTDIR)$(MANDIR)/man1/manushya.1 $(DESTDIR)$(MANDIR)/man1/manushya-serve.1 \
	    $(DESTDIR)$(MANDIR)/man3/libmanushya.3 \
	    $(DESTDIR)$(BINDIR)/manushya

clean:
	rm -rf build build-san build-min build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
