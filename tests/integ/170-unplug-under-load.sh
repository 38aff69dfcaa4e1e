# The HSM "restarts" under load: four clients enroll in a loop while
# every PKCS#11 call fails with CKR_DEVICE_REMOVED for a few seconds,
# then the HSM is back:
#  - while it is away PKIOperation gets 503 with Retry-After (never a
#    FAILURE), GetCACert is served;
#  - the first enrollment begun after it is back succeeds (recovery
#    within one request), without a restart of scepd or its worker;
#  - no serial twice, every certificate received is recorded as issued
#    and verifies, nothing is left processing.
. "$(dirname "$0")/common.sh"
init_ca
use_fault_module
start_scepd "$CA/fault.conf"
parent=$SCEPD_PID
rm -f "$WORK/stop-load"
load() {
	j=0
	while [ ! -e "$WORK/stop-load" ]; do
		j=$((j + 1))
		sceptest_many "l$1-$j" 5
		outcomes "l$1-$j" >>"$WORK/all-$1"
	done
}
count_of() { cat "$WORK"/all-* 2>/dev/null | grep -c " $1" || :; }
more_than() { [ "$(count_of "$1")" -gt "$2" ]; }
for c in 1 2 3 4; do load "$c" & eval "l$c=\$!"; done
wait_for "enrollments before the HSM goes" more_than ok 10

fault_set '{ function = "*"; rv = "CKR_DEVICE_REMOVED"; }'
ref=$(count_of refused)
wait_for "503s while the HSM is away" more_than refused "$((ref + 3))"
[ "$(http_status GET operation=GetCACert)" = 200 ] || fail "GetCACert while the HSM is away"
# The outage lasts a few seconds more (its length, not a wait for an event).
sleep 3
fault_clear
sceptest back || { cat "$WORK/back.out" >&2; fail "the first enrollment after the HSM came back"; }
verify_cert "$WORK/back.pem"
got=$(count_of ok)
wait_for "enrollments after the HSM came back" more_than ok "$((got + 10))"
: >"$WORK/stop-load"
wait "$l1" "$l2" "$l3" "$l4"
[ "$SCEPD_PID" = "$parent" ] && scepd_alive || fail "scepd or its worker was restarted"

cat "$WORK"/all-* >"$WORK/all"
bad=$(grep -v -e ' ok ' -e ' refused$' "$WORK/all" | head -n 1)
[ -z "$bad" ] || fail "an answer during the outage was neither a certificate nor a 503: $bad"
ls "$WORK"/l*.d/*.pem >"$WORK/pems"
xargs openssl verify -CAfile "$CA/ca.pem" <"$WORK/pems" >"$WORK/verify.out" 2>&1 ||
    { grep -v ': OK$' "$WORK/verify.out" | head >&2; fail "a certificate does not verify"; }
{ awk '$2 == "ok" { print tolower($3) }' "$WORK/all"; serial_of "$WORK/back.pem"; } |
    sort >"$WORK/got"
dup=$(uniq -d "$WORK/got" | wc -l)
[ "$dup" -eq 0 ] || fail "$dup serial(s) received twice"
stop_scepd
sqlite3 "$CA/scepd.db" "select lower(serial) from certificates where state = 'issued'" |
    sort >"$WORK/issued"
comm -13 "$WORK/issued" "$WORK/got" | grep -q . &&
    fail "a client received a certificate that is not recorded as issued"
lost=$(comm -23 "$WORK/issued" "$WORK/got" | wc -l)
[ "$lost" -eq 0 ] || fail "$lost certificate(s) recorded as issued never reached a client"
[ "$(sqlite3 "$CA/scepd.db" "select count(*) from transactions where state = 'processing'")" -eq 0 ] ||
    fail "a transaction was left processing"
note "$(wc -l <"$WORK/all") enrollments by 4 clients: $(grep -c ' ok ' "$WORK/all") issued, $(grep -c ' refused$' "$WORK/all") refused with 503 while the HSM was away, 0 lost, 0 duplicated; the first enrollment after it came back succeeded"
