# ENROLLMENTS (default 2000) enrollments in a row under one running
# scepd, with a PKCS#11 fault sprinkled into every tenth: in turn each
# function one enrollment calls, on one of its calls, returns one of
# the session-level and module-level CKR codes the key process
# classifies (a failed C_OpenSession, which wedges libp11 until the
# key process's watchdog ends it, only twice):
#  - the enrollment with the fault gets a certificate that verifies or
#    a 503 with Retry-After (never a FAILURE: the fault was the HSM's),
#    except that C_Decrypt failing with CKR_GENERAL_ERROR or
#    CKR_FUNCTION_FAILED, which some modules return for bad padding, is
#    the request's FAILURE badMessageCheck (no padding oracle);
#  - the nine after it all succeed;
#  - scepd is never restarted, nor is its worker; no serial twice;
#    every certificate received is recorded as issued, every issued
#    record was received (or its CertRep failed and a retransmission
#    gets it), nothing is left processing;
#  - every certificate received verifies with openssl verify.
. "$(dirname "$0")/common.sh"
total=${ENROLLMENTS:-2000}
[ -n "${SCEPD_SANITIZED:-}" ] && total=${ENROLLMENTS:-400}
block=10
init_ca
use_fault_module
sed -i 's|^  lock_timeout = 30;.*|  lock_timeout = 3;\n  call_timeout = 2;|' "$CA/fault.conf"
grep -q 'call_timeout = 2;' "$CA/fault.conf" || fail "could not set call_timeout"
start_scepd "$CA/fault.conf"
parent=$SCEPD_PID

# The functions one enrollment calls, and how often.
before=$(fault_calls | wc -l)
sceptest_many probe 1
outcomes probe | grep -q '^1 ok ' || { cat "$WORK/probe.out" >&2; fail "an enrollment without faults"; }
fault_calls | tail -n +"$((before + 1))" | sort | uniq -c >"$WORK/used"
grep -qw C_Sign "$WORK/used" && grep -qw C_Decrypt "$WORK/used" ||
    { cat "$WORK/used" >&2; fail "the fault log does not show the key operations"; }
set -- $(awk '{ print $2 }' "$WORK/used")
nfn=$#
rvs="CKR_SESSION_HANDLE_INVALID CKR_SESSION_CLOSED CKR_USER_NOT_LOGGED_IN
CKR_OBJECT_HANDLE_INVALID CKR_KEY_HANDLE_INVALID CKR_DEVICE_ERROR
CKR_DEVICE_REMOVED CKR_TOKEN_NOT_PRESENT CKR_GENERAL_ERROR
CKR_FUNCTION_FAILED CKR_CRYPTOKI_NOT_INITIALIZED"
nrv=$(echo $rvs | wc -w)

: >"$WORK/all"
: >"$WORK/set"
b=0 opens=0 sent=0
while [ "$sent" -lt "$total" ]; do
	# Block b: function b mod nfn, code (b + b / nfn) mod nrv (every
	# code within the first blocks, every pair in time), call
	# b mod (its calls per enrollment) + 1.
	i=$((b % nfn + 1))
	fn=$(eval echo "\${$i}")
	if [ "$fn" = C_OpenSession ]; then
		opens=$((opens + 1))
		[ "$opens" -le 2 ] || { i=$((i % nfn + 1)); fn=$(eval echo "\${$i}"); }
	fi
	calls=$(awk -v f="$fn" '$2 == f { print $1 }' "$WORK/used")
	rv=$(echo $rvs | tr ' ' '\n' | sed -n "$(((b + b / nfn) % nrv + 1))p")
	nth=$((b % calls + 1))
	echo "$fn $rv" >>"$WORK/set"
	fault_set "{ function = \"$fn\"; rv = \"$rv\"; nth = $nth; }"
	sceptest_many "f$b" 1
	fault_clear
	r=$(outcomes "f$b")
	case $r in
	"1 ok "*|"1 refused") ;;
	# A module may answer a bad ciphertext with these two: the
	# request's FAILURE (badMessageCheck) keeps padding oracles shut.
	"1 failure")
		case "$fn $rv" in
		"C_Decrypt CKR_GENERAL_ERROR"|"C_Decrypt CKR_FUNCTION_FAILED"|\
		"C_DecryptInit CKR_GENERAL_ERROR"|"C_DecryptInit CKR_FUNCTION_FAILED")
			grep -qx 'failInfo=badMessageCheck' "$WORK/f$b.out" ||
			    { cat "$WORK/f$b.out" >&2; fail "$fn returning $rv: not badMessageCheck"; } ;;
		*) cat "$WORK/f$b.out" >&2; fail "$fn call $nth returning $rv: a FAILURE for an HSM fault" ;;
		esac ;;
	*) cat "$WORK/f$b.out" >&2; fail "$fn call $nth returning $rv: no clean answer ($r)" ;;
	esac
	echo "$r" >>"$WORK/all"
	scepd_alive || fail "scepd died after a fault in $fn"
	wait_for "the key process after a fault in $fn" children_running
	n=$((block - 1))
	[ $((sent + block)) -le "$total" ] || n=$((total - sent - 1))
	if [ "$n" -gt 0 ]; then
		sceptest_many "c$b" "$n"
		bad=$(outcomes "c$b" | grep -v ' ok ' | head -n 1)
		[ -z "$bad" ] || { cat "$WORK/c$b.out" >&2
		    fail "after $fn call $nth returned $rv: enrollment $bad"; }
		outcomes "c$b" >>"$WORK/all"
	fi
	sent=$((sent + n + 1))
	b=$((b + 1))
done
[ "$SCEPD_PID" = "$parent" ] && kill -0 "$parent" || fail "scepd was restarted"
scepd_alive || fail "a scepd process died"

# Every certificate received verifies.
ls "$WORK"/[fc]*.d/*.pem >"$WORK/pems"
[ "$(wc -l <"$WORK/pems")" -eq "$(grep -c ' ok ' "$WORK/all")" ] ||
    fail "a SUCCESS without its certificate file"
xargs openssl verify -CAfile "$CA/ca.pem" <"$WORK/pems" >"$WORK/verify.out" 2>&1 ||
    { grep -v ': OK$' "$WORK/verify.out" | head >&2; fail "a certificate does not verify"; }

# The records agree with what the clients were told.
db="$CA/scepd.db"
sqlite3 "$db" "select lower(serial) from certificates where state = 'issued'" |
    sort >"$WORK/issued"
awk '$2 == "ok" { print tolower($3) }' "$WORK/all" >"$WORK/got0"
outcomes probe | awk '{ print tolower($3) }' >>"$WORK/got0"
sort "$WORK/got0" >"$WORK/got"
dup=$(uniq -d "$WORK/got" | wc -l)
[ "$dup" -eq 0 ] || fail "$dup serial(s) received twice"
comm -13 "$WORK/issued" "$WORK/got" | grep -q . &&
    fail "a client received a certificate that is not recorded as issued"
unanswered=0
for s in $(comm -23 "$WORK/issued" "$WORK/got"); do
	st=$(sqlite3 "$db" "select state from transactions where lower(serial) = '$s'")
	[ "$st" = issued ] || fail "serial $s is issued but its transaction is '$st'"
	unanswered=$((unanswered + 1))
done
[ "$(sqlite3 "$db" "select count(*) from transactions where state = 'processing'")" -eq 0 ] ||
    fail "a transaction was left processing"

injected=$(grep -c ' injected$' "$FAULT_LOG" || :)
[ "$injected" -ge "$b" ] || fail "$b faults set up but only $injected injected"
ok=$(grep -c ' ok ' "$WORK/all" || :)
refused=$(grep -c ' refused$' "$WORK/all" || :)
failed=$(grep -c ' failure$' "$WORK/all" || :)
note "$((sent + 1)) enrollments ($b with a fault set up, $injected calls injected): $((ok + 1)) succeeded, $refused refused cleanly (503), $failed FAILURE badMessageCheck (C_Decrypt), 0 broken, 0 lost, $dup duplicated, $unanswered recorded but unanswered (retransmission gets it); $(restarts "key process") key process restart(s) by its watchdog"
note "faults by code: $(awk '{ print $2 }' "$WORK/set" | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')"
