# Tests, included by the top-level Makefile.
#
#   make check       unit tests, unit tests under ASan+UBSan, the fuzz
#                    corpora and saved crashes replayed, integration
#                    tests, and integration tests under ASan+UBSan
#   make unit        unit tests only
#   make unit-asan   unit tests built with -fsanitize=address,undefined
#   make integ       integration tests (real SoftHSM2 token, real clients)
#   make integ-asan  the same against scepd and scepctl built with
#                    -fsanitize=address,undefined
#   make valgrind    unit tests under valgrind

UNIT_NAMES	= $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
TEST_PKGS	= cmocka libcurl libmicrohttpd
TEST_CFLAGS	= $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS	= $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
LIB_SRCS	= $(COMMON) $(SERVER) $(ADMIN) src/certline.c
SAN_FLAGS	= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=all

# $(1): build directory, $(2): extra compiler flags.
define unit_build
$(1)/obj/%.o: %.c $$(wildcard include/*.h src/*.h tests/unit/*.h)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $(2) $$(TEST_CFLAGS) -Itests/unit -c -o $$@ $$<

$(1)/libscepd.a: $$(patsubst %.c,$(1)/obj/%.o,$$(LIB_SRCS))
	@rm -f $$@
	$$(AR) rcs $$@ $$^

$(1)/tests/test_%: $(1)/obj/tests/unit/test_%.o $(1)/obj/tests/unit/testutil.o $(1)/libscepd.a
	@mkdir -p $$(dir $$@)
	$$(CC) $(2) -o $$@ $$^ $$(TEST_LIBS) $$(LDLIBS)
endef

$(eval $(call unit_build,build/unit,))
$(eval $(call unit_build,build/asan,$(SAN_FLAGS)))

UNIT_BINS	= $(addprefix build/unit/tests/test_,$(UNIT_NAMES))
ASAN_BINS	= $(addprefix build/asan/tests/test_,$(UNIT_NAMES))

build/tests/sceptest: $(wildcard tests/client/*.c tests/client/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ \
	    $(filter %.c,$^) $(shell pkg-config --cflags --libs libcrypto libcurl)

build/tests/memgrep: tests/tools/memgrep.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

build/tests/webhook-responder: tests/webhook/responder.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< \
	    $(shell pkg-config --cflags --libs libmicrohttpd) -lpthread

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

unit-asan: $(ASAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run-unit.sh --asan $(ASAN_BINS)

valgrind: $(UNIT_BINS)
	@tests/run-unit.sh --valgrind $(UNIT_BINS)

integ: all build/tests/sceptest build/tests/webhook-responder build/tests/memgrep
	@tests/integ/run.sh

# scepd, its key process and scepctl built like the unit-asan tests,
# for integ-asan.
asan_obj	= $(patsubst %.c,build/asan/obj/%.o,$(1))
build/asan/bin/scepd: $(call asan_obj,$(PROCS) $(SERVER) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(SERVER_LIBS)
build/asan/bin/scepd-keyproc: $(call asan_obj,$(KEYPROC) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)
build/asan/bin/scepctl: $(call asan_obj,src/scepctl.c $(ADMIN) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

integ-asan: lib/p11fault.so build/tests/netload build/asan/bin/scepd build/asan/bin/scepd-keyproc build/asan/bin/scepctl build/tests/sceptest \
	    build/tests/webhook-responder build/tests/memgrep
	@SCEPD_BIN=$(CURDIR)/build/asan/bin/scepd \
	SCEPCTL_BIN=$(CURDIR)/build/asan/bin/scepctl tests/integ/run.sh --asan

check: check-deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory integ
	@$(MAKE) --no-print-directory integ-asan

.PHONY: unit unit-asan valgrind integ integ-asan check

build/tests/verify-cost: tests/bench/verify_cost.c build/unit/libscepd.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

bench: all build/tests/sceptest build/tests/verify-cost
	@tests/bench/enroll-bench.sh
	@build/tests/verify-cost
	@tests/bench/challenge-storm.sh
	@tests/bench/hop-latency.sh

.PHONY: bench
include tests/fuzz/fuzz.mk
include tests/netload/netload.mk
