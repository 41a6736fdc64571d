# Keystile build. `make` builds build/keystile; `make test` runs every test;
# `make test SANITIZE=1` runs the same suite under ASan+UBSan (build in build/san).
CC      ?= cc
PKGS    := libmicrohttpd jansson libsodium libcrypto sqlite3 libpq zlib libcurl xlsxwriter liboath libiddawc librhonabwy
CSTD    := -std=c17 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_BASE := $(CSTD) $(WARN) -g -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread

ifeq ($(FUZZ),1)
BUILD   := build/fuzz
CFLAGS  := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
LDFLAGS := -fsanitize=address,undefined
else ifeq ($(SANITIZE),1)
BUILD   := build/san
CFLAGS  := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS := -fsanitize=address,undefined
else
BUILD   := build
CFLAGS  := $(CFLAGS_BASE) -O2
LDFLAGS :=
endif

LIB_SRC := $(wildcard src/core/*.c src/store/*.c src/index/*.c src/verify/*.c src/service/*.c src/metrics/*.c src/log/*.c src/export/*.c src/http/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
WEB_FILES := $(shell find web -type f 2>/dev/null) $(wildcard docs/openapi.json)
WEB_GEN := $(BUILD)/gen/web_assets.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/web_assets.o
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# Unit tests mirror src/: tests/unit/<module>/test_*.c, each its own binary
# (build/tests/<module>/test_*). A folder's other .c files (its helpers, e.g.
# the store conformance suite in store/) are linked into that folder's tests
# only; tests/unit/unit.h is shared by all.
UNIT_DIRS := $(patsubst tests/unit/%/,%,$(sort $(dir $(wildcard tests/unit/*/test_*.c))))
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
unit_helpers = $(filter-out tests/unit/$(1)/test_%.c,$(wildcard tests/unit/$(1)/*.c))

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzzers/%)
REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz-replay/%)

.PHONY: all deps test run clean unit-tests fuzz fuzz-bins replay-bins install uninstall test-valgrind web-vendor

PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man/man1
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR  := $(PREFIX)/share/doc/keystile
all: $(BUILD)/keystile

# Installs the Debian packages the build and tests need, only when one is missing.
deps:
	@sh scripts/install-deps.sh

$(BUILD)/libkeystile.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/keystile: $(CLI_OBJ) $(BUILD)/libkeystile.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libkeystile.a $(LDLIBS)

# The web admin is embedded into the binary (scripts/embed_web.py).
$(WEB_GEN): $(WEB_FILES) scripts/embed_web.py
	@mkdir -p $(dir $@) web
	python3 scripts/embed_web.py web $@ /openapi.json=docs/openapi.json

# npm packages of the web admin (a QR code encoder) are copied into web/vendor/
# and committed, so a build needs no npm: `make web-vendor` installs the
# versions pinned in scripts/web-vendor/package-lock.json and copies the files
# that scripts/vendor_web.py lists.
web-vendor:
	cd scripts/web-vendor && npm ci --ignore-scripts --no-audit --no-fund
	python3 scripts/vendor_web.py

$(BUILD)/obj/gen/web_assets.o: $(WEB_GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define unit_dir_rule
$(BUILD)/tests/$(1)/%: tests/unit/$(1)/%.c $(call unit_helpers,$(1)) $(wildcard tests/unit/*.h tests/unit/$(1)/*.h) $(BUILD)/libkeystile.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -Itests/unit -Itests/unit/$(1) $$(LDFLAGS) -o $$@ $$< $(call unit_helpers,$(1)) $$(BUILD)/libkeystile.a $$(LDLIBS)
endef
$(foreach d,$(UNIT_DIRS),$(eval $(call unit_dir_rule,$(d))))

unit-tests: $(UNIT_BIN) replay-bins

# Fuzz targets (fuzz/fuzz_*.c, each defining LLVMFuzzerTestOneInput).
# `make fuzz` builds libFuzzer binaries with clang into build/fuzz/fuzzers/;
# the same targets are linked with fuzz/replay_main.c into replay binaries
# that `make test` runs over the committed corpus (fuzz/corpus/<target>/).
fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 CC=clang fuzz-bins

fuzz-bins: $(FUZZ_BIN)

$(BUILD)/fuzzers/%: fuzz/%.c $(BUILD)/libkeystile.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libkeystile.a $(LDLIBS)

replay-bins: $(REPLAY_BIN)

$(BUILD)/fuzz-replay/%: fuzz/%.c fuzz/replay_main.c $(BUILD)/libkeystile.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay_main.c $(BUILD)/libkeystile.a $(LDLIBS)

# The suites run in parallel lanes (tests/run.sh); the build uses every core.
NPROC := $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all unit-tests
	@BUILD=$(BUILD) sh tests/run.sh

# The HTTP tests with every server under valgrind (memory errors, leaks).
test-valgrind: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@BUILD=$(BUILD) sh tests/run.sh valgrind

run: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/run-demo.sh

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page, the
# systemd unit (sandboxed, DynamicUser) and the nginx example.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/keystile $(DESTDIR)$(BINDIR)/keystile
	install -m 0644 docs/keystile.1 $(DESTDIR)$(MANDIR)/keystile.1
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/keystile.service.in > $(DESTDIR)$(UNITDIR)/keystile.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/keystile.service
	install -m 0644 examples/nginx/keystile.conf examples/caddy/Caddyfile examples/traefik/keystile.yml docs/API.md \
	    docs/secret-scanning.md README.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/keystile $(DESTDIR)$(MANDIR)/keystile.1 $(DESTDIR)$(UNITDIR)/keystile.service
	rm -rf $(DESTDIR)$(DOCDIR)

# Benchmarks (bench/README.md): never part of `make test`. Builds the seeding
# and in-process tools against the library, then runs bench/run.py, which
# starts and stops its own servers and writes bench/RESULTS.md.
BENCH_BIN := $(BUILD)/bench/seed $(BUILD)/bench/verify_inproc $(BUILD)/bench/mhd_floor $(BUILD)/bench/limits_inproc $(BUILD)/bench/flush_inproc
.PHONY: bench bench-bins
bench:
	@sh scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory all bench-bins
	@python3 bench/run.py --build $(BUILD)
	@python3 bench/rotation.py --build $(BUILD)
	@echo "== per-key limits and usage (bench/limits_inproc.c)"
	@$(BUILD)/bench/limits_inproc
	@python3 bench/resource_map.py --build $(BUILD)

bench-bins: $(BENCH_BIN)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libkeystile.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libkeystile.a $(LDLIBS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
