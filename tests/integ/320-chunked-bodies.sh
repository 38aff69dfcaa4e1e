# Chunked bodies over server.max_body: an endless one and a 100 MiB one
# are answered 413 and the connection is closed as soon as the cap is
# passed, while the client still has most of its body unsent; the
# server keeps serving.  Defaults only (max_body 64 KiB).
. "$(dirname "$0")/common.sh"
NETLOAD="$TOP/build/tests/netload"
[ -x "$NETLOAD" ] || fail "build first: make build/tests/netload"
HUNDRED_MIB=104857600
init_ca
start_scepd
port=${URL##*:}
port=${port%%/*}

# Endless: netload gives up after 20 s; the server must end it first.
"$NETLOAD" --port "$port" chunked 0 20 >"$WORK/endless.out" 2>&1 ||
    { cat "$WORK/endless.out" >&2; fail "netload chunked failed"; }
note "endless chunked body: $(tail -n 1 "$WORK/endless.out")"
grep -q 'closed=1' "$WORK/endless.out" ||
    fail "an endless chunked body was not cut off"
grep -Eq 'status=(413|0) ' "$WORK/endless.out" ||
    fail "an endless chunked body got an answer other than 413"

# 100 MiB: the answer comes while most of it is still unsent.
"$NETLOAD" --port "$port" chunked $HUNDRED_MIB 60 >"$WORK/big.out" 2>&1 ||
    { cat "$WORK/big.out" >&2; fail "netload chunked failed"; }
note "100 MiB chunked body: $(tail -n 1 "$WORK/big.out")"
grep -q 'status=413 ' "$WORK/big.out" || fail "a 100 MiB chunked body got no 413"
sent=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$WORK/big.out")
[ "$sent" -lt $((HUNDRED_MIB / 2)) ] ||
    fail "the server read $sent bytes of a 100 MiB body before its 413"

[ "$(http_status GET operation=GetCACaps)" = 200 ] ||
    fail "GetCACaps after the chunked bodies"
grep -q 'limit=max_body' "$SCEPD_LOG" || fail "no refusal by max_body in the log"
stop_scepd
