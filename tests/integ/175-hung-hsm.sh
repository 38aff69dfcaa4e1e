# A PKCS#11 call that never returns cannot wedge scepd: the key
# process's watchdog ends it after hsm.call_timeout, the PKIOperation
# gets 503 (not a hang), GetCACert and GetCACaps are answered while the
# call hangs, the parent starts a new key process and the next
# enrollment succeeds without a restart of scepd.  The same for the
# libp11 hang after a failed C_OpenSession.
. "$(dirname "$0")/common.sh"
init_ca
use_fault_module
sed -i 's|^  lock_timeout = 30;.*|  lock_timeout = 5;\n  call_timeout = 3;|' "$CA/fault.conf"
grep -q 'call_timeout = 3;' "$CA/fault.conf" || fail "could not set call_timeout"
start_scepd "$CA/fault.conf"
sceptest before || { cat "$WORK/before.out" >&2; fail "enrollment before the hang"; }

# hung FUNCTION RULE: one enrollment while RULE makes FUNCTION hang.
n=0
hung() {
	n=$((n + 1))
	fault_set "$2"
	sceptest "hung$n" & c=$!
	if [ "$1" = C_Sign ]; then
		wait_for "$1 to hang" grep -q "^$1 hanging" "$FAULT_LOG"
		# While the token hangs, the CA's certificates are served.
		[ "$(http_status GET operation=GetCACert)" = 200 ] ||
		    fail "GetCACert while $1 hangs"
		[ "$(http_status GET operation=GetCACaps)" = 200 ] ||
		    fail "GetCACaps while $1 hangs"
		kill -0 "$c" 2>/dev/null ||
		    fail "the enrollment was answered before the hang ended"
	fi
	st=0; wait "$c" || st=$?
	[ $st -ne 0 ] || fail "hung$n enrolled although $1 hung"
	expect "hung$n" 'http=503'
	# The HSM comes back (a new key process would hang on it, too).
	fault_clear
	wait_for_restart "key process" "$n"
	sceptest "after$n" || { cat "$WORK/after$n.out" >&2; fail "no enrollment after the $1 hang"; }
	verify_cert "$WORK/after$n.pem"
	: >"$FAULT_LOG"
}
hung C_Sign '{ function = "C_Sign"; hang = true; }'
log_has 'did not finish sign-cert within 3 s' ||
    log_has 'did not finish rsa-sign within 3 s' ||
    fail "the log does not say which operation hung"
# libp11 0.4.12 waits forever for a session after C_OpenSession failed.
hung C_OpenSession '{ function = "C_OpenSession"; rv = "CKR_DEVICE_ERROR"; nth = 1; }'
kill -0 "$SCEPD_PID" || fail "scepd died"
note "a hung C_Sign and a failed C_OpenSession: 503, GetCACert served meanwhile, new key process, enrollment resumed"
