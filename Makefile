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
B       ?= build
PKG     := libzip openssl jansson inih zlib liblzma libzstd liblz4 hdf5-serial libseccomp

# The installed paths (messages, the library and helper searches) come from
# $(B)/gen/mg_paths.h, not -D flags: objects do not depend on their flags,
# so `make && make install PREFIX=/opt/x` would install binaries that say
# /usr/local.  The header is rewritten only when the paths change, and only
# the objects that include it (their .d files name it) are rebuilt.
PATHS_H  := $(B)/gen/mg_paths.h
CPPFLAGS += -D_GNU_SOURCE -I$(B)/gen
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -fPIC -fno-strict-aliasing -fstack-protector-strong
PKG_CFLAGS := $(shell pkg-config --cflags $(PKG) 2>/dev/null)
# scanner/dbm.c reads shelve's Berkeley DB and GDBM files with the
# libraries dbm.ndbm and dbm.gnu use (Debian: libdb5.3, libgdbm), in a
# confined child of the CLI or helper.  Never in libmodelgate.so: the
# preload links neither (tests/integration/test_preload_shelve checks).
DBM_LIBS   := -ldb-5.3 -lgdbm
# libhdf5 is not linked: scanner/hdf5.c dlopen()s it on the first HDF5
# file (it and its dependencies cost ~3 ms of every exec otherwise).
PKG_LIBS   := $(shell pkg-config --libs $(filter-out hdf5-serial,$(PKG)) 2>/dev/null) -lbz2 $(DBM_LIBS)
# The unit tests write their HDF5 fixtures with libhdf5 itself.
HDF5_LIBS  := $(shell pkg-config --libs hdf5-serial 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CORE_SRC    := $(sort $(wildcard scanner/*.c policy/*.c))
CORE_OBJ    := $(CORE_SRC:%.c=$(B)/obj/%.o)
CLI_SRC     := $(sort $(wildcard cli/*.c))
CLI_OBJ     := $(CLI_SRC:%.c=$(B)/obj/%.o)
# The preload carries hidden copies of the policy code it needs in-process
# (no OpenSSL, no libzip: those live in the helper).
PRELOAD_POLICY_SRC ?= policy/policy.c policy/globals.c policy/conf.c policy/layer.c policy/candidate.c policy/logline.c \
                      policy/packs.c policy/packs_data.c policy/deny_data.c
PRELOAD_SRC := $(sort $(wildcard preload/*.c))
# The candidate test's content half (scanner/candidate.c and the opcode walk
# it runs, inert.c with pickle_text.c's opcode table): the same code the
# helper runs, so both agree on every file; fixed-size state, no allocation.
PRELOAD_SCAN_SRC := scanner/report.c scanner/compat.c scanner/candidate.c scanner/inert.c scanner/pickle_text.c
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/pobj/%.o) $(PRELOAD_POLICY_SRC:%.c=$(B)/pobj/%.o) $(PRELOAD_SCAN_SRC:%.c=$(B)/pobj/%.o)
PRELOAD_STATIC ?= $(wildcard /usr/lib/x86_64-linux-gnu/libseccomp.a /usr/lib/x86_64-linux-gnu/libinih.a)
UNIT_SRC    := $(sort $(wildcard tests/unit/check_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
ASAN_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/asan/%)
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 30

.PHONY: all check check-unit check-asan check-integration fuzz fuzz-build \
        check-fuzz bench install uninstall clean help check-syntax check-deny \
        print-libs FORCE

all: $(B)/modelgate $(B)/libmodelgate.so

help:
	@echo "make                 build build/modelgate and build/libmodelgate.so"
	@echo "make check           static checks, unit tests, sanitizer unit tests, fuzz pass, integration tests"
	@echo "make check-unit      Check suites only (tests/unit)"
	@echo "make check-asan      Check suites built with ASan+UBSan"
	@echo "make check-integration  real-Python integration tests (tests/integration), Debian python3 and .venv"
	@echo "make check-fuzz      every fuzz target for CHECK_FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) (part of check)"
	@echo "make fuzz            libFuzzer targets, FUZZ_SECONDS=$(FUZZ_SECONDS) each"
	@echo "make fuzz-diff       differential fuzzer vs. the real loaders, DIFF_SECONDS=$(DIFF_SECONDS) per stack"
	@echo "make bench           benchmarks, printed as ratios against a baseline"
	@echo "make check-syntax    cppcheck, mandoc -Tlint and the banned-function grep"
	@echo "make check-tables    regenerate the generated allow tables, fail on drift (part of check)"
	@echo "make check-deny      policy/deny_data.c is what scripts/gen-deny derives now (part of check)"
	@echo "make install         binary, library, man pages to DESTDIR PREFIX=$(PREFIX) (built with that PREFIX)"
	@echo "make uninstall       remove what install put there (refused while /etc/ld.so.preload lists the library)"
	@echo "make clean           remove build/"

# Why FORCE and a compare: the recipe runs every time, but the file (and
# its mtime) changes only with the paths; a path make cannot put in a C
# string is refused here rather than miscompiled.
$(PATHS_H): FORCE
	@mkdir -p $(@D)
	@case '$(BINDIR)$(LIBDIR)' in *'"'*|*'\'*) \
	    echo "make: BINDIR/LIBDIR must not contain a quote or backslash"; \
	    exit 1;; esac
	@printf '/* generated by the Makefile from PREFIX: do not edit */\n#define MG_BINDIR "%s"\n#define MG_LIBDIR "%s"\n' \
	    '$(BINDIR)' '$(LIBDIR)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(B)/obj/%.o: %.c | $(PATHS_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libmgcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/modelgate: $(CLI_OBJ) $(B)/libmgcore.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(B)/libmgcore.a $(PKG_LIBS)

# --- the preload -----------------------------------------------------------
PRELOAD_CFLAGS := $(CFLAGS) -fvisibility=hidden -DMG_PRELOAD
$(B)/pobj/%.o: %.c | $(PATHS_H)
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
	    $(B)/libmgcore.a $(PKG_LIBS) $(HDF5_LIBS) $(CHECK_LIBS)

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
$(B)/aobj/%.o: %.c | $(PATHS_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(ASAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(B)/asan/libmgcore.a: $(CORE_SRC:%.c=$(B)/aobj/%.o)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/asan/%: tests/unit/%.c $(B)/asan/libmgcore.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) -Wno-error=shadow $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ \
	    $< $(B)/asan/libmgcore.a $(PKG_LIBS) $(HDF5_LIBS) $(CHECK_LIBS)

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
$(B)/fobj/%.o: %.c | $(PATHS_H)
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

# The differential fuzzer (tests/integration/fuzz_diff_loaders.py): mutants
# of every loader's containers, scanned and loaded by the recording real
# loaders, on both Python stacks for DIFF_SECONDS each; kept mutants in
# $(B)/fuzz-diff/kept-STACK.json.  Its bounded pass runs in
# test_diff_loaders (check-integration).
DIFF_SECONDS ?= 600
.PHONY: fuzz-diff
fuzz-diff: all
	@mkdir -p $(B)/fuzz-diff; rc=0; \
	for s in debian:/usr/bin/python3 modern:$(abspath .venv/bin/python); do \
	    MG_STACK=$${s%%:*} MG_BIN=$(abspath $(B))/modelgate nice -n 19 $${s#*:} \
	        tests/integration/fuzz_diff_loaders.py --seconds $(DIFF_SECONDS) \
	        --seed $${DIFF_SEED:-$$(date +%s)} --work $(abspath $(B))/fuzz-diff/work-$${s%%:*} \
	        --keep $(abspath $(B))/fuzz-diff/kept-$${s%%:*}.json || rc=1; \
	done; exit $$rc

bench: all
	@MG_BUILD=$(abspath $(B)) bash bench/run

# What a program linked with libmgcore.a needs (bench/timer.py).
print-libs:
	@echo $(PKG_LIBS)

check-syntax:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -I scanner -I policy -I preload scanner policy preload cli
	mandoc -Tlint -W warning man/*.1 man/*.5
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|system)\s*\(' \
	    scanner/*.c policy/*.c preload/*.c cli/*.c || \
	    { echo "banned function used"; exit 1; }

MAN1 := $(wildcard man/*.1)
MAN5 := $(wildcard man/*.5)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(B)/modelgate $(DESTDIR)$(BINDIR)/modelgate
	install -m 0644 $(B)/libmodelgate.so $(DESTDIR)$(LIBDIR)/libmodelgate.so
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/

# Why the check: with the library listed in /etc/ld.so.preload, every
# process on the host (sudo, ssh, the shell that would repair it) loads it
# first; deleting it breaks them all.  An entry that names it by another
# path (a symlink) counts too.
PRELOAD_LIST := $(DESTDIR)/etc/ld.so.preload
uninstall:
	@lib='$(DESTDIR)$(LIBDIR)/libmodelgate.so'; \
	if [ -f '$(PRELOAD_LIST)' ]; then \
	    for e in $$(tr ' \t:' '\n\n\n' <'$(PRELOAD_LIST)'); do \
	        if [ "$$e" = '$(LIBDIR)/libmodelgate.so' ] || \
	           { [ -e "$$lib" ] && [ '$(DESTDIR)'"$$e" -ef "$$lib" ]; }; then \
	            echo "make uninstall: $(PRELOAD_LIST) lists $$e: deleting the library would break every process on this host."; \
	            echo "Remove that entry first ('modelgate host uninstall' removes it, then the files; or delete it from $(PRELOAD_LIST) as root), then run 'make uninstall' again."; \
	            exit 1; \
	        fi; \
	    done; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/modelgate $(DESTDIR)$(LIBDIR)/libmodelgate.so
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(MAN1)) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(MAN5))

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
