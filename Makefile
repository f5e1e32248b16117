# alertd build. `make` builds build/alertd; `make SANITIZE=address,undefined`
# builds an instrumented binary and tests under build/sanitize/.
# `make run` and `make test` first install missing Debian packages.

CC ?= cc
SANITIZE ?=
export SANITIZE
PKGS := libmicrohttpd libcurl jansson libsodium openssl libutf8proc libqrencode liboath

ifeq ($(SANITIZE),)
BUILD := build
OPT := -O2
else
BUILD := build/sanitize
OPT := -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PG_INCLUDE = $(shell pg_config --includedir 2>/dev/null)
PG_LIBDIR = $(shell pg_config --libdir 2>/dev/null)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libraries without a .pc file; the server, the unit tests and the fuzzers all link them
EXTRA_LIBS = -L$(PG_LIBDIR) -lpq -lcsv -lcrack -lxlsxwriter -lm

CFLAGS := -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -pthread -MMD -MP -Iinclude $(CFLAGS)
LDFLAGS := -pthread $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)

# Sources are grouped by subsystem (server/<subsystem>/*.c, see docs/architecture.md);
# every .c file is picked up, main.c alone is left out of what the unit tests link.
SERVER_SRCS := $(filter-out server/cli/main.c,$(wildcard server/*/*.c))
SERVER_OBJS := $(SERVER_SRCS:server/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/migrations_data.o $(BUILD)/obj/web_assets.o $(BUILD)/obj/api_spec_data.o
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
# The staff dashboard's files (web/), served from the binary (include/api/api_pages.h).
WEB_FILES := $(sort $(wildcard web/*.html web/*.js web/*.css web/*.svg))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all clean deps run test unit header-check format format-check bench-ingest bench-push bench-coverage fuzz fuzz-build
all: $(BUILD)/alertd

$(BUILD)/alertd: $(BUILD)/obj/cli/main.o $(SERVER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS)

$(BUILD)/obj/%.o: server/%.c | $(BUILD)/obj
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

# Migrations are compiled into the binary so it always knows its expected schema.
$(BUILD)/embed_migrations: tools/embed_migrations.c | $(BUILD)/obj
	$(CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $<

# migrations (the directory): a removed file changes its time, so the embedded list is rebuilt without it
$(BUILD)/gen/migrations_data.c: $(BUILD)/embed_migrations $(MIGRATIONS) migrations | $(BUILD)/gen
	$(BUILD)/embed_migrations $@ $(MIGRATIONS)

$(BUILD)/obj/migrations_data.o: $(BUILD)/gen/migrations_data.c
	$(CC) $(CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

# The dashboard's files are compiled into the binary too, each with its content type and ETag.
$(BUILD)/embed_web: tools/embed_web.c | $(BUILD)/obj
	$(CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $< $(shell pkg-config --cflags --libs libsodium)

$(BUILD)/gen/web_assets.c: $(BUILD)/embed_web $(WEB_FILES) | $(BUILD)/gen
	$(BUILD)/embed_web $@ $(WEB_FILES)

$(BUILD)/obj/web_assets.o: $(BUILD)/gen/web_assets.c
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

# docs/openapi.yaml is compiled in as well: GET /openapi.yaml serves the spec this binary was built with.
$(BUILD)/embed_spec: tools/embed_spec.c | $(BUILD)/obj
	$(CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/api_spec_data.c: $(BUILD)/embed_spec docs/openapi.yaml | $(BUILD)/gen
	$(BUILD)/embed_spec $@ docs/openapi.yaml

$(BUILD)/obj/api_spec_data.o: $(BUILD)/gen/api_spec_data.c
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

# Unit tests link against an archive of the server objects, so each test
# binary takes in only the modules it (transitively) calls.
$(BUILD)/libalertd.a: $(SERVER_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testlib.h $(BUILD)/libalertd.a | $(BUILD)/tests
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -Itests/unit -o $@ $< $(BUILD)/libalertd.a $(LDFLAGS) $(PKG_LIBS) $(EXTRA_LIBS)

# Benchmark load generator (tests/bench/); always a release build.
build/loadgen: tests/bench/loadgen.c
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -pthread -o $@ $< $(shell pkg-config --cflags --libs libcurl libsodium) -lm

$(BUILD)/obj $(BUILD)/gen $(BUILD)/tests:
	mkdir -p $@

unit: $(UNIT_BINS)

# Each header must compile on its own (no hidden include-order dependencies).
header-check: | $(BUILD)/obj
	@for h in include/*/*.h; do \
		printf '#include "%s"\n' "$${h#include/}" | $(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -x c -fsyntax-only - || exit 1; \
	done; echo "headers: each compiles on its own"

# libFuzzer harnesses (tests/fuzz/README.md). `make fuzz FUZZ_SECONDS=N` installs clang and its
# runtimes if missing (deploy/install-deps.sh fuzz), compiles the server sources with clang under
# ASan and UBSan into build/fuzz/ (never mixed with the gcc objects) and runs every harness for N
# seconds; any crash, leak, timeout or out-of-memory fails it. FUZZ=name1,name2 runs only those.
# (-Wno-format-nonliteral: clang also flags vprintf-style callbacks, such as libmicrohttpd's log hook.)
FUZZ_CC := clang
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 10
FUZZ ?=
comma := ,
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wvla -Wstrict-prototypes -pthread \
	-MMD -MP -Iinclude $(FUZZ_SAN)
FUZZ_OBJS := $(SERVER_SRCS:server/%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/migrations_data.o $(FUZZ_BUILD)/obj/web_assets.o $(FUZZ_BUILD)/obj/api_spec_data.o
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_BUILD)/obj/%.o: server/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

$(FUZZ_BUILD)/embed_migrations: tools/embed_migrations.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $<

$(FUZZ_BUILD)/gen/migrations_data.c: $(FUZZ_BUILD)/embed_migrations $(MIGRATIONS) migrations
	@mkdir -p $(dir $@)
	$(FUZZ_BUILD)/embed_migrations $@ $(MIGRATIONS)

$(FUZZ_BUILD)/obj/migrations_data.o: $(FUZZ_BUILD)/gen/migrations_data.c
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

$(FUZZ_BUILD)/embed_web: tools/embed_web.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $< $(shell pkg-config --cflags --libs libsodium)

$(FUZZ_BUILD)/gen/web_assets.c: $(FUZZ_BUILD)/embed_web $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(FUZZ_BUILD)/embed_web $@ $(WEB_FILES)

$(FUZZ_BUILD)/obj/web_assets.o: $(FUZZ_BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

$(FUZZ_BUILD)/embed_spec: tools/embed_spec.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -O1 -Wall -Wextra -Werror -o $@ $<

$(FUZZ_BUILD)/gen/api_spec_data.c: $(FUZZ_BUILD)/embed_spec docs/openapi.yaml
	@mkdir -p $(dir $@)
	$(FUZZ_BUILD)/embed_spec $@ docs/openapi.yaml

$(FUZZ_BUILD)/obj/api_spec_data.o: $(FUZZ_BUILD)/gen/api_spec_data.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -I$(PG_INCLUDE) -c -o $@ $<

$(FUZZ_BUILD)/libalertd.a: $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libalertd.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -I$(PG_INCLUDE) -Itests/fuzz -o $@ $< $(FUZZ_BUILD)/libalertd.a \
		$(PKG_LIBS) $(EXTRA_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	deploy/install-deps.sh fuzz
	$(MAKE) fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(subst $(comma), ,$(FUZZ))

# The C sources in the house style (.clang-format, clang-format 14 as on Debian 12).
FORMAT_SRCS = $(wildcard server/*/*.c include/*/*.h tests/unit/*.c tests/unit/*.h tests/bench/*.c tests/fuzz/*.c tests/fuzz/*.h tools/*.c)

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS) && echo "format: every C file matches .clang-format"

deps:
	deploy/install-deps.sh

# DEMO=0 make run: without the demo data set and the demo staff account (deploy/demo/)
run:
	deploy/install-deps.sh run
	$(MAKE) all
	deploy/run-local.sh

test: deps
	$(MAKE) all unit header-check
	tests/run.sh

# The production artefacts in deploy/, checked by real tools (systemd-analyze, nginx, shellcheck, promtool),
# and the slow operational drills (failover to a synchronous standby, backup and restore): tests/deploy/run.sh.
check-deploy:
	deploy/install-deps.sh deploy
	$(MAKE) all
	tests/deploy/run.sh

bench-ingest: deps
	$(MAKE) SANITIZE= all build/loadgen
	tests/bench/bench-ingest.sh

bench-push: deps
	$(MAKE) SANITIZE= all build/loadgen
	tests/bench/bench-push.sh

# The staff coverage figures at national scale (tests/bench/bench-coverage.sh; README "Benchmarks").
bench-coverage: deps
	$(MAKE) SANITIZE= all
	tests/bench/bench-coverage.sh

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(FUZZ_BUILD)/obj/*/*.d $(FUZZ_BUILD)/*.d)
