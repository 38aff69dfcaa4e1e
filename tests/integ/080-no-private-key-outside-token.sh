# The CA and RA private keys exist only inside the token: no PEM or DER
# private key anywhere under the CA directory, and the token reports
# both as sensitive and never extractable.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd
scepclient_enroll k1 "$CHALLENGE" || fail "enrollment"
verify_cert "$WORK/k1/c.pem"
stop_scepd

grep -rl 'PRIVATE KEY' "$CA" && fail "PEM private key material under $CA"
# Every regular file outside the token directories, tried as a key.
find "$CA" -type f ! -path '*/tokens*' >"$WORK/files"
while read -r f; do
	for form in PEM DER; do
		if openssl pkey -inform "$form" -in "$f" -passin pass: \
		    -noout 2>/dev/null; then
			fail "$f parses as a private key"
		fi
	done
done <"$WORK/files"

export SOFTHSM2_CONF="$CA/softhsm2.conf"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label scepd --login \
    --pin "$(cat "$CA/pin")" --list-objects --type privkey \
    >"$WORK/objects" 2>&1 || fail "pkcs11-tool cannot list keys"
[ "$(grep -c 'Private Key Object' "$WORK/objects")" -eq 2 ] ||
    fail "the token does not hold exactly two private keys"
[ "$(grep -c 'never extractable' "$WORK/objects")" -eq 2 ] ||
    { cat "$WORK/objects" >&2; fail "a key is extractable"; }
[ "$(grep -c 'Access:.*sensitive' "$WORK/objects")" -eq 2 ] ||
    fail "a key is not sensitive"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label scepd --login \
    --pin "$(cat "$CA/pin")" --read-object --type privkey \
    --label scepd-ca -o "$WORK/leak.der" >/dev/null 2>&1 &&
    [ -s "$WORK/leak.der" ] && fail "the CA private key could be read out"
# The certificates are in the token too.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label scepd \
    --list-objects --type cert 2>/dev/null | grep -c 'Certificate Object' |
    grep -qx 2 || fail "the token does not hold the two certificates"
