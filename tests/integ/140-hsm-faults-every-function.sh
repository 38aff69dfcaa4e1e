# Faults in every PKCS#11 function scepd uses, through the fault module
# (hsm/p11fault.c) wrapping SoftHSM2, under one running scepd:
#  - each function in turn, on its first and second call of an
#    enrollment, returns a session-level error (CKR_SESSION_HANDLE_INVALID)
#    and then a module-level one (CKR_DEVICE_ERROR): that enrollment
#    succeeds with a certificate that verifies or is refused with
#    HTTP 503 and Retry-After (never a CertRep FAILURE, which a client
#    takes as final: the fault was the HSM's, not the request's), and
#    the very next enrollment succeeds;
#    a failed C_OpenSession makes libp11 0.4.12 wait forever for a
#    session: the key process's watchdog ends it after
#    hsm.call_timeout and the parent starts a new one;
#  - the HSM "unplugged" (every call CKR_DEVICE_REMOVED, C_Initialize
#    included): PKIOperation 503, GetCACert and GetCACaps still 200;
#    plugged back in, the next enrollment succeeds;
#  - afterwards every certificate a client received is recorded as
#    issued, every issued record was answered (or is delivered to a
#    retransmission of its transactionID), no serial twice, nothing left
#    processing.
. "$(dirname "$0")/common.sh"
init_ca
use_fault_module
sed -i 's|^  lock_timeout = 30;.*|  lock_timeout = 5;\n  call_timeout = 3;|' "$CA/fault.conf"
grep -q 'call_timeout = 3;' "$CA/fault.conf" || fail "could not set call_timeout"
start_scepd "$CA/fault.conf"

n=0
received="$WORK/received"
: >"$received"
# enroll NAME: one enrollment with a key of its own; sets R to "ok",
# "refused" (503 + Retry-After), "failure" (a CertRep FAILURE) or
# "broken".
enroll() {
	R=$(enroll_once "$1")
	[ "$R" = ok ] && sed -n 's/^serial=//p' "$WORK/$1.out" >>"$received"
	n=$((n + 1))
}
enroll_once() {
	rc=0
	sceptest "$1" || rc=$?
	if [ $rc -eq 0 ]; then
		openssl verify -CAfile "$CA/ca.pem" "$WORK/$1.pem" \
		    >/dev/null 2>&1 || { echo broken; return; }
		echo ok
	elif grep -qx 'http=503' "$WORK/$1.out" &&
	    grep -q '^retry_after=[1-9]' "$WORK/$1.out"; then
		echo refused
	elif [ $rc -eq 2 ] && grep -q '^failInfo=' "$WORK/$1.out"; then
		echo failure
	else
		echo broken
	fi
}

before=$(fault_calls | wc -l)
enroll first; [ "$R" = ok ] || { cat "$WORK/first.out" >&2; fail "enrollment without faults"; }
# The functions one enrollment calls, and how often.
fault_calls | tail -n +"$((before + 1))" | sort | uniq -c >"$WORK/used"
scepd_alive || fail "scepd died"
grep -qw C_Sign "$WORK/used" && grep -qw C_Decrypt "$WORK/used" &&
    grep -qw C_Login "$WORK/used" ||
    { cat "$WORK/used" >&2; fail "the fault log does not show the key operations"; }

faults=0 refused=0 succeeded=0
while read -r count fn; do
	for nth in 1 2; do
		[ "$nth" -le "$count" ] || continue
		for rv in CKR_SESSION_HANDLE_INVALID CKR_DEVICE_ERROR; do
			fault_set "{ function = \"$fn\"; rv = \"$rv\"; nth = $nth; }"
			name="f$n"
			enroll "$name"
			case $R in
			ok) succeeded=$((succeeded + 1)) ;;
			refused) refused=$((refused + 1)) ;;
			*) cat "$WORK/$name.out" >&2
			   fail "$fn call $nth returning $rv: no clean answer" ;;
			esac
			faults=$((faults + 1))
			# The fault was transient: a key process started
			# again counts calls afresh and must not meet it.
			fault_clear
			scepd_alive || fail "scepd died after a fault in $fn"
			wait_for "the key process after a fault in $fn" children_running
			name="a$n"
			enroll "$name"; [ "$R" = ok ] || { cat "$WORK/$name.out" >&2
			    fail "the enrollment after $fn call $nth returned $rv"; }
		done
	done
done <"$WORK/used"
injected=$(grep -c ' injected$' "$FAULT_LOG" || :)
[ "$injected" -ge "$faults" ] ||
    fail "$faults faults set up but only $injected injected"
note "$faults faults in $(wc -l <"$WORK/used") functions: $succeeded enrollments succeeded anyway, $refused refused cleanly; each next enrollment succeeded; $(restarts "key process") key process restart(s) by its watchdog"

# Unplugged, then plugged back in.
fault_set '{ function = "*"; rv = "CKR_DEVICE_REMOVED"; }'
enroll unplugged; [ "$R" = refused ] ||
    { cat "$WORK/unplugged.out" >&2; fail "an enrollment without the HSM was not refused with 503"; }
[ "$(http_status GET operation=GetCACert)" = 200 ] || fail "GetCACert without the HSM"
[ "$(http_status GET operation=GetCACaps)" = 200 ] || fail "GetCACaps without the HSM"
fault_clear
enroll replugged; [ "$R" = ok ] ||
    { cat "$WORK/replugged.out" >&2; fail "the first enrollment after the HSM came back"; }

# The records agree with what the clients were told.
db="$CA/scepd.db"
sqlite3 "$db" "select serial from certificates where state = 'issued'" |
    tr 'A-F' 'a-f' | sort >"$WORK/issued"
tr 'A-F' 'a-f' <"$received" | sort >"$WORK/got"
[ -z "$(uniq -d "$WORK/got")" ] || fail "a serial was received twice"
comm -13 "$WORK/issued" "$WORK/got" | grep -q . &&
    fail "a client received a certificate that is not recorded as issued"
# An issued record nobody received must belong to a transaction a
# retransmission would be answered from (its CertRep failed to sign).
for s in $(comm -23 "$WORK/issued" "$WORK/got"); do
	st=$(sqlite3 "$db" "select state from transactions where lower(serial) = '$s'")
	[ "$st" = issued ] || fail "serial $s is issued but its transaction is '$st'"
	note "serial $s: recorded, its CertRep failed; a retransmission gets it"
done
[ "$(sqlite3 "$db" "select count(*) from transactions where state = 'processing'")" -eq 0 ] ||
    fail "a transaction was left processing"
note "$n enrollments, $(wc -l <"$WORK/got") certificates received, all recorded"
