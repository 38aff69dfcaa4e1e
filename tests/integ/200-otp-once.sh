# One-time passwords: good exactly once, also across a restart; expired,
# revoked and subject-bound ones are refused; never shown again.
. "$(dirname "$0")/common.sh"
init_ca
write_policy <<'P'
challenges = { tokens = { kind = "otp"; }; };
profiles = { default = { validity_days = 30; }; };
rules = ( { name = "otp"; challenge = "tokens"; action = "issue"; } );
P
start_scepd

set -- $(otp_issue --ttl 1h); id1=$1 otp1=$2
set -- $(otp_issue --ttl 1h); otp2=$2
set -- $(otp_issue --ttl 1s); otp3=$2
set -- $(otp_issue --ttl 1h); id4=$1 otp4=$2
set -- $(otp_issue --ttl 1h --subject-pattern '^CN=rtr-[0-9]+$'); otp5=$2
[ ${#otp1} -eq 32 ] || fail "an OTP is not 32 characters"

SCEPTEST_CHALLENGE=$otp1 sceptest first || fail "a fresh OTP was refused"
verify_cert "$WORK/first.pem"
SCEPTEST_CHALLENGE=$otp1 sceptest again && fail "an OTP was used twice"
expect again failInfo=badRequest
expect again "failInfoText=one-time password $id1 was already used"

# Debian's scepclient with an OTP.
scepclient_enroll sc "$otp2" || { cat "$WORK/sc/out" >&2; fail "scepclient with an OTP"; }
verify_cert "$WORK/sc/c.pem"

sleep 2
SCEPTEST_CHALLENGE=$otp3 sceptest expired && fail "an expired OTP was accepted"
expect expired failInfo=badRequest
grep -q 'has expired' "$WORK/expired.out" || fail "no 'expired' reason"

"$SCEPCTL" otp revoke --config "$CA/scepd.conf" "$id4" >/dev/null ||
    fail "otp revoke"
SCEPTEST_CHALLENGE=$otp4 sceptest revoked && fail "a revoked OTP was accepted"
grep -q 'was revoked' "$WORK/revoked.out" || fail "no 'revoked' reason"

SCEPTEST_CHALLENGE=$otp5 sceptest other-host && fail "a bound OTP went to another subject"
grep -q 'bound to other subjects' "$WORK/other-host.out" || fail "no 'bound' reason"
SCEPTEST_CHALLENGE=$otp5 sceptest rtr-12 || fail "a bound OTP refused its subject"

# Used stays used across a restart.
stop_scepd
start_scepd
SCEPTEST_CHALLENGE=$otp1 sceptest after-restart && fail "an OTP was used again after a restart"

"$SCEPCTL" otp list --config "$CA/scepd.conf" >"$WORK/list"
for o in "$otp1" "$otp2" "$otp3" "$otp4" "$otp5"; do
	grep -q "$o" "$WORK/list" && fail "otp list shows a password"
	grep -q "$o" "$SCEPD_LOG" "$CA/audit.log" && fail "a password reached a log"
done
grep -q "^$id1	.*	used:" "$WORK/list" || fail "otp list: not marked used"
grep -q "^$id4	.*	revoked" "$WORK/list" || fail "otp list: not marked revoked"
grep -q 'expired' "$WORK/list" || fail "otp list: no expired entry"
[ "$(cert_count)" -eq 3 ] || fail "expected exactly 3 certificates"
