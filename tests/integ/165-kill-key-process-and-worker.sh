# SIGKILL of the key process and of the worker under load, without a
# restart of scepd:
#  - the key process killed KEYPROC_KILLS times (default 200) at random
#    moments while two clients enroll: each time the parent starts a new
#    one, the worker is connected to it, and enrollment resumes; the
#    keys are the same keys (proved by every later certificate and
#    CertRep verifying, and by scepctl hsm verify at the end); how often
#    the token had to be restored is reported;
#  - the worker killed WORKER_KILLS times (default 5): restarted, the
#    next enrollment succeeds;
#  - every request is retried with its transactionID until it gets an
#    answer, as real clients do: every certificate recorded as issued
#    reached its client (nothing lost), no serial reached two clients,
#    and no transaction is left half-done.
. "$(dirname "$0")/common.sh"
if [ -n "${SCEPD_SANITIZED:-}" ]; then
	kp_kills=${KEYPROC_KILLS:-40} w_kills=${WORKER_KILLS:-3}
else
	kp_kills=${KEYPROC_KILLS:-200} w_kills=${WORKER_KILLS:-5}
fi
init_ca
start_scepd
received="$WORK/received"
: >"$received"
: >"$WORK/outcomes"

# enroll_until_answered NAME: retries NAME's transaction until it is
# answered SUCCESS or FAILURE (503s and dropped connections are retried).
enroll_until_answered() {
	a=0
	while [ $a -lt 600 ]; do
		a=$((a + 1))
		st=0; sceptest "$1" --txid "$1" || st=$?
		case $st in
		0)	sed -n 's/^serial=//p' "$WORK/$1.out" >>"$received"
			echo ok >>"$WORK/outcomes"; return 0 ;;
		2)	echo failure >>"$WORK/outcomes"; return 0 ;;
		esac
		echo retry >>"$WORK/outcomes"
		sleep 0.05
	done
	fail "$1 was never answered"
}
load() {
	j=0
	while [ ! -e "$WORK/stop-load" ]; do
		j=$((j + 1))
		enroll_until_answered "l$1-$j"
	done
}
more_than() { [ "$(wc -l <"$received")" -gt "$1" ]; }
rm -f "$WORK/stop-load"
load a & la=$!
load b & lb=$!

k=1
while [ $k -le "$kp_kills" ]; do
	got=$(wc -l <"$received")
	wait_for "an enrollment before key process kill $k" more_than "$got"
	sleep "0.$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')"
	p=$(keyproc_pid)
	[ -n "$p" ] || fail "no key process before kill $k"
	kill -KILL "$p"
	wait_for_restart "key process" "$k"
	k=$((k + 1))
done
k=1
while [ $k -le "$w_kills" ]; do
	got=$(wc -l <"$received")
	wait_for "an enrollment before worker kill $k" more_than "$got"
	sleep "0.$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')"
	p=$(worker_pid)
	[ -n "$p" ] || fail "no worker before kill $k"
	kill -KILL "$p"
	wait_for_restart worker "$k"
	k=$((k + 1))
done
got=$(wc -l <"$received")
wait_for "an enrollment after the kills" more_than "$got"
: >"$WORK/stop-load"
wait "$la" "$lb" || fail "a client gave up"
sceptest final || { cat "$WORK/final.out" >&2; fail "no enrollment after the kills"; }
verify_cert "$WORK/final.pem"
sed -n 's/^serial=//p' "$WORK/final.out" >>"$received"
kill -0 "$SCEPD_PID" || fail "scepd itself died"
stop_scepd
"$SCEPCTL" hsm verify --config "$CA/scepd.conf" >"$WORK/verify.out" 2>&1 ||
    { cat "$WORK/verify.out" >&2; fail "the token's keys are not the certificates' keys"; }

sqlite3 "$CA/scepd.db" "select lower(serial) from certificates where state = 'issued'" |
    sort >"$WORK/issued"
tr 'A-F' 'a-f' <"$received" | sort >"$WORK/got"
dup=$(uniq -d "$WORK/got" | wc -l)
[ "$dup" -eq 0 ] || fail "$dup serial(s) reached two clients"
lost=$(comm -23 "$WORK/issued" "$WORK/got" | wc -l)
[ "$lost" -eq 0 ] || fail "$lost certificate(s) recorded as issued never reached a client"
comm -13 "$WORK/issued" "$WORK/got" | grep -q . &&
    fail "a client received a certificate that is not recorded as issued"
half=$(sqlite3 "$CA/scepd.db" "select count(*) from transactions where state = 'processing'")
[ "$half" -eq 0 ] || fail "$half transaction(s) left processing"
ok=$(grep -c '^ok$' "$WORK/outcomes" || :)
failed=$(grep -c '^failure$' "$WORK/outcomes" || :)
retries=$(grep -c '^retry$' "$WORK/outcomes" || :)
restored=$(grep -c 'restored the SoftHSM token directory' "$SCEPD_LOG" || :)
note "$kp_kills key process kills, $w_kills worker kills: $ok enrolled, $failed FAILURE, $retries retried (503 or dropped), 0 lost, 0 duplicated, $restored token restore(s)"
