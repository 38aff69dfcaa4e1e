# Malformed PKIOperation bodies are answered with an HTTP error (never a
# crash), and the server enrolls normally afterwards.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

post() {	# post FILE -> HTTP status
	curl -s -o "$WORK/body" -w '%{http_code}' \
	    -H 'Content-Type: application/x-pki-message' \
	    --data-binary "@$1" "$URL?operation=PKIOperation"
}

: >"$WORK/empty"
[ "$(post "$WORK/empty")" = 400 ] || fail "empty body not 400"

head -c 3000 /dev/urandom >"$WORK/random"
[ "$(post "$WORK/random")" = 400 ] || fail "random body not 400"

openssl x509 -in "$CA/ca.pem" -outform DER >"$WORK/cert.der"
[ "$(post "$WORK/cert.der")" = 400 ] || fail "a certificate as body not 400"

# A real SignedData without any SCEP attributes.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/k.pem" \
    -out "$WORK/c.pem" -subj /CN=x -days 1 2>/dev/null
echo hello | openssl smime -sign -binary -nodetach -outform DER \
    -signer "$WORK/c.pem" -inkey "$WORK/k.pem" -out "$WORK/signed.der"
rm -f "$WORK/k.pem"
[ "$(post "$WORK/signed.der")" = 400 ] || fail "SignedData without SCEP attributes not 400"
grep -q transactionID "$WORK/body" || fail "400 body does not say why"

# Truncations of that SignedData.
for n in 1 10 100 500; do
	head -c "$n" "$WORK/signed.der" >"$WORK/trunc"
	[ "$(post "$WORK/trunc")" = 400 ] || fail "truncated at $n not 400"
done

head -c 70000 /dev/urandom >"$WORK/big"
[ "$(post "$WORK/big")" = 413 ] || fail "oversized body not 413"
# Also without Content-Length (chunked).
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary "@$WORK/big" "$URL?operation=PKIOperation")
[ "$st" = 413 ] || fail "oversized chunked body not 413 ($st)"

[ "$(http_status GET 'operation=PKIOperation&message=%25%25%25')" = 400 ] ||
    fail "GET with non-base64 message not 400"
[ "$(http_status GET 'operation=PKIOperation')" = 400 ] ||
    fail "GET without message not 400"
[ "$(http_status PUT 'operation=PKIOperation' --data x)" = 405 ] ||
    fail "PUT not 405"

scepd_alive || fail "scepd died"
scepclient_enroll after "$CHALLENGE" || fail "no enrollment after bad input"
verify_cert "$WORK/after/c.pem"
[ "$(sqlite3 "$CA/scepd.db" "select count(*) from events where outcome = 'malformed'")" -ge 6 ] ||
    fail "malformed requests are not recorded"
