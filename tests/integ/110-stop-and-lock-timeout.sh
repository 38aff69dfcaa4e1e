# The token lock: a request that cannot get the token within
# hsm.lock_timeout fails cleanly (503) and the server carries on; and
# SIGTERM lets an in-flight enrollment finish before scepd exits 0.
. "$(dirname "$0")/common.sh"
command -v flock >/dev/null || skip "flock(1) is not installed"
init_ca
sed 's/lock_timeout = 30;/lock_timeout = 1;/' "$CA/scepd.conf" >"$CA/short.conf"
grep -q 'lock_timeout = 1;' "$CA/short.conf" || fail "could not set lock_timeout"
start_scepd "$CA/short.conf"

# Another process holds the token for longer than lock_timeout.
flock --no-fork "$CA/hsm.lock" sleep 30 &
holder=$!
sleep 0.5
scepclient_enroll blocked "$CHALLENGE" && fail "enrolled while the token was held"
grep -q 503 "$WORK/blocked/out" || fail "no 503 while the token was held"
grep -q 'token locked by another process' "$SCEPD_LOG" ||
    fail "no log line naming the lock"
kill "$holder"; wait "$holder" 2>/dev/null || true
scepclient_enroll free "$CHALLENGE" || fail "enrollment after the lock was freed"
stop_scepd

# SIGTERM while an enrollment waits for the token: it still completes.
sed 's/lock_timeout = 30;/lock_timeout = 20;/' "$CA/scepd.conf" >"$CA/long.conf"
"$SCEPD" --verbose --config "$CA/long.conf" --listen 127.0.0.1:0 \
    >"$SCEPD_LOG" 2>&1 &
SCEPD_PID=$!
i=0
until grep -q ready "$SCEPD_LOG"; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "scepd did not start"; sleep 0.1
done
URL="http://127.0.0.1:$(sed -n 's/.*port \([0-9]*\) .*/\1/p' "$SCEPD_LOG")/scep"
flock --no-fork "$CA/hsm.lock" sleep 3 &
holder=$!
sleep 0.3
scepclient_enroll inflight "$CHALLENGE" &
client=$!
i=0
until grep -q 'msgtype=PKCSReq received' "$SCEPD_LOG"; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "the request never arrived"; sleep 0.1
done
kill -TERM "$SCEPD_PID"
wait "$client" || { cat "$WORK/inflight/out" >&2; fail "in-flight enrollment lost on SIGTERM"; }
verify_cert "$WORK/inflight/c.pem"
st=0; wait "$SCEPD_PID" || st=$?
SCEPD_PID=
[ "$st" -eq 0 ] || fail "scepd exit status $st after SIGTERM"
wait "$holder" 2>/dev/null || true
awk '/SIGTERM/ { t = NR } /outcome=issued/ { i = NR } /stopped/ { s = NR }
    END { exit !(t < i && i < s) }' "$SCEPD_LOG" ||
    fail "the log does not show SIGTERM, then the issuance, then the stop"
