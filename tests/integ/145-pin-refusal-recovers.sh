# The token refuses the PIN under a running scepd (the fault module
# answers C_Login with CKR_PIN_INCORRECT, as a swapped token or a
# changed PIN would): PKIOperation gets 503 naming the cause,
# GetCACert keeps working, and the PIN is not tried again on every
# request (one C_Login per refusal, not one per request).  It is tried
# again on SIGHUP, when the PIN file changes, and after
# hsm.pin_retry_interval; each time the right PIN works again,
# enrollment resumes without a restart.
. "$(dirname "$0")/common.sh"
init_ca
use_fault_module
sed -i 's|pin_retry_interval = 300;|pin_retry_interval = 3600;|' "$CA/fault.conf"
grep -q 'pin_retry_interval = 3600' "$CA/fault.conf" || fail "could not set pin_retry_interval"
start_scepd "$CA/fault.conf"
sceptest ok1 || { cat "$WORK/ok1.out" >&2; fail "enrollment with the right PIN"; }

logins() { fault_calls | grep -c '^C_Login$' || :; }
# refused NAME: an enrollment answered 503 that names the PIN.
refused() {
	! sceptest "$1" || fail "$1: enrolled while the token refuses the PIN"
	expect "$1" 'http=503'
	grep -q '^error=.*refused the PIN' "$WORK/$1.out" ||
	    { cat "$WORK/$1.out" >&2; fail "$1: the 503 does not name the PIN"; }
}

fault_set '{ function = "C_Login"; rv = "CKR_PIN_INCORRECT"; }'
before=$(logins)
for i in 1 2 3 4 5; do refused "bad$i"; done
[ "$(http_status GET operation=GetCACert)" = 200 ] || fail "GetCACert while the PIN is refused"
tried=$(($(logins) - before))
[ "$tried" -eq 1 ] || fail "5 requests tried the PIN $tried times (want 1)"
log_has 'token "scepd" refused the PIN' || fail "the refusal is not logged"
log_has 'reason="HSM unavailable: the token refused the PIN"' ||
    fail "the request log does not name the PIN"

# SIGHUP: one more try, which works once the token takes the PIN.
fault_clear
sceptest still1 && fail "the PIN was tried again without a reason"
kill -HUP "$SCEPD_PID"
wait_for "an enrollment after SIGHUP" sceptest hup1 || { cat "$WORK/hup1.out" >&2; fail "no enrollment after SIGHUP"; }
verify_cert "$WORK/hup1.pem"

# A changed PIN file: tried at once.
fault_set '{ function = "C_Login"; rv = "CKR_PIN_INCORRECT"; }'
refused bad6
fault_clear
refused bad7
cp "$CA/pin" "$CA/pin.new" && mv "$CA/pin.new" "$CA/pin"
sceptest file1 || { cat "$WORK/file1.out" >&2; fail "no enrollment after the PIN file changed"; }
verify_cert "$WORK/file1.pem"
log_has 'the PIN file .* changed: trying it' || fail "the new PIN file is not logged"
stop_scepd

# The retry interval: with a short one, the PIN is tried again by
# itself, and never more than once per interval.
sed -i 's|pin_retry_interval = 3600;|pin_retry_interval = 1;|' "$CA/fault.conf"
start_scepd "$CA/fault.conf"
fault_set '{ function = "C_Login"; rv = "CKR_PIN_INCORRECT"; }'
refused bad8
start=$(date +%s)
before=$(logins)
i=0
while [ $i -lt 20 ]; do sceptest "spin$i" || :; i=$((i + 1)); done
fault_clear
wait_for "a PIN retry after the interval" sceptest timer1 || { cat "$WORK/timer1.out" >&2; fail "the PIN was not tried again after the interval"; }
elapsed=$(($(date +%s) - start))
tried=$(($(logins) - before))
# One try per second that passed, plus the one that worked.
[ "$tried" -le $((elapsed + 2)) ] ||
    fail "$tried PIN tries in ${elapsed}s with a 1 s interval"
note "21 requests in ${elapsed}s while refused: $tried PIN tries"
