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
hold_token_lock
sceptest blocked && fail "enrolled while the token was held"
expect blocked http=503
log_has 'token locked by another process' || fail "no log line naming the lock"
release_token_lock
sceptest free || fail "enrollment after the lock was freed"
expect free status=SUCCESS
stop_scepd

# SIGTERM while an enrollment waits for the token: it still completes.
# The client's key exists before anything waits on the client.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$WORK/inflight.key" 2>/dev/null
sed 's/lock_timeout = 30;/lock_timeout = 120;/' "$CA/scepd.conf" >"$CA/long.conf"
SCEPD_ARGS=--verbose start_scepd "$CA/long.conf"
hold_token_lock
sceptest inflight &
client=$!
wait_for "the request to arrive" log_has 'msgtype=PKCSReq received'
kill -TERM "$SCEPD_PID"
wait_for "scepd to take SIGTERM" log_has SIGTERM
release_token_lock
wait "$client" || { cat "$WORK/inflight.out" >&2; fail "in-flight enrollment lost on SIGTERM"; }
expect inflight status=SUCCESS
verify_cert "$WORK/inflight.pem"
st=0; wait "$SCEPD_PID" || st=$?
SCEPD_PID=
[ "$st" -eq 0 ] || fail "scepd exit status $st after SIGTERM"
awk '/SIGTERM/ { t = NR } /outcome=issued/ { i = NR } /stopped/ { s = NR }
    END { exit !(t < i && i < s) }' "$SCEPD_LOG" ||
    fail "the log does not show SIGTERM, then the issuance, then the stop"
