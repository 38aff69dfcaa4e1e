# SIGTERM with requests queued behind a slow one: scepd stops accepting,
# and every request it had already accepted gets an HTTP answer: the
# one in flight finishes (200), the others are finished or refused with
# 503 and Retry-After; then scepd exits 0.  One worker; the token is
# held by another process so that the first request waits for it.
. "$(dirname "$0")/common.sh"
NETLOAD="$TOP/build/tests/netload"
[ -x "$NETLOAD" ] || fail "build first: make build/tests/netload"
command -v flock >/dev/null || skip "flock(1) is not installed"
QUEUED=6
init_ca
sed 's/workers = 4;/workers = 1;/' "$CA/scepd.conf" >"$CA/one.conf"
grep -q 'workers = 1;' "$CA/one.conf" || fail "could not set workers"
: >"$SCEPD_LOG"
"$SCEPD" --verbose --config "$CA/one.conf" --listen 127.0.0.1:0 \
    >"$SCEPD_LOG" 2>&1 &
SCEPD_PID=$!
i=0
until grep -q ready "$SCEPD_LOG"; do
	kill -0 "$SCEPD_PID" 2>/dev/null || { SCEPD_PID=; fail "scepd exited at start"; }
	i=$((i + 1)); [ $i -lt 300 ] || fail "scepd did not start"; sleep 0.1
done
port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' "$SCEPD_LOG")
URL="http://127.0.0.1:$port/scep"

# The requests to queue: real pkiMessages (enrolled once now, so each
# is a retransmission later; it still needs the token).
i=1
while [ $i -le $QUEUED ]; do
	sceptest "q$i" --save-request "$WORK/q$i.der" || fail "enrollment q$i"
	i=$((i + 1))
done
received=$(grep -c 'msgtype=PKCSReq received' "$SCEPD_LOG")

flock --no-fork "$CA/hsm.lock" sleep 30 &
holder=$!
i=0
while flock -n "$CA/hsm.lock" true; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "the token lock was not taken"; sleep 0.1
done
# The first request goes in flight and waits for the token; the others
# come while it waits, and queue behind it.
"$NETLOAD" --port "$port" post 1 60 "$WORK/q1.der" >"$WORK/first.out" 2>&1 &
first=$!
i=0
until [ "$(grep -c 'msgtype=PKCSReq received' "$SCEPD_LOG")" -gt "$received" ]; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "no request reached the token"; sleep 0.1
done
set --
i=2
while [ $i -le $QUEUED ]; do
	set -- "$@" "$WORK/q$i.der"
	i=$((i + 1))
done
"$NETLOAD" --port "$port" post $((QUEUED - 1)) 60 "$@" >"$WORK/rest.out" 2>&1 &
rest=$!
i=0
until grep -q '^sent=' "$WORK/rest.out"; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "the requests were not sent"; sleep 0.1
done
grep -q "^sent=$((QUEUED - 1))\$" "$WORK/rest.out" || fail "not all requests were sent"

kill -TERM "$SCEPD_PID"
i=0
until grep -q 'SIGTERM' "$SCEPD_LOG"; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "scepd did not see SIGTERM"; sleep 0.1
done
kill "$holder"
wait "$holder" 2>/dev/null || true
st=0
wait "$SCEPD_PID" || st=$?
SCEPD_PID=
[ "$st" -eq 0 ] || fail "scepd exit status $st after SIGTERM"
wait "$first" || { cat "$WORK/first.out" >&2; fail "netload post failed"; }
wait "$rest" || { cat "$WORK/rest.out" >&2; fail "netload post failed"; }
cat "$WORK/first.out" "$WORK/rest.out" | grep '^conn=' >"$WORK/answers"
[ "$(grep -c 'status=[1-9]' "$WORK/answers")" -eq $QUEUED ] ||
    { cat "$WORK/answers" >&2; fail "a request accepted before SIGTERM got no answer"; }
grep -Ev 'status=(200|503) ' "$WORK/answers" && fail "an answer other than 200 or 503"
grep 'status=503 ' "$WORK/answers" | grep -q 'retry_after=0' &&
    fail "a 503 without Retry-After"
grep -q 'status=200 ' "$WORK/first.out" || fail "the request in flight did not finish"
note "$(grep -c 'status=200 ' "$WORK/answers") finished, $(grep -c 'status=503 ' "$WORK/answers") refused with 503"
