# modelgate - GNU make build.  `make help` lists the targets.
#
# Layout of build/: libmgcore.a (scanner + policy, PIC, for the CLI and the
# helper), modelgate (CLI + helper), libmodelgate.so (the preload: its own
# objects plus hidden static copies of what it needs in-process), tests/
# (Check suites), asan/ (the same suites under ASan+UBSan), fuzz/.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
LIBDIR   = $(PREFIX)/lib/modelgate
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
CLANG   ?= clang
B       := build
PKG     := libzip openssl jansson inih zlib liblzma libzstd liblz4 hdf5-serial libseccomp

CPPFLAGS += -D_GNU_SOURCE -DMG_LIBDIR='"$(LIBDIR)"' -DMG_BINDIR='"$(BINDIR)"'
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -fPIC -fno-strict-aliasing -fstack-protector-strong
PKG_CFLAGS := $(shell pkg-config --cflags $(PKG) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKG) 2>/dev/null) -lbz2
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CORE_SRC    := $(sort $(wildcard scanner/*.c policy/*.c))
CORE_OBJ    := $(CORE_SRC:%.c=$(B)/obj/%.o)
CLI_SRC     := $(sort $(wildcard cli/*.c))
CLI_OBJ     := $(CLI_SRC:%.c=$(B)/obj/%.o)
# The preload carries hidden copies of the policy code it needs in-process
# (no OpenSSL, no libzip: those live in the helper).
PRELOAD_POLICY_SRC ?= policy/policy.c policy/globals.c policy/conf.c policy/layer.c \
                      policy/packs.c policy/packs_data.c policy/deny_data.c
PRELOAD_SRC := $(sort $(wildcard preload/*.c))
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/pobj/%.o) $(PRELOAD_POLICY_SRC:%.c=$(B)/pobj/%.o) $(B)/pobj/scanner/report.o
PRELOAD_STATIC ?= $(wildcard /usr/lib/x86_64-linux-gnu/libseccomp.a /usr/lib/x86_64-linux-gnu/libinih.a)
UNIT_SRC    := $(sort $(wildcard tests/unit/check_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
ASAN_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/%)
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 30

.PHONY: all check check-unit check-asan check-integration fuzz fuzz-build \
        check-fuzz bench install uninstall clean help check-syntax check-deny

all: $(B)/modelgate $(B)/libmodelgate.so

help:
	@echo "make                 build build/modelgate and build/libmodelgate.so"
	@echo "make check           static checks, unit tests, sanitizer unit tests, fuzz pass, integration tests"
	@echo "make check-unit      Check suites only (tests/unit)"
	@echo "make check-asan      Check suites built with ASan+UBSan"
	@echo "make check-integration  real-Python integration tests (tests/integration), Debian python3 and .venv"
	@echo "make check-fuzz      every fuzz target for CHECK_FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) (part of check)"
	@echo "make fuzz            libFuzzer targets, FUZZ_SECONDS=$(FUZZ_SECONDS) each"
	@echo "make bench           benchmarks, printed as ratios against a baseline"
	@echo "make check-syntax    cppcheck, mandoc -Tlint and the banned-function grep"
	@echo "make check-tables    regenerate the generated allow tables, fail on drift (part of check)"
	@echo "make check-deny      policy/deny_data.c is what scripts/gen-deny derives now (part of check)"
	@echo "make install         install to DESTDIR PREFIX=$(PREFIX)"
	@echo "make uninstall       remove what install put there"
	@echo "make clean           remove build/"

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libmgcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/modelgate: $(CLI_OBJ) $(B)/libmgcore.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libmgcore.a $(PKG_LIBS)

# --- the preload -----------------------------------------------------------
PRELOAD_CFLAGS := $(CFLAGS) -fvisibility=hidden -DMG_PRELOAD
$(B)/pobj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PRELOAD_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libmodelgate.so: $(PRELOAD_OBJ) preload/exports.map
	$(CC) -shared -o $@ $(PRELOAD_OBJ) $(PRELOAD_STATIC) \
	    -Wl,--version-script=preload/exports.map -Wl,--exclude-libs,ALL \
	    -Wl,-z,now -Wl,-z,relro -Wl,--as-needed -Wl,-z,defs

# --- tests -----------------------------------------------------------------
$(B)/tests/%: tests/unit/%.c $(B)/libmgcore.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -Wno-error=shadow -o $@ $< \
	    $(B)/libmgcore.a $(PKG_LIBS) $(CHECK_LIBS)

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
$(B)/aobj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/asan/libmgcore.a: $(CORE_SRC:%.c=$(B)/aobj/%.o)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/asan/%: tests/unit/%.c $(B)/asan/libmgcore.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) -Wno-error=shadow $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ \
	    $< $(B)/asan/libmgcore.a $(PKG_LIBS) $(CHECK_LIBS)

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; CK_FORK=yes $$t; done

check-asan: $(ASAN_BIN)
	@set -e; for t in $(ASAN_BIN); do echo "== $$t (asan)"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CK_FORK=no $$t; done

check-integration: all
	@MG_BUILD=$(abspath $(B)) bash tests/integration/run

check: check-syntax check-deny check-unit check-asan check-fuzz check-integration

# The generated deny-list (policy/deny_data.c) must be what scripts/gen-deny
# derives from both installed stacks today: regenerate, compare, fail on drift.
check-deny:
	/usr/bin/python3 scripts/gen-deny --check

# --- fuzzing ---------------------------------------------------------------
FUZZ_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(B)/fobj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
	    $(PKG_CFLAGS) -c $< -o $@

$(B)/fuzz/libmgcore.a: $(CORE_SRC:%.c=$(B)/fobj/%.o)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/libmgcore.a
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 $(FUZZ_FLAGS) -fsanitize=fuzzer \
	    $(PKG_CFLAGS) -o $@ $< $(B)/fuzz/libmgcore.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

# Run every target fuzz_X for FUZZ_SECONDS from the seeds its generator
# tests/fuzz/seeds-X writes (no seed is kept in the tree); new inputs are
# kept in build/fuzz/corpus-NAME, crashes in build/fuzz/ (artifact_prefix).
fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	    mkdir -p $(B)/fuzz/corpus-$$n; \
	    tests/fuzz/seeds-$${n#fuzz_} $(B)/fuzz/seeds-$$n; \
	    echo "== $$n for $(FUZZ_SECONDS)s (log: $(B)/fuzz/$$n.log)"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 \
	        -artifact_prefix=$(B)/fuzz/$$n- -print_final_stats=1 \
	        $(B)/fuzz/corpus-$$n $(B)/fuzz/seeds-$$n >$(B)/fuzz/$$n.log 2>&1; then \
	        tail -n 60 $(B)/fuzz/$$n.log; echo "FAIL fuzz $$n"; exit 1; fi; \
	    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(B)/fuzz/$$n.log; \
	done

# The bounded run `make check` does (CI): every target, sanitizers on.
check-fuzz:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

bench: all
	@MG_BUILD=$(abspath $(B)) bash bench/run

check-syntax:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -I scanner -I policy -I preload scanner policy preload cli
	mandoc -Tlint -W warning man/*.1
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|system)\s*\(' \
	    scanner/*.c policy/*.c preload/*.c cli/*.c || \
	    { echo "banned function used"; exit 1; }

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 0755 $(B)/modelgate $(DESTDIR)$(BINDIR)/modelgate
	install -m 0644 $(B)/libmodelgate.so $(DESTDIR)$(LIBDIR)/libmodelgate.so
	@if ls man/*.1 >/dev/null 2>&1; then install -d $(DESTDIR)$(MANDIR)/man1; \
	    install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/modelgate $(DESTDIR)$(LIBDIR)/libmodelgate.so
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null
	@for m in man/*.1; do [ -e "$$m" ] && rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done; true

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- the sandbox outside the preload (preload/sandbox.c, preload/landlock.c):
# its Check suite, and a test-only shared object that the Python tests load
# with ctypes to lock a real interpreter.  Same static libseccomp as the
# preload.
SANDBOX_SRC := preload/sandbox.c preload/landlock.c
SECCOMP_A   := $(wildcard /usr/lib/x86_64-linux-gnu/libseccomp.a)
$(B)/tests/check_sandbox: tests/unit/check_sandbox.c $(SANDBOX_SRC) preload/sandbox.h preload/landlock.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -pthread -o $@ $< $(SANDBOX_SRC) $(SECCOMP_A) $(CHECK_LIBS)
$(B)/asan/check_sandbox: tests/unit/check_sandbox.c $(SANDBOX_SRC) preload/sandbox.h preload/landlock.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) -pthread -o $@ $< $(SANDBOX_SRC) $(SECCOMP_A) $(CHECK_LIBS)
$(B)/tests/libmgsandbox_test.so: tests/sandbox/shim.c $(SANDBOX_SRC) preload/sandbox.h preload/landlock.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -shared -o $@ $< $(SANDBOX_SRC) $(SECCOMP_A) \
	    -Wl,--exclude-libs,ALL
check-integration: $(B)/tests/libmgsandbox_test.so

# --- generated tables: regenerate from the installed libraries, fail on
# drift (policy/allow_torch.inc from torch 1.13 and the .venv's torch 2.x;
# a stack that is not installed keeps its checked-in entries, said so).
.PHONY: check-tables
check-tables:
	scripts/gen-allow-torch --check
check: check-tables
