#!/bin/sh
# Regenerates the seed corpora tests/fuzz/corpus/TARGET/ (make fuzz-seeds).
#
# Real inputs, made the way clients and operators make them:
#   - pkiMessages from the repository's own test client
#     (build/tests/sceptest) against a real scepd with a SoftHSM2 token
#     made by "scepctl init" in a temporary directory; some are
#     encrypted to the RA certificate of the fuzz fixture, so that the
#     http_get target can run them all the way;
#   - CSRs, IssuerAndSubject and EnvelopedData from the openssl CLI,
#     encrypted to the fixture's RA certificate (exported by a fuzz
#     binary with SCEPD_FUZZ_EXPORT);
#   - policies from policy/*.conf, the fixture's and the one
#     "scepctl init" writes; the scepd.conf it writes, and variants;
#   - webhook replies.
# Every seed corpus is replaced as a whole.  Keep them small: a few
# dozen files and well under 1 MB per target.
#
# usage: tests/fuzz/make-seeds.sh REPLAY_BINDIR   (from the top directory)
set -eu

bindir=${1:-build/fuzz-replay}
for f in bin/scepd bin/scepctl build/tests/sceptest "$bindir/fuzz_envelope"; do
	[ -x "$f" ] || { echo "make-seeds: $f is missing (make fuzz-seeds)" >&2;
	    exit 1; }
done
command -v softhsm2-util >/dev/null ||
    { echo "make-seeds: needs SoftHSM2 (apt-get install softhsm2)" >&2;
    exit 1; }

top=$(pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

out=$tmp/corpus
for t in http_get pkimessage envelope csr webhook_reply policy config; do
	mkdir -p "$out/$t"
done

# --- the fuzz fixture's certificates, keys and policy ----------------
mkdir "$tmp/fx"
SCEPD_FUZZ_SHM=$tmp SCEPD_FUZZ_EXPORT=$tmp/fx "$bindir/fuzz_envelope"
fx=$tmp/fx

# --- a real scepd --------------------------------------------------------
bin/scepctl init --dir "$tmp/ca" --challenge seed-secret > "$tmp/init.log"
bin/scepd --config "$tmp/ca/scepd.conf" --listen 127.0.0.1:0 \
    2> "$tmp/scepd.log" &
pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on 127.0.0.1 port \([0-9]*\).*/\1/p' \
	    "$tmp/scepd.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/scepd.log" >&2; exit 1; }
url=http://127.0.0.1:$port/scep

# sceptest NAME [options]: one pkiMessage, saved as pkimessage/NAME.der.
req() {
	name=$1
	shift
	SCEPTEST_CHALLENGE=$challenge build/tests/sceptest \
	    --url "$url" --save-request "$out/pkimessage/$name.der" "$@" \
	    enroll > /dev/null 2>&1 || true
	[ -s "$out/pkimessage/$name.der" ] ||
	    { echo "make-seeds: sceptest made no $name" >&2; exit 1; }
}
k=$tmp/host.key
challenge=seed-secret
req pkcsreq-aes256-sha256 --key "$k" --cn seed-host --san-dns seed.example.net \
    --san-ip 10.1.2.3 --out "$tmp/host.pem"
req pkcsreq-aes128-sha1 --cipher aes-128-cbc --digest sha1 --cn seed-2
req pkcsreq-des3-sha512 --cipher des-ede3-cbc --digest sha512 --cn seed-3
req pkcsreq-des-md5 --cipher des-cbc --digest md5 --cn seed-4
req pkcsreq-ec-key --key-type ec:p256 --cn seed-ec --san-email a@example.net
req renewalreq --key "$k" --cn seed-host --msgtype RenewalReq \
    --signer-cert "$tmp/host.pem" --signer-key "$k"
req certpoll --key "$k" --cn seed-host --msgtype CertPoll
req getcert --msgtype GetCert --serial 01
req nonce-8-bytes --nonce-len 8 --cn seed-5
req no-txid --omit transactionID --cn seed-6
req no-msgtype --omit messageType --cn seed-7
req bad-signature --corrupt-signature --cn seed-8
challenge=
req no-challenge --cn seed-9
challenge=seed-secret
# Encrypted to the fuzz fixture's RA: they decrypt in the fuzz service.
req fixture-pkcsreq --recipient "$fx/ra.pem" --cn rtr-4 \
    --san-dns rtr-4.net.example.com --san-ip 10.4.4.4
req fixture-certpoll --recipient "$fx/ra.pem" --cn hold-4 --msgtype CertPoll \
    --txid fuzz-txid-1
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

# --- CSRs, IssuerAndSubject, envelopes (openssl) ---------------------------
csr() {	# NAME SUBJ KEYALG [req options...]
	name=$1 subj=$2 alg=$3
	shift 3
	openssl req -new -newkey "$alg" -nodes -keyout "$tmp/$name.key" \
	    -subj "$subj" -outform DER -out "$tmp/$name.csr" "$@" 2>/dev/null
}
san=DNS:rtr-1.net.example.com,IP:10.1.2.3,IP:2001:db8::1
csr rtr "/O=Example/CN=rtr-1" rsa:2048 -addext "subjectAltName=$san"
csr open "/CN=open-1" rsa:2048 \
    -addext "subjectAltName=email:o@example.net,URI:urn:x"
csr hold "/CN=hold-1" rsa:2048
cat > "$tmp/otp.cnf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
attributes = attrs
[dn]
CN = otp-1
[attrs]
challengePassword = wrong-otp-value
EOF
csr otp "/CN=otp-1" rsa:2048 -config "$tmp/otp.cnf"
csr refused "/OU=refused/CN=evil" rsa:2048
csr ec256 "/CN=rtr-2/O=Example" ec -pkeyopt ec_paramgen_curve:P-256 \
    -addext "subjectAltName=DNS:rtr-2.example.org"
csr ec384 "/CN=ec-384" ec -pkeyopt ec_paramgen_curve:P-384
csr weak "/CN=weak" rsa:1024
csr renew "/O=scepd fuzz/CN=renew-me" rsa:2048
csr nosubject "/" rsa:2048 -addext "subjectAltName=DNS:only-san.example.net"
csr utf8 "/CN=rtr-9 ü\\,+=;/O=Ex\"ample" rsa:2048 -utf8
# IssuerAndSubject of a CertPoll: the CA's name, then the request's.
cat > "$tmp/ias.cnf" <<'EOF'
asn1 = SEQUENCE:ias
[ias]
issuer = SEQUENCE:issuer
subject = SEQUENCE:subject
[issuer]
o = SET:o
cn = SET:cnca
[subject]
cn = SET:cnh
[o]
seq = SEQUENCE:o1
[o1]
oid = OID:organizationName
v = UTF8:scepd fuzz
[cnca]
seq = SEQUENCE:cnca1
[cnca1]
oid = OID:commonName
v = UTF8:scepd fuzz CA
[cnh]
seq = SEQUENCE:cnh1
[cnh1]
oid = OID:commonName
v = UTF8:hold-1
EOF
openssl asn1parse -genconf "$tmp/ias.cnf" -out "$tmp/ias.der" > /dev/null

cp "$tmp/rtr.csr" "$out/pkimessage/csr-rsa-san.der"
cp "$tmp/otp.csr" "$out/pkimessage/csr-challenge.der"
cp "$tmp/ec256.csr" "$out/pkimessage/csr-ec.der"
cp "$tmp/ias.der" "$out/pkimessage/issuer-and-subject.der"

envelope() {	# NAME CIPHER FILE [RECIPIENT]
	openssl smime -encrypt -binary "-$2" -outform DER -in "$3" \
	    -provider legacy -provider default \
	    -out "$out/envelope/$1.der" "${4:-$fx/ra.pem}" 2>/dev/null
}
envelope rtr-aes128 aes128 "$tmp/rtr.csr"
envelope open-aes256 aes256 "$tmp/open.csr"
envelope hold-des3 des3 "$tmp/hold.csr"
envelope otp-aes192 aes192 "$tmp/otp.csr"
envelope refused-aes128 aes128 "$tmp/refused.csr"
envelope ec256-aes128 aes128 "$tmp/ec256.csr"
envelope ec384-aes256 aes256 "$tmp/ec384.csr"
envelope weak-key aes128 "$tmp/weak.csr"
envelope des-cbc des "$tmp/open.csr"
envelope no-subject aes128 "$tmp/nosubject.csr"
envelope utf8-subject aes128 "$tmp/utf8.csr"
envelope to-the-ca aes128 "$tmp/open.csr" "$fx/ca.pem"
envelope issuer-and-subject aes128 "$tmp/ias.der"
# Other ContentInfo types where the EnvelopedData should be.
printf '\060\013\006\011\052\206\110\206\367\015\001\007\001' \
    > "$out/envelope/contentinfo-data-without-content.der"
openssl crl2pkcs7 -nocrl -certfile "$fx/ra.pem" -outform DER \
    -out "$out/envelope/contentinfo-certs-only.der"
printf 'not a CSR' > "$tmp/junk"
envelope not-a-csr aes128 "$tmp/junk"
openssl cms -encrypt -binary -aes128 -outform DER -keyid -in "$tmp/open.csr" \
    -out "$out/envelope/cms-keyid.der" "$fx/ra.pem" 2>/dev/null

# --- csr: four header bytes (see fuzz_csr.c), then the content ---------
octal() { printf '\\%03o' "$@"; }
seed() {	# NAME H0 H1 H2 H3 FILE
	# shellcheck disable=SC2059
	printf "$(octal "$2" "$3" "$4" "$5")" > "$out/csr/$1"
	cat "$6" >> "$out/csr/$1"
}
seed pkcsreq-routers-ec 0 1 8 0 "$tmp/rtr.csr"
seed pkcsreq-routers-rsa 0 3 8 0 "$tmp/rtr.csr"
seed pkcsreq-raw-csr 0 0 8 0 "$tmp/open.csr"
seed pkcsreq-open-aes256-sha1 40 1 8 0 "$tmp/open.csr"
seed pkcsreq-hmac-right 0 37 8 0 "$tmp/open.csr"
seed pkcsreq-hmac-wrong 0 33 8 0 "$tmp/open.csr"
seed pkcsreq-otp-fresh 0 9 8 0 "$tmp/otp.csr"
seed pkcsreq-refused 0 1 8 0 "$tmp/refused.csr"
seed pkcsreq-weak-raw 0 0 8 0 "$tmp/weak.csr"
seed pkcsreq-no-subject 0 1 8 0 "$tmp/nosubject.csr"
seed pkcsreq-utf8 0 1 8 0 "$tmp/utf8.csr"
seed hold-txid1 0 1 1 0 "$tmp/hold.csr"
seed hold-txid1-certpoll 2 0 1 0 "$tmp/ias.der"
seed hold-txid1-certpoll-approved 130 0 1 0 "$tmp/ias.der"
seed renewalreq 5 17 8 0 "$tmp/renew.csr"
seed renewalreq-self-signed 1 17 8 0 "$tmp/renew.csr"
seed fixture-txid-other-key 0 1 7 0 "$tmp/open.csr"
seed des-cbc-sha512 88 1 8 0 "$tmp/open.csr"
seed des3-md5 112 1 8 0 "$tmp/open.csr"
seed getcert-21 3 0 8 21 "$tmp/ias.der"
seed nonce-8 0 1 40 0 "$tmp/open.csr"
seed nonce-omitted 0 1 56 0 "$tmp/open.csr"
seed hsm-down-decrypt 0 1 72 0 "$tmp/open.csr"
seed hsm-down-sign 0 1 136 0 "$tmp/open.csr"

# --- http_get: query strings ---------------------------------------------
b64url() {	# base64, URL-escaped as a careful client does
	base64 -w0 "$1" | sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g'
}
q() { printf '%s' "$2" > "$out/http_get/$1"; }
m=$out/pkimessage/fixture-pkcsreq.der
q pkiop-escaped "operation=PKIOperation&message=$(b64url "$m")"
q pkiop-raw-plus "operation=PKIOperation&message=$(base64 -w0 "$m")"
q pkiop-wrapped "operation=PKIOperation&message=$(base64 -w64 "$m" |
    sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g' | sed ':a;N;$!ba;s/\n/%0D%0A/g')"
m=$out/pkimessage/fixture-certpoll.der
q pkiop-certpoll "message=$(b64url "$m")&operation=PKIOperation"
m=$out/pkimessage/pkcsreq-aes128-sha1.der
q pkiop-other-ra "operation=PKIOperation&message=$(b64url "$m")"
q pkiop-not-base64 "operation=PKIOperation&message=%21%21%21%21"
q pkiop-empty "operation=PKIOperation&message="
q pkiop-no-message "operation=PKIOperation"
q getcacaps "operation=GetCACaps&message=CAIdentifier"
q getcacert "operation=GetCACert"
q getnextcacert "OPERATION=GetNextCACert"
q unknown "operation=GetCRL&message=x"
q none "message=abc"

# --- webhook replies: two header bytes (see fuzz_webhook_reply.c) -------
w() {	# NAME H0 H1 BODY
	printf "\\$(printf %03o "$2")\\$(printf %03o "$3")%s" "$4" \
	    > "$out/webhook_reply/$1"
}
w allow 0 0 '{"allow": true}'
w deny-reason 0 0 '{"allow": false, "reason": "not in the inventory"}'
w allow-reason-chunked 0 1 \
    '{"allow":true,"reason":"known device \u00fc\ud83d\ude00"}'
w allow-string 0 0 '{"allow": "yes"}'
w reason-not-string 0 7 '{"allow": false, "reason": {"code": 7}}'
w array 0 0 '[true]'
w nested 0 16 \
    '{"a":[[[[{"b":[1,2.5e300,-0,null]}]]]],"allow":true,"allow":false}'
w empty 0 0 ''
printf '\000\000{"allow": false}\000{"allow": true}' \
    > "$out/webhook_reply/nul-inside"
w status-500 2 0 '{"allow": true}'
w status-404 6 0 'not found'
w status-302 14 0 ''
w transport-error 3 0 ''

# --- policy and config -----------------------------------------------------
for f in policy/*.conf; do
	cp "$f" "$out/policy/$(basename "$f")"
done
cp "$fx/policy.conf" "$out/policy/fuzz-fixture.conf"
cp "$tmp/ca/policy.conf" "$out/policy/scepctl-init.conf"
cat > "$out/policy/includes-and-types.conf" <<'EOF'
@include "hmac.key"
pending_expiry = 3600;
challenges = { h = { kind = "hmac"; secret_file = "/nonexistent/x"; }; };
profiles = ( );
rules = { name = "x"; };
EOF
cp "$fx/scepd.conf" "$out/config/fuzz-fixture.conf"
c=$tmp/ca/scepd.conf
sed "s,$tmp/ca/,,g" "$c" > "$out/config/scepctl-init.conf"
sed "s,$tmp/ca/,,g" "$c" | sed 's/pin_file = .*/pin_env = "SCEPD_PIN";/' \
    > "$out/config/pin-env.conf"
cat > "$out/config/everything.conf" <<'EOF'
server = { listen = "[::1]:8443"; workers = 64; max_body = 1048576; };
database = { path = "/var/lib/scepd/scepd.db"; };
hsm = {
  module = "/usr/lib/softhsm/libsofthsm2.so";
  token = "scepd";
  pin_env = "PIN";
  ca_key = "pkcs11:token=scepd;object=scepd-ca;id=%01%02;type=private";
  ra_key = "pkcs11:object=scepd-ra?pin-value=1234";
  lock_file = "hsm.lock";
  lock_timeout = 3600;
  environment = { SOFTHSM2_CONF = "softhsm2.conf"; OTHER = ""; };
};
ca = { certificate = "ca.pem"; ra_certificate = "./ra.pem"; };
policy = { file = "../policy.conf"; audit_log = "audit.log"; };
algorithms = {
  ciphers = [ "aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des-ede3-cbc" ];
  digests = ( "sha1", "sha256", "sha512" );
  legacy_des = true;
};
EOF
cat > "$out/config/bad-values.conf" <<'EOF'
server = { listen = "127.0.0.1:99999"; workers = 0; };
database = { path = 7; };
hsm = { module = ""; token = "t"; pin_file = "p"; pin_env = "P";
  ca_key = "pkcs11:id=%zz"; ra_key = "file:x"; lock_file = "l"; };
ca = { certificate = "c"; ra_certificate = "r"; };
policy = { file = "p"; };
algorithms = { ciphers = [ "des-cbc" ]; digests = []; };
unknown = 1;
EOF

# --- replace the tracked corpora -------------------------------------------
for t in http_get pkimessage envelope csr webhook_reply policy config; do
	rm -rf "$top/tests/fuzz/corpus/$t"
	mkdir -p "$top/tests/fuzz/corpus/$t"
	cp "$out/$t"/* "$top/tests/fuzz/corpus/$t/"
	echo "make-seeds: $t: $(ls "$out/$t" | wc -l) seeds," \
	    "$(du -sk "$out/$t" | cut -f1) KiB"
done
