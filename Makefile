# libmanushya — plain Makefile.
#   make                 library (shared + static) and the manushya CLI under build/
#   make check           every test (starts the servers it needs); SAN=1 for ASan+UBSan
#   make demo            the main job on the embedded default
#   make install         PREFIX=/usr/local DESTDIR=
#   make bench-ingest    ingest benchmark on a fresh embedded database
#   make bench-policy    policy decisions/s: the engine (uncached, cached), then the public call
#   make bench-ann       vector index benchmark on generated 100k x 384 data (ANN_N=1000000: 1M)
#   make bench-ann-hnswlib  the same, then Debian's hnswlib on the same files, side by side
#   make bench-ratelimit  rate-limit decisions/s in process, over Redis, and redis-benchmark

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

# Deferred (=, not :=): on a fresh machine the packages appear only once deps-ok has run.
DEPS_PKGS  := sqlite3 libcjson libsodium libpq hiredis libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(DEPS_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(DEPS_PKGS) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -fPIC -fvisibility=hidden -pthread \
             -Iinclude -Ilib -I$(B)/gen $(PKG_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -lm

LIB_SRCS := $(sort $(wildcard lib/*/*.c lib/*/*/*.c)) $(B)/gen/migrations_sqlite.c \
            $(B)/gen/migrations_postgres.c
LIB_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRCS:$(B)/%=%))
CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(CLI_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
TEST_SUPPORT := $(patsubst %.c,$(B)/obj/%.o,$(sort $(wildcard tests/support/*.c)))

SONAME  := libmanushya.so.$(SOMAJOR)
SHLIB   := $(B)/libmanushya.so.$(VERSION)
STLIB   := $(B)/libmanushya.a
CLI     := $(B)/manushya

.PHONY: all deps check demo install uninstall clean bench-ingest bench-policy

all: deps-ok $(SHLIB) $(B)/libmanushya.so $(STLIB) $(CLI)

# Installs the Debian packages the build (deps-ok) or the tests (deps-test-ok) need when one
# is missing (scripts/deps.sh). Everything compiled waits for them (order-only prerequisites).
.PHONY: deps-ok deps-test-ok
deps-ok:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh
deps-test-ok: deps-ok
	@scripts/deps.sh --check-test >/dev/null 2>&1 || scripts/deps.sh --test
deps:
	scripts/deps.sh

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

$(B)/obj/%.o: %.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# One relocatable object with the hidden (internal) symbols made local, so that a program
# linking the archive sees only mn_* names, as with the shared library.
$(STLIB): $(LIB_OBJS)
	@rm -f $@
	$(LD) -r -o $(B)/libmanushya.o $^
	objcopy --localize-hidden $(B)/libmanushya.o
	ar rcs $@ $(B)/libmanushya.o

$(SHLIB): $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LDLIBS_ALL)

$(B)/libmanushya.so: $(SHLIB)
	ln -sf libmanushya.so.$(VERSION) $(B)/$(SONAME)
	ln -sf $(SONAME) $@

# The CLI links the library's objects, not its archive (whose internal symbols are local):
# `manushya bench policy` measures the policy engine itself (cli/bench_policy.c).
$(CLI): $(CLI_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) $(LIB_OBJS) $(LDLIBS_ALL)

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

# ---- tests ---------------------------------------------------------------------------------
check: all $(UNIT_BINS) | deps-test-ok
	MN_BUILD=$(B) tests/run.sh $(UNIT_BINS)

# ---- main job, benchmarks -------------------------------------------------------------------
demo: all
	MN_BUILD=$(B) examples/demo.sh

bench-ingest: all
	$(CLI) --db "sqlite:$$(mktemp -d)/bench.db" bench ingest --n 100000 --batch 1000

# The policy engine alone, then the whole public call (mn_policy_test) on a fresh database.
bench-policy: all
	$(CLI) --db "sqlite:$$(mktemp -d)/bench.db" bench policy --n 100000

# Vector index: data from tests/bench/ann_gen.py (numpy) made once into build/ann/N (N = ANN_N,
# default 100000; dimension 384, 1000 queries, exact top-100 truth); ANN_ARGS adds options
# (e.g. ANN_ARGS="--threads 2 --filter-selectivity 0.1"). bench-ann-hnswlib builds the
# benchmark-only comparator tests/bench/hnswlib_bench.cc against Debian's header-only hnswlib
# (never a dependency of the library) and runs both on the same files with the same options.
.PHONY: bench-ann bench-ann-hnswlib bench-ann-data
bench-ann-data:
	@d=build/ann/$(or $(ANN_N),100000); [ -f $$d/meta.json ] && exit 0; py=; \
	for p in python3 /usr/bin/python3; do \
	    if $$p -c 'import numpy' 2>/dev/null; then py=$$p; break; fi; done; \
	if [ -z "$$py" ]; then \
	    echo "bench-ann: needs python3 with numpy: apt-get install python3-numpy" >&2; exit 1; fi; \
	echo "bench-ann: generating $$d (once)"; \
	$$py tests/bench/ann_gen.py --n $(or $(ANN_N),100000) $$d

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

# Rate limiting (issue 5): in-process decisions (1024 endpoints, then one), then through a
# private redis-server on one connection, and redis-benchmark on one connection (-c 1 -P 1)
# replaying the very EVALSHA call the library makes (the script's SHA1, key and arguments, as
# MONITOR shows them during a short run), so both figures are for the same script and key.
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
	sh tests/servers/redis.sh stop $$d; rm -rf $$d

# ---- install --------------------------------------------------------------------------------
# manushya.pc is made at each install: its paths are those of this install's PREFIX.
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 644 include/manushya.h $(DESTDIR)$(INCDIR)/manushya.h
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/libmanushya.so.$(VERSION)
	ln -sf libmanushya.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmanushya.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/libmanushya.a
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCDIR@|$(INCDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' pkgconfig/manushya.pc.in > $(DESTDIR)$(PCDIR)/manushya.pc
	chmod 644 $(DESTDIR)$(PCDIR)/manushya.pc
	install -m 644 man/manushya.1 $(DESTDIR)$(MANDIR)/man1/manushya.1
	install -m 644 man/libmanushya.3 $(DESTDIR)$(MANDIR)/man3/libmanushya.3
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/manushya

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/manushya.h $(DESTDIR)$(LIBDIR)/libmanushya.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libmanushya.so \
	    $(DESTDIR)$(LIBDIR)/libmanushya.a $(DESTDIR)$(PCDIR)/manushya.pc \
	    $(DESTDIR)$(MANDIR)/man1/manushya.1 $(DESTDIR)$(MANDIR)/man3/libmanushya.3 \
	    $(DESTDIR)$(BINDIR)/manushya

clean:
	rm -rf build build-san

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
