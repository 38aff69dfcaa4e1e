# Fuzz targets for every parser of untrusted input (tests/fuzz/README.md),
# included by tests/tests.mk.
#
#   make fuzz          build with clang's libFuzzer and run each target for
#                      FUZZ_SECONDS (default 60) from its seed corpus;
#                      FUZZ_TARGETS="csr envelope" to run only some
#   make fuzz-replay   every seed and every saved crash as a regression
#                      input, built with gcc and ASan+UBSan and a plain
#                      main() (tests/fuzz/replay_main.c): no clang needed
#   make fuzz-seeds    regenerate the seed corpora (tests/fuzz/make-seeds.sh)

FUZZ_TARGETS	= http_get pkimessage envelope csr webhook_reply policy \
		  config
FUZZ_SECONDS	?= 60
FUZZ_CLANG	?= clang
FUZZ_GCC	?= gcc
FUZZ_NICE	?= nice -n 19
FUZZ_SUPPORT	= tests/fuzz/fuzz_signer.c tests/fuzz/fuzz_keys.c \
		  tests/fuzz/fuzz_fixture.c tests/fuzz/fuzz_msg.c \
		  tests/fuzz/fuzz_util.c
# All of scepd but the HTTP daemon (fuzz_http_get.c compiles src/http.c
# itself) and the HSM layer: fuzz_signer.c stands in for
# hsm/signer_p11.c and hsm/hsm_lock.c.
FUZZ_LIB_SRCS	= $(COMMON) $(filter-out src/http.c hsm/%,$(SERVER)) \
		  $(FUZZ_SUPPORT)
FUZZ_HDRS	= $(wildcard include/*.h src/*.h tests/fuzz/*.h)
FUZZ_SAN	= -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
		  -fno-sanitize-recover=all
FUZZ_LF_DIR	= build/fuzz
FUZZ_RP_DIR	= build/fuzz-replay

# $(1): build directory, $(2): compiler, $(3): compiler flags,
# $(4): linker flags, $(5): extra objects.
define fuzz_build
$(1)/obj/%.o: %.c $$(FUZZ_HDRS)
	@mkdir -p $$(dir $$@)
	$(2) $$(ALL_CFLAGS) $(3) -Itests/fuzz -c -o $$@ $$<

$(1)/obj/tests/fuzz/fuzz_http_get.o: src/http.c

$(1)/libscepd-fuzz.a: $$(patsubst %.c,$(1)/obj/%.o,$$(FUZZ_LIB_SRCS))
	@rm -f $$@
	$$(AR) rcs $$@ $$^

$(1)/fuzz_%: $(1)/obj/tests/fuzz/fuzz_%.o $(5) $(1)/libscepd-fuzz.a
	$(2) $(4) -o $$@ $$^ $$(LDLIBS)
endef

$(eval $(call fuzz_build,$(FUZZ_LF_DIR),$(FUZZ_CLANG),$(FUZZ_SAN) \
    -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -fsanitize=fuzzer,))
$(eval $(call fuzz_build,$(FUZZ_RP_DIR),$(FUZZ_GCC),$(FUZZ_SAN),$(FUZZ_SAN),\
    $(FUZZ_RP_DIR)/obj/tests/fuzz/replay_main.o))

# Keep the objects make would otherwise delete as intermediate.
.PRECIOUS: $(FUZZ_LF_DIR)/obj/%.o $(FUZZ_RP_DIR)/obj/%.o

FUZZ_LF_BINS	= $(addprefix $(FUZZ_LF_DIR)/fuzz_,$(FUZZ_TARGETS))
FUZZ_RP_BINS	= $(addprefix $(FUZZ_RP_DIR)/fuzz_,$(FUZZ_TARGETS))

fuzz-clang-check:
	@command -v $(FUZZ_CLANG) >/dev/null 2>&1 && \
	d=$$(mktemp -d) && \
	printf '%s\n' 'int LLVMFuzzerTestOneInput(const char *d,' \
	    'unsigned long n) { (void)d; (void)n; return 0; }' > $$d/t.c && \
	$(FUZZ_CLANG) -fsanitize=fuzzer -o $$d/t $$d/t.c 2>/dev/null; \
	r=$$?; rm -rf "$$d"; [ $$r -eq 0 ] || { \
	echo "make fuzz needs clang with libFuzzer" \
	    "($(FUZZ_CLANG) -fsanitize=fuzzer)."; \
	echo "Install it with: apt-get install clang"; exit 1; }

fuzz: fuzz-clang-check
	@$(MAKE) --no-print-directory $(FUZZ_LF_BINS)
	@FUZZ_NICE='$(FUZZ_NICE)' tests/fuzz/run.sh $(FUZZ_LF_DIR) \
	    $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: $(FUZZ_RP_BINS)
	@tests/fuzz/replay.sh $(FUZZ_RP_DIR) $(FUZZ_TARGETS)

fuzz-seeds: all build/tests/sceptest $(FUZZ_RP_DIR)/fuzz_envelope
	@tests/fuzz/make-seeds.sh $(FUZZ_RP_DIR)

.PHONY: fuzz fuzz-replay fuzz-seeds fuzz-clang-check
