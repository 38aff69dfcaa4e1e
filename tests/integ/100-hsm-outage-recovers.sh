# When the token goes away, requests fail cleanly (HTTP 503) and the
# server keeps serving; when it comes back, the very next enrollment
# works, with no restart of scepd.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd
scepclient_enroll before "$CHALLENGE" || fail "enrollment before the outage"

mv "$CA/tokens" "$CA/tokens.away"
scepclient_enroll during "$CHALLENGE" && fail "enrolled without a token"
grep -q '503' "$WORK/during/out" ||
    { cat "$WORK/during/out" >&2; fail "no HTTP 503 during the outage"; }
scepd_alive || fail "scepd died with the token"
[ "$(http_status GET operation=GetCACert)" = 200 ] ||
    fail "GetCACert does not work without the token"
grep -q 'outcome=failed reason="HSM unavailable"' "$SCEPD_LOG" ||
    fail "no audit line for the outage"

mv "$CA/tokens.away" "$CA/tokens"
scepclient_enroll after "$CHALLENGE" ||
    { cat "$WORK/after/out" >&2; fail "first enrollment after the token returned"; }
verify_cert "$WORK/after/c.pem"
scepclient_enroll after2 "$CHALLENGE" || fail "second enrollment after"
[ "$(sqlite3 "$CA/scepd.db" "select count(*) from transactions where state = 'processing'")" -eq 0 ] ||
    fail "a transaction was left processing"
# The outage is logged with its cause, not with OpenSSL's engine probes.
grep -q 'engines-3\|rdrand' "$SCEPD_LOG" &&
    fail "the log blames a missing OpenSSL engine for the outage"
grep -q 'cannot load PKCS#11 module .*PKCS#11 module' "$SCEPD_LOG" ||
    fail "the module failure is not logged with its PKCS#11 reason"
