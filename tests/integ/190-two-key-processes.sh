# hsm.key_processes = 2, for a module that allows concurrent logins:
#  - two key processes run, each logged in on its own; 8 clients enroll
#    at once, every certificate verifies and no serial repeats;
#  - while the first key process hangs in C_Sign, enrollments go on
#    through the second (with one key process they would wait for it);
#    the hung enrollment finishes once the HSM answers;
#  - the second key process killed: the parent starts it again, the
#    worker is connected to it, enrollments go on.
# SoftHSM2 itself cannot be logged in to by two processes at once
# (scepd refuses key_processes > 1 for it), so the fault module
# serialises each of its calls (P11FAULT_SERIALIZE) to make it behave
# like an HSM that can.
. "$(dirname "$0")/common.sh"
init_ca
use_fault_module
sed -i -e 's|^  lock_timeout = 30;.*|  lock_timeout = 30;\n  key_processes = 2;\n  call_timeout = 120;|' \
    -e "s|P11FAULT_MODULE = |P11FAULT_SERIALIZE = \"$WORK/p11serial.lock\"; P11FAULT_MODULE = |" \
    "$CA/fault.conf"
grep -q 'key_processes = 2;' "$CA/fault.conf" && grep -q P11FAULT_SERIALIZE \
    "$CA/fault.conf" || fail "could not ask for two key processes"
start_scepd "$CA/fault.conf"

keyproc_count() {
	n=0
	for c in $(pgrep -P "$SCEPD_PID" 2>/dev/null); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = scepd-keyproc ] &&
		    n=$((n + 1))
	done
	echo "$n"
}
two_keyprocs() { [ "$(keyproc_count)" -eq 2 ]; }
# keyproc_pid_of I: the pid of key process I (1 or 2), as last started.
keyproc_pid_of() {
	sed -n "s/.*key process $1 of 2 (pid \([0-9]*\)) is up.*/\1/p" \
	    "$SCEPD_LOG" | tail -n 1
}
wait_for "two key processes" two_keyprocs
kp1=$(keyproc_pid_of 1) kp2=$(keyproc_pid_of 2)
[ -n "$kp1" ] && [ -n "$kp2" ] && [ "$kp1" != "$kp2" ] ||
    fail "the log does not name both key processes"
wait_for "the worker's channel to key process 2" \
    log_has 'connected to key process 2'

# 8 clients at once, 6 enrollments each.
for c in 1 2 3 4 5 6 7 8; do
	sceptest_many "c$c" 6 & eval "pid$c=\$!"
done
for c in 1 2 3 4 5 6 7 8; do
	eval "wait \$pid$c" || { cat "$WORK/c$c.out" >&2; fail "client c$c"; }
done
for c in 1 2 3 4 5 6 7 8; do
	outcomes "c$c"
done >"$WORK/outcomes"
[ "$(grep -c ' ok ' "$WORK/outcomes")" -eq 48 ] ||
    { cat "$WORK/outcomes" >&2; fail "not all 48 enrollments succeeded"; }
[ "$(awk '{ print $3 }' "$WORK/outcomes" | sort -u | wc -l)" -eq 48 ] ||
    fail "a serial was issued twice"
for f in "$WORK"/c*.d/*.pem; do
	verify_cert "$f"
done
note "2 key processes, 8 clients: 48 enrolled, 48 serials, all verify"

# Key process 1 hangs in C_Sign; the others go on through key process 2.
fault_set "{ function = \"C_Sign\"; hang = true; pid = $kp1; }"
sceptest hung & hung=$!
wait_for "C_Sign to hang" grep -q '^C_Sign hanging' "$FAULT_LOG"
for e in 1 2 3 4 5; do
	sceptest "during$e" ||
	    { cat "$WORK/during$e.out" >&2; fail "enrollment $e while key process 1 hangs"; }
	verify_cert "$WORK/during$e.pem"
done
kill -0 "$hung" 2>/dev/null ||
    fail "the hung enrollment was answered before the HSM answered"
fault_clear
st=0; wait "$hung" || st=$?
[ $st -eq 0 ] || { cat "$WORK/hung.out" >&2; fail "the hung enrollment failed once the HSM answered"; }
verify_cert "$WORK/hung.pem"
[ "$(keyproc_pid_of 1)" = "$kp1" ] || fail "key process 1 was restarted"
note "key process 1 hung in C_Sign: 5 enrollments through key process 2 meanwhile, then the hung one succeeded"

# Key process 2 killed: started again, and the worker uses the new one.
kill -KILL "$kp2"
wait_for_restart "key process 2" 1
wait_for "two key processes again" two_keyprocs
wait_for "the worker's channel to the new key process 2" \
    test "$(grep -c 'connected to key process 2' "$SCEPD_LOG")" -ge 2
new2=$(keyproc_pid_of 2)
[ "$new2" != "$kp2" ] || fail "key process 2 has its old pid"
# Both channels in use at once: 4 clients, 4 enrollments each.
for c in 1 2 3 4; do
	sceptest_many "k$c" 4 & eval "pid$c=\$!"
done
for c in 1 2 3 4; do
	eval "wait \$pid$c" || { cat "$WORK/k$c.out" >&2; fail "client k$c after the restart"; }
	[ "$(outcomes "k$c" | grep -c ' ok ')" -eq 4 ] ||
	    fail "client k$c: not all enrollments succeeded"
done
kill -0 "$SCEPD_PID" || fail "scepd died"
[ "$(restarts worker)" -eq 0 ] || fail "the worker was restarted"
note "key process 2 killed: restarted (pid $kp2 -> $new2), 16 enrollments after it"
