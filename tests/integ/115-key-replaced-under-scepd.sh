# Verify after sign: a key replaced in the token while scepd runs (same
# label and CKA_ID, new key pair) sends no certificate and no CertRep
# signed with it.  The request fails with 503, the log names the key and
# the certificate it no longer matches, nothing is recorded as issued,
# and every request checks again (the token restored, enrollment works).
. "$(dirname "$0")/common.sh"
command -v pkcs11-tool >/dev/null || skip "pkcs11-tool (opensc) is not installed"
init_ca
start_scepd
export SOFTHSM2_CONF="$CA/softhsm2.conf"

p11() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label scepd --login \
	    --pin "$(cat "$CA/pin")" "$@"
}
# replace_key LABEL: a new key pair under the old label and CKA_ID.
replace_key() {
	p11 --list-objects --type privkey >"$WORK/objects" 2>&1
	id=$(awk -v l="$1" '/Private Key Object/ { k = 1 }
	    k && $1 == "label:" { lab = $2 }
	    k && $1 == "ID:" && lab == l { print $2; exit }' "$WORK/objects")
	[ -n "$id" ] || { cat "$WORK/objects" >&2; fail "no CKA_ID for $1"; }
	type=$(p11 --list-objects --type pubkey 2>/dev/null |
	    awk -v l="$1" '/Public Key Object/ { t = $4 } $1 == "label:" &&
	    $2 == l { print t; exit }')
	case $type in EC*) kt=EC:prime256v1 ;; *) kt=rsa:2048 ;; esac
	p11 --delete-object --type privkey --label "$1" >/dev/null 2>&1 ||
	    fail "cannot delete $1"
	p11 --delete-object --type pubkey --label "$1" >/dev/null 2>&1 || true
	p11 --keypairgen --key-type "$kt" --label "$1" --id "$id" \
	    --usage-sign --usage-decrypt >/dev/null 2>&1 ||
	    fail "cannot generate a new $1 key"
}

sceptest before || fail "enrollment before the key was replaced"
expect before status=SUCCESS
cp -a "$CA/tokens" "$WORK/tokens.good"

replace_key scepd-ca
for i in 1 2; do
	sceptest "ca-swapped$i" && fail "issued with a replaced CA key"
	expect "ca-swapped$i" http=503
done
[ "$(grep -c 'the CA key in the token does not match the CA certificate' "$SCEPD_LOG")" -ge 2 ] ||
    fail "the log does not name the CA key on every request"
grep -q "does not match the CA certificate .*ca.pem: nothing sent" "$SCEPD_LOG" ||
    fail "the log does not name the CA certificate file"
[ "$(cert_count)" -eq 1 ] || fail "a certificate from the replaced key was recorded"
[ "$(sqlite3 "$CA/scepd.db" "select count(*) from certificates where state = 'issued'")" -eq 1 ] ||
    fail "the store holds an issued certificate from the replaced key"

# The token as it was: the very next request checks again and succeeds.
rm -rf "$CA/tokens" && cp -a "$WORK/tokens.good" "$CA/tokens"
sceptest restored || { cat "$WORK/restored.out" >&2; fail "no enrollment after the token was restored"; }
expect restored status=SUCCESS
verify_cert "$WORK/restored.pem"

replace_key scepd-ra
sceptest ra-swapped && fail "answered with a replaced RA key"
expect ra-swapped http=503
grep -q 'the RA key in the token does not match the RA certificate' "$SCEPD_LOG" ||
    fail "the log does not name the RA key"
scepd_alive || fail "scepd died"
note "replaced CA and RA keys: 503 naming the key, nothing issued; restored token enrolls"
