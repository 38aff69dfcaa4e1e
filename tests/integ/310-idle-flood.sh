# 1000 idle connections from one address (127.0.0.2) must not delay an
# enrollment from another (127.0.0.1): connections over
# server.max_connections_per_client are refused at once instead of
# queueing in front of everyone else.  Defaults only.
. "$(dirname "$0")/common.sh"
NETLOAD="$TOP/build/tests/netload"
[ -x "$NETLOAD" ] || fail "build first: make build/tests/netload"
FLOOD=1000
# The flood's own sockets, and some to spare.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((FLOOD + 200)) ]; then
	ulimit -n $((FLOOD + 200)) 2>/dev/null ||
	    skip "ulimit -n is $(ulimit -n) and cannot be raised to $((FLOOD + 200))"
fi
init_ca
openssl genrsa -out "$WORK/other.key" 2048 2>/dev/null
start_scepd
port=${URL##*:}
port=${port%%/*}

"$NETLOAD" --bind 127.0.0.2 --port "$port" idle $FLOOD 60 \
    >"$WORK/idle.out" 2>&1 &
load=$!
i=0
until grep -q '^opened=' "$WORK/idle.out"; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "the idle clients never connected"
	sleep 0.1
done
note "idle flood: $(grep '^opened=' "$WORK/idle.out")"

timeout 40 "$SCEPTEST" --url "$URL" --key "$WORK/other.key" --cn other \
    --challenge "$CHALLENGE" --out "$WORK/other.pem" enroll \
    >"$WORK/other.out" 2>&1 || { cat "$WORK/other.out" >&2;
    fail "no enrollment from 127.0.0.1 during the idle flood"; }
verify_cert "$WORK/other.pem"
kill -TERM "$load"
wait "$load" || true
note "idle flood: $(grep '^closed_by_server=' "$WORK/idle.out")"
grep -q 'client=127.0.0.2 limit=max_connections_per_client' "$SCEPD_LOG" ||
    fail "no refusal by max_connections_per_client in the log"
stop_scepd
