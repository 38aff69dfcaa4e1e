# A wrong challenge gets a signed CertRep FAILURE with failInfo
# badRequest; nothing is issued; the refusal is recorded.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

scepclient_enroll bad "not-the-$CHALLENGE" && fail "wrong challenge accepted"
grep -q 'failInfo: badRequest' "$WORK/bad/out" ||
    { cat "$WORK/bad/out" >&2; fail "no badRequest failInfo"; }
[ -e "$WORK/bad/c.pem" ] && fail "a certificate was written"
[ "$(cert_count)" -eq 0 ] || fail "something was issued"
grep -q 'outcome=rejected failInfo=badRequest reason="wrong challenge password"' \
    "$SCEPD_LOG" || fail "no audit line for the refusal"
grep -q "$CHALLENGE" "$SCEPD_LOG" && fail "the challenge reached the log"
[ "$(sqlite3 "$CA/scepd.db" "select count(*) from events where outcome = 'rejected'")" -eq 1 ] ||
    fail "the refusal is not in the database"
# The same client with the right challenge then succeeds.
scepclient_enroll good "$CHALLENGE" || fail "right challenge refused"
verify_cert "$WORK/good/c.pem"
