# A CA with an EC P-384 key in the token: certificates are signed with
# ECDSA/SHA-384 through PKCS#11 and verify.  (Debian's scepclient cannot
# enroll with an EC CA: it encrypts to every GetCACert certificate.)
. "$(dirname "$0")/common.sh"
init_ca --ca-key ec:p384 --ca-subject "CN=EC Test CA,O=scepd tests"
start_scepd
openssl x509 -in "$CA/ca.pem" -noout -text | grep -q 'NIST CURVE: P-384' ||
    fail "the CA key is not P-384"
sceptest e1 || { cat "$WORK/e1.out" >&2; fail "enrollment with an EC CA"; }
verify_cert "$WORK/e1.pem"
openssl x509 -in "$WORK/e1.pem" -noout -text |
    grep -q 'Signature Algorithm: ecdsa-with-SHA384' ||
    fail "not signed with ECDSA/SHA-384"
openssl x509 -in "$WORK/e1.pem" -noout -issuer | grep -q 'CN = EC Test CA' ||
    fail "issuer is not the CA subject"
