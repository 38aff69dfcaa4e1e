# The token files replaced under the running scepd by a re-provisioned
# token: same label, same PIN, keys of the same labels (the key URIs
# name keys by label only), but new key pairs.  No certificate and no
# CertRep goes out signed by a key that does not match ca.pem or
# ra.pem (503), the log names the key that does not match, nothing is
# recorded as issued; when the right token is back, enrollment resumes
# without a restart of scepd or its worker.
. "$(dirname "$0")/common.sh"
command -v pkcs11-tool >/dev/null || skip "pkcs11-tool (opensc) is not installed"
init_ca
sed -i 's|^  ca_key = .*|  ca_key = "pkcs11:object=scepd-ca";|; s|^  ra_key = .*|  ra_key = "pkcs11:object=scepd-ra";|' "$CA/scepd.conf"
grep -q 'ca_key = "pkcs11:object=scepd-ca";' "$CA/scepd.conf" || fail "could not set the key URIs"
start_scepd
parent=$SCEPD_PID
issued() { sqlite3 "$CA/scepd.db" "select count(*) from certificates where state = 'issued'"; }
sceptest before || { cat "$WORK/before.out" >&2; fail "enrollment with the right token"; }

# The other token, re-provisioned, with our PIN.
other="$WORK/other"
"$SCEPCTL" init --dir "$other" --challenge "$CHALLENGE" >/dev/null 2>&1 ||
    fail "cannot provision the other token"
SOFTHSM2_CONF="$other/softhsm2.conf" pkcs11-tool --module "$SOFTHSM_MODULE" \
    --token-label scepd --login --pin "$(cat "$other/pin")" \
    --change-pin --new-pin "$(cat "$CA/pin")" >/dev/null 2>&1 ||
    fail "cannot give the other token our PIN"

cp -a "$CA/tokens" "$WORK/tokens.good"
n=$(issued)
rm -rf "$CA/tokens" && cp -a "$other/tokens" "$CA/tokens"
for i in 1 2 3; do
	if sceptest "swapped$i"; then
		verify_cert "$WORK/swapped$i.pem"
		fail "enrolled with the other token's keys"
	fi
	expect "swapped$i" http=503
done
grep -q 'key in the token does not match the \(CA\|RA\) certificate' "$SCEPD_LOG" ||
    fail "the log does not name the key that does not match"
[ "$(issued)" -eq "$n" ] || fail "a certificate was recorded as issued from the other token"

rm -rf "$CA/tokens" && cp -a "$WORK/tokens.good" "$CA/tokens"
sceptest back || { cat "$WORK/back.out" >&2; fail "no enrollment after the right token was back"; }
verify_cert "$WORK/back.pem"
[ "$SCEPD_PID" = "$parent" ] && scepd_alive || fail "scepd or its worker was restarted"
which=$(grep -o 'the [CR]A key in the token does not match the [CR]A certificate' "$SCEPD_LOG" | sort -u | tr '\n' ';')
note "3 enrollments with the other token: 503, logged: $which nothing recorded; enrollment resumed with the right token"
