# With the OpenSSL-based test client: every accepted cipher and digest,
# PKIOperation by GET, and each malformed or refused message gets the
# answer RFC 8894 asks for.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

for c in aes-128-cbc aes-192-cbc aes-256-cbc des-ede3-cbc des-cbc; do
	sceptest "c-$c" --cipher "$c" || { cat "$WORK/c-$c.out" >&2; fail "cipher $c"; }
	verify_cert "$WORK/c-$c.pem"
done
# Answers use the request's cipher, but never single DES.
expect c-aes-128-cbc cipher=AES-128-CBC
expect c-aes-192-cbc cipher=AES-192-CBC
expect c-des-ede3-cbc cipher=DES-EDE3-CBC
expect c-des-cbc cipher=DES-EDE3-CBC

for d in sha1 sha256 sha512; do
	sceptest "d-$d" --digest "$d" || fail "digest $d"
	verify_cert "$WORK/d-$d.pem"
done
sceptest d-md5 --digest md5 && fail "MD5 accepted"
expect d-md5 failInfo=badAlg

sceptest get --method get || fail "PKIOperation by GET"
verify_cert "$WORK/get.pem"

sceptest ec --key-type ec:p256 || fail "EC P-256 request key"
verify_cert "$WORK/ec.pem"
openssl x509 -in "$WORK/ec.pem" -noout -ext keyUsage | grep -q 'Key Encipherment' &&
    fail "keyEncipherment on an EC certificate"

sceptest san --san-dns a.example.net --san-ip 192.0.2.7 \
    --san-email ops@example.net --san-uri https://example.net/x || fail "SANs"
openssl x509 -in "$WORK/san.pem" -noout -ext subjectAltName >"$WORK/san.txt"
for want in DNS:a.example.net 'IP Address:192.0.2.7' email:ops@example.net \
    URI:https://example.net/x; do
	grep -q "$want" "$WORK/san.txt" || fail "SAN $want not copied"
done
openssl x509 -in "$WORK/san.pem" -noout -ext extendedKeyUsage |
    grep -q 'TLS Web Client Authentication' || fail "no clientAuth EKU"
openssl x509 -in "$WORK/san.pem" -noout -ext basicConstraints |
    grep -q 'CA:FALSE' || fail "basicConstraints is not CA:FALSE"

# Refusals, each a signed CertRep FAILURE with the right failInfo.
sceptest wrong-recipient --recipient ca && fail "envelope to the CA accepted"
expect wrong-recipient failInfo=badMessageCheck
# A signature that does not verify binds nobody: HTTP 400, no key used.
sceptest badsig --corrupt-signature && fail "bad signature accepted"
expect badsig http=400
grep -q 'error=txid=.*: the message signature does not verify' "$WORK/badsig.out" ||
    fail "badsig: the 400 does not say why"
SCEPTEST_CHALLENGE= sceptest nochallenge && fail "no challenge accepted"
expect nochallenge failInfo=badRequest
expect nochallenge 'failInfoText=the request has no challenge password'
sceptest shortnonce --nonce-len 8 && fail "8-byte nonce accepted"
expect shortnonce failInfo=badRequest
sceptest notype --omit messageType && fail "no messageType accepted"
expect notype failInfo=badRequest
sceptest getcert --msgtype GetCert --serial 01 && fail "GetCert answered"
expect getcert failInfo=badRequest
openssl genrsa -traditional -out "$WORK/weak.key" 1024 2>/dev/null
sceptest weak && fail "RSA-1024 key certified"
expect weak failInfo=badRequest

# Messages that cannot be answered with a CertRep: HTTP 400.
sceptest notxid --omit transactionID && fail "no transactionID accepted"
expect notxid http=400
sceptest nononce --omit senderNonce && fail "no senderNonce accepted"
expect nononce http=400
sceptest saved --save-request "$WORK/saved.der" || fail "saved request"
for n in 20 200 1000; do
	head -c "$n" "$WORK/saved.der" >"$WORK/trunc.der"
	"$SCEPTEST" --url "$URL" --send-file "$WORK/trunc.der" enroll \
	    >"$WORK/trunc.out" 2>&1 && fail "truncated request accepted"
	grep -qx http=400 "$WORK/trunc.out" || fail "truncated at $n: not 400"
done

# Retransmission: same key and transactionID -> the same certificate.
sceptest rt --txid retransmit-1 || fail "first send"
s1=$(serial_of "$WORK/rt.pem")
n1=$(cert_count)
sceptest rt --txid retransmit-1 || fail "retransmission"
[ "$(serial_of "$WORK/rt.pem")" = "$s1" ] || fail "retransmission re-issued"
[ "$(cert_count)" -eq "$n1" ] || fail "retransmission added a certificate"
# The same transactionID with another key is refused.
sceptest rt-other --txid retransmit-1 && fail "transactionID reused for a new key"
expect rt-other failInfo=badRequest

scepd_alive || fail "scepd died"
sceptest final || fail "enrollment after all that"
verify_cert "$WORK/final.pem"
