# tests/netload/netload: crowded and hostile HTTP clients for the
# integration tests of the connection limits (tests/integ/3NN-*.sh).
# Included by tests/tests.mk.

build/tests/netload: tests/netload/netload.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

integ: build/tests/netload
