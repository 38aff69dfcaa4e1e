# Slowloris: 300 connections from 127.0.0.2 that each trickle a request
# header one byte a second must not keep another client (127.0.0.1)
# from GetCACaps and an enrollment: scepd refuses connections over
# server.max_connections_per_client and logs it.  Defaults only.
. "$(dirname "$0")/common.sh"
NETLOAD="$TOP/build/tests/netload"
[ -x "$NETLOAD" ] || fail "build first: make build/tests/netload"
init_ca
openssl genrsa -out "$WORK/other.key" 2048 2>/dev/null
start_scepd
port=${URL##*:}
port=${port%%/*}

"$NETLOAD" --bind 127.0.0.2 --port "$port" trickle 300 60 \
    >"$WORK/trickle.out" 2>&1 &
load=$!
i=0
until grep -q '^opened=' "$WORK/trickle.out"; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "the trickling clients never connected"
	sleep 0.1
done
note "trickle: $(grep '^opened=' "$WORK/trickle.out")"

st=$(curl -s -o "$WORK/caps" -w '%{http_code}' --max-time 20 \
    "$URL?operation=GetCACaps" || true)
[ "$st" = 200 ] || fail "GetCACaps from 127.0.0.1 during the trickle: '$st'"
timeout 40 "$SCEPTEST" --url "$URL" --key "$WORK/other.key" --cn other \
    --challenge "$CHALLENGE" --out "$WORK/other.pem" enroll \
    >"$WORK/other.out" 2>&1 || { cat "$WORK/other.out" >&2;
    fail "no enrollment from 127.0.0.1 during the trickle"; }
verify_cert "$WORK/other.pem"
kill -TERM "$load"
wait "$load" || true
note "trickle: $(grep '^closed_by_server=' "$WORK/trickle.out")"
grep -q 'client=127.0.0.2 limit=max_connections_per_client' "$SCEPD_LOG" ||
    fail "no refusal by max_connections_per_client in the log"
stop_scepd
