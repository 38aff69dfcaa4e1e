# Privilege separation: the worker (HTTP, SCEP, policy, store) has no
# PKCS#11 module in its address space and no PIN in its memory; the key
# process has both (the control that proves the checks can see them).
# Started as root with server.user, both run as that user and the CA
# still enrolls.
. "$(dirname "$0")/common.sh"
MEMGREP="$TOP/build/tests/memgrep"
[ -x "$MEMGREP" ] || fail "build first: make build/tests/memgrep"
init_ca
use_fault_module
start_scepd "$CA/fault.conf"
sceptest one || { cat "$WORK/one.out" >&2; fail "enrollment"; }
w=$(worker_pid) k=$(keyproc_pid)
[ -n "$w" ] && [ -n "$k" ] || fail "no worker ($w) or key process ($k)"
[ "$w" != "$k" ] || fail "the worker is the key process"

# Modules: the fault module wraps SoftHSM; neither may be in the worker.
for m in "$FAULT_MODULE" "$SOFTHSM_MODULE"; do
	grep -q "$(readlink -f "$m")" "/proc/$k/maps" ||
	    fail "the key process has not loaded $m (the check sees nothing)"
	grep -q "$(readlink -f "$m")" "/proc/$w/maps" &&
	    fail "the worker has $m in its address space"
done
grep -q 'libp11\.so' "/proc/$w/maps" && fail "the worker has libp11 loaded"

# The PIN: in the key process (which logs in with it), not the worker.
# (Under ASan memgrep would read terabytes of shadow memory: the plain
# build's run of this test searches.)
pin=$(cat "$CA/pin")
if [ -z "${SCEPD_SANITIZED:-}" ]; then
[ ${#pin} -ge 8 ] || fail "the PIN is too short to search for"
"$MEMGREP" "$k" "$pin" ||
    fail "the PIN is not found in the key process (memgrep sees nothing)"
st=0; "$MEMGREP" "$w" "$pin" || st=$?
[ $st -eq 1 ] || fail "the worker's memory holds the PIN (memgrep $st)"
fi
grep -q "$pin" "$SCEPD_LOG" && fail "the PIN is in the log"
if [ -z "${SCEPD_SANITIZED:-}" ]; then
	note "worker $w: no module, no libp11, no PIN; key process $k: both"
else
	note "worker $w: no module, no libp11; key process $k: both (PIN search only in the plain build)"
fi
stop_scepd

# server.user: started as root, the children run as that user.
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	note "not root (or no user nobody): server.user not tried"
	exit 0
fi
chmod 755 "$WORK"
chown -R nobody "$CA"
sed -i 's|^server = {|server = {\n  user = "nobody";|' "$CA/scepd.conf"
grep -q 'user = "nobody"' "$CA/scepd.conf" || fail "could not set server.user"
start_scepd
sceptest two || { cat "$WORK/two.out" >&2; fail "enrollment as nobody"; }
verify_cert "$WORK/two.pem"
nobody=$(id -u nobody)
for p in "$(worker_pid)" "$(keyproc_pid)"; do
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$p/status")
	[ "$uid" = "$nobody$nobody$nobody$nobody" ] ||
	    fail "process $p runs as uid $uid, not nobody ($nobody)"
done
log_has 'running as root' && fail "warned about root although server.user is set"
note "server.user: worker and key process run as nobody ($nobody) and enroll"
