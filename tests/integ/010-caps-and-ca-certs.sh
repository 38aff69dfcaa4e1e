# GetCACaps advertises exactly what scepd supports; GetCACert returns
# the CA and RA certificates as a degenerate PKCS#7 on any path.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

curl -sf "$URL?operation=GetCACaps" >"$WORK/caps" || fail "GetCACaps"
for cap in AES DES3 POSTPKIOperation Renewal SCEPStandard SHA-1 SHA-256 \
    SHA-512; do
	grep -qx "$cap" "$WORK/caps" || fail "GetCACaps lacks $cap"
done
[ "$(wc -l <"$WORK/caps")" -eq 8 ] || fail "GetCACaps lists more: $(cat "$WORK/caps")"
grep -qx 'GetNextCACert\|DES' "$WORK/caps" &&
    fail "GetCACaps advertises what is not supported"

base=${URL%/scep}
for path in /scep /cgi-bin/pkiclient.exe /; do
	ct=$(curl -sf -o "$WORK/cacert.der" -w '%{content_type}' \
	    "$base$path?operation=GetCACert&message=x") ||
	    fail "GetCACert on $path"
	[ "$ct" = "application/x-x509-ca-ra-cert" ] ||
	    fail "GetCACert content type is $ct"
	openssl pkcs7 -inform DER -in "$WORK/cacert.der" -print_certs \
	    -out "$WORK/chain.pem" || fail "GetCACert is not PKCS#7"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$WORK/chain.pem")" -eq 2 ] ||
	    fail "GetCACert does not hold two certificates"
done
grep -q 'subject=CN = scepd CA' "$WORK/chain.pem" || fail "no CA certificate"
grep -q 'subject=CN = scepd RA' "$WORK/chain.pem" || fail "no RA certificate"
openssl verify -CAfile "$CA/ca.pem" "$CA/ra.pem" >/dev/null ||
    fail "RA certificate does not chain to the CA"
openssl x509 -in "$CA/ra.pem" -noout -ext keyUsage |
    grep -q 'Digital Signature, Key Encipherment' ||
    fail "RA keyUsage is not digitalSignature + keyEncipherment"

[ "$(http_status GET operation=GetNextCACert)" = 404 ] ||
    fail "GetNextCACert without a next CA is not 404"
[ "$(http_status GET operation=Bogus)" = 400 ] || fail "unknown operation"
note "caps: $(tr '\n' ' ' <"$WORK/caps")"
