# A clean stop (SIGTERM) and restart keeps every issued record, and a
# retransmitted request gets the same certificate, not a second one.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

for h in r1 r2 r3; do
	scepclient_enroll "$h" "$CHALLENGE" || fail "enrollment $h"
done
before=$("$SCEPCTL" cert list --config "$CA/scepd.conf")
stop_scepd
grep -q 'stopped' "$SCEPD_LOG" || fail "no clean stop in the log"

start_scepd
after=$("$SCEPCTL" cert list --config "$CA/scepd.conf")
[ "$before" = "$after" ] || fail "records changed across the restart"
[ "$(cert_count)" -eq 3 ] || fail "records lost"

# scepclient keeps its CSR in the working directory: running it again
# there with a new key file resends the same request (same public key,
# same transactionID), which must return the same certificate.
s1=$(serial_of "$WORK/r2/c.pem")
rm "$WORK/r2/c.pem"
(cd "$WORK/r2" && scepclient -server-url "$URL" -challenge "$CHALLENGE" \
    -private-key k2.pem -certificate c.pem -cn r2 >out2 2>&1) ||
    fail "retransmission refused"
[ "$(serial_of "$WORK/r2/c.pem")" = "$s1" ] ||
    fail "a retransmission got a new certificate"
[ "$(cert_count)" -eq 3 ] || fail "a retransmission issued a certificate"
grep -q 'outcome=resent' "$SCEPD_LOG" || fail "no 'resent' audit line"
"$SCEPCTL" cert show --config "$CA/scepd.conf" "$s1" >"$WORK/shown.pem" ||
    fail "scepctl cert show"
cmp -s "$WORK/shown.pem" "$WORK/r2/c.pem" || fail "stored DER differs"

scepclient_enroll r4 "$CHALLENGE" || fail "enrollment after restart"
verify_cert "$WORK/r4/c.pem"
