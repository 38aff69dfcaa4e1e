# RenewalReq: signed with a valid certificate of this CA, same subject,
# decided by renewal rules; per-subject limits on valid certificates.
. "$(dirname "$0")/common.sh"
init_ca
write_policy <<'P'
challenges = { shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { validity_days = 30; }; };
rules = (
  { name = "renewal"; request = "renewal"; challenge = "none";
    action = "issue"; max_active = 2; },
  { name = "initial"; request = "initial"; challenge = "shared";
    action = "issue"; max_active = 1; }
);
P
start_scepd

# Debian's scepclient renews when the certificate file exists.
scepclient_enroll dev1 "$CHALLENGE" || fail "initial enrollment"
s1=$(serial_of "$WORK/dev1/c.pem")
(cd "$WORK/dev1" && scepclient -server-url "$URL" -private-key k.pem \
    -certificate c.pem -cn dev1 >out2 2>&1) ||
    { cat "$WORK/dev1/out2" >&2; fail "renewal with scepclient"; }
verify_cert "$WORK/dev1/c.pem"
[ "$(serial_of "$WORK/dev1/c.pem")" != "$s1" ] || fail "renewal gave the old certificate"
grep -q 'msgtype=RenewalReq .*rule=renewal outcome=issued' "$SCEPD_LOG" ||
    fail "not decided by the renewal rule"

# One valid certificate per subject for initial enrollments.
sceptest host-a || fail "first host-a"
sceptest host-a2 --cn host-a && fail "a second valid certificate for host-a"
grep -q 'the limit is 1' "$WORK/host-a2.out" || fail "no limit reason"

# The sceptest client renews with --signer-cert/--signer-key.
cp "$WORK/host-a.key" "$WORK/host-a-r.key"
sceptest host-a-r --cn host-a --msgtype RenewalReq --txid renew-a \
    --signer-cert "$WORK/host-a.pem" --signer-key "$WORK/host-a.key" ||
    { cat "$WORK/host-a-r.out" >&2; fail "RenewalReq"; }
verify_cert "$WORK/host-a-r.pem"

# A renewal must be signed by a certificate of ours, for the subject.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/self.key" \
    -subj /CN=host-a -days 1 -out "$WORK/self.pem" 2>/dev/null
sceptest forged --cn host-a --msgtype RenewalReq --signer-cert "$WORK/self.pem" \
    --signer-key "$WORK/self.key" && fail "a self-signed renewal was accepted"
expect forged "failInfoText=a renewal must be signed with a valid certificate of this CA"
sceptest rename --cn other --msgtype RenewalReq --signer-cert "$WORK/host-a.pem" \
    --signer-key "$WORK/host-a.key" && fail "a renewal changed the subject"
expect rename "failInfoText=a renewal must keep the subject of the certificate it renews"
