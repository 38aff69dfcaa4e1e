# scepd: a SCEP CA whose keys never leave a PKCS#11 token.
#
#   make            build bin/scepd and bin/scepctl
#   make demo       install missing packages, build, provision a
#                   SoftHSM2-backed CA under var/demo/, serve on :8080
#   make check      install missing packages, build, run unit tests
#                   (also under ASan+UBSan) and integration tests
#   make install PREFIX=/usr/local DESTDIR=

PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	 = $(PREFIX)/bin
LIBDIR	 = $(PREFIX)/lib/scepd
LIBEXECDIR = $(PREFIX)/libexec/scepd

CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-format-nonliteral
ifneq ($(CI),)
WARN	+= -Werror
endif
PKGS	 = libcrypto libp11 p11-kit-1 libmicrohttpd sqlite3 libconfig \
	   libcurl jansson
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(PKG_CFLAGS) \
	   -DSCEPD_LIBEXECDIR='"$(LIBEXECDIR)"' $(CFLAGS)
LDLIBS	 = $(PKG_LIBS) -lpthread
# The worker (bin/scepd) is not even linked with libp11.
SERVER_PKGS = $(filter-out libp11,$(PKGS))
SERVER_LIBS = $(shell pkg-config --libs $(SERVER_PKGS) 2>/dev/null) -lpthread

# Modules shared by both programs.
COMMON	 = src/log.c src/alg.c src/config.c src/cfgutil.c src/encode.c \
	   src/challenge.c \
	   src/store_txn.c src/store_otp.c \
	   src/certbuild.c src/files.c src/store_sqlite.c hsm/keyref.c \
	   src/issue.c policy/policy_load.c policy/policy_eval.c \
	   policy/policy_request.c src/challenge_check.c src/webhook.c \
	   src/audit.c src/ratelimit.c hsm/hsm_lock.c hsm/softhsm.c
# The worker's request path, and the processes around it.
SERVER	 = src/http.c src/service.c src/pkiop.c src/scep.c src/ipc.c \
	   src/privdrop.c
PROCS	 = src/scepd.c src/parent.c src/worker.c src/signer_ipc.c
# The key process: the only program that loads the PKCS#11 module.
KEYPROC	 = src/keyproc.c src/certline.c src/ipc.c src/privdrop.c \
	   hsm/signer_p11.c
ADMIN	 = src/scepctl_init.c src/scepctl_otp.c src/scepctl_pending.c \
	   src/scepctl_policy.c src/scepctl_hsm.c hsm/provision.c \
	   hsm/p11_admin.c hsm/signer_p11.c

OBJ	 = build/obj
obj	 = $(patsubst %.c,$(OBJ)/%.o,$(1))

all: bin/scepd bin/scepd-keyproc bin/scepctl lib/p11fault.so

$(OBJ)/%.o: %.c $(wildcard include/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

bin/scepd: $(call obj,$(PROCS) $(SERVER) $(COMMON))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(SERVER_LIBS)

bin/scepd-keyproc: $(call obj,$(KEYPROC) $(COMMON))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

bin/scepctl: $(call obj,src/scepctl.c $(ADMIN) $(COMMON))
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The fault-injecting PKCS#11 module (hsm/p11fault.c), for tests and
# for anyone who wants to see how their set-up copes with a bad HSM.
lib/p11fault.so: hsm/p11fault.c hsm/p11fault_functions.h
	@mkdir -p lib
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared \
	    -fvisibility=hidden -o $@ hsm/p11fault.c \
	    $(shell pkg-config --cflags p11-kit-1) \
	    $(shell pkg-config --cflags --libs libconfig) -ldl -lpthread

include tests/tests.mk

deps:
	@scripts/install-deps.sh build

check-deps:
	@scripts/install-deps.sh check

DEMO_DIR = var/demo
demo: deps
	@$(MAKE) --no-print-directory all
	@if [ ! -e $(DEMO_DIR)/scepd.conf ]; then \
		mkdir -p var && umask 077 && \
		openssl rand -hex 12 > var/demo-challenge && \
		bin/scepctl init --dir $(DEMO_DIR) \
		    --challenge "$$(cat var/demo-challenge)" || exit 1; \
	fi
	@echo "demo challenge password: $$(cat var/demo-challenge)"
	@echo "enroll with: scepclient -server-url http://127.0.0.1:8080/scep -challenge $$(cat var/demo-challenge) -private-key k.pem -certificate c.pem -cn host1"
	bin/scepd --config $(DEMO_DIR)/scepd.conf --listen 127.0.0.1:8080

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 bin/scepd bin/scepctl $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 bin/scepd-keyproc $(DESTDIR)$(LIBEXECDIR)/
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 lib/p11fault.so $(DESTDIR)$(LIBDIR)/

clean:
	rm -rf build bin lib

.PHONY: all deps check-deps demo install clean
