# The shipped policy/otp.conf does what it says: a valid one-time
# password is issued at once; a request without one (or with a wrong
# one) falls through to the next rule and is held for an operator; an
# OTP is used up only when its rule issues, not when the subject's
# limit refuses it.
. "$(dirname "$0")/common.sh"
init_ca
cp "$TOP/policy/otp.conf" "$CA/policy.conf"
"$SCEPCTL" policy check "$CA/policy.conf" >/dev/null || fail "otp.conf does not check"
start_scepd
set -- $(otp_issue --ttl 1h)
id1=$1 otp1=$2
set -- $(otp_issue --ttl 1h)
id2=$1 otp2=$2

SCEPTEST_CHALLENGE=$otp1 sceptest dev1 || fail "a valid OTP was not issued"
expect dev1 status=SUCCESS
verify_cert "$WORK/dev1.pem"

st=0; SCEPTEST_CHALLENGE= sceptest nootp || st=$?
[ "$st" -eq 3 ] || { cat "$WORK/nootp.out" >&2; fail "no OTP: not held (status $st)"; }
st=0; SCEPTEST_CHALLENGE=0123456789abcdef0123456789abcdef sceptest badotp || st=$?
[ "$st" -eq 3 ] || { cat "$WORK/badotp.out" >&2; fail "a wrong OTP: not held (status $st)"; }
grep -q 'rule=everything-else outcome=held' "$SCEPD_LOG" ||
    fail "not held by the everything-else rule"

# dev1 is at its limit: the second OTP is refused there and kept.
SCEPTEST_CHALLENGE=$otp2 sceptest dev1again --cn dev1 && fail "dev1 exceeded max_active"
expect dev1again 'failInfoText=the subject has 1 valid certificate(s), the limit is 1'
SCEPTEST_CHALLENGE=$otp2 sceptest dev2 || fail "the OTP refused by a limit was used up"
expect dev2 status=SUCCESS
"$SCEPCTL" otp list --config "$CA/scepd.conf" >"$WORK/otps"
note "otp.conf: OTP issues, no OTP is held, a limit keeps the OTP ($id1 $id2)"
