# scepctl init logs into the token only while holding the token lock a
# running scepd holds for every login (SoftHSM rewrites its token file
# at each login; two at once corrupt it): it waits for the lock, and
# finishes once it is free.
. "$(dirname "$0")/common.sh"
command -v flock >/dev/null || skip "flock(1) is not installed"
CA=$WORK/ca
mkdir -p "$WORK/locks"
: >"$WORK/locks/hsm.lock"
rm -f "$WORK/lock.held" "$WORK/lock.release"
flock --no-fork "$WORK/locks/hsm.lock" sh -c ': >"$1"; i=0
    while [ ! -e "$2" ] && [ $i -lt 1200 ]; do i=$((i + 1)); sleep 0.1; done' \
    sh "$WORK/lock.held" "$WORK/lock.release" &
holder=$!
wait_for "the lock holder" test -e "$WORK/lock.held"
"$SCEPCTL" init --dir "$CA" --challenge "$CHALLENGE" \
    --lock-file "$WORK/locks/hsm.lock" >"$WORK/init.out" 2>"$WORK/init.err" &
init=$!
wait_for "scepctl to ask for the lock" grep -q 'taking the token lock' "$WORK/init.err"
# It cannot have logged in: the lock is held.
kill -0 "$init" 2>/dev/null || { cat "$WORK/init.err" >&2; fail "scepctl init did not wait for the lock"; }
[ ! -e "$CA/ca.pem" ] || fail "provisioned while the lock was held"
: >"$WORK/lock.release"
wait "$holder" 2>/dev/null || true
wait "$init" || { cat "$WORK/init.err" >&2; fail "scepctl init failed once the lock was free"; }
grep -q "lock_file = \"$WORK/locks/hsm.lock\"" "$CA/scepd.conf" ||
    fail "scepd.conf does not name the lock scepctl used"
start_scepd
sceptest after || fail "no enrollment with the provisioned CA"
expect after status=SUCCESS
