# Sourced by every integration test: a private SoftHSM2 token in a
# temporary directory (provisioned by `scepctl init`), the real scepd on
# a free loopback port, and helpers to drive it with real clients.
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
# make integ-asan points these at the ASan+UBSan build.
SCEPD=${SCEPD_BIN:-$TOP/bin/scepd}
SCEPCTL=${SCEPCTL_BIN:-$TOP/bin/scepctl}
SCEPTEST="$TOP/build/tests/sceptest"
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
SPY_MODULE=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-integ.XXXXXX")
CA="$WORK/ca"
CHALLENGE=$(openssl rand -hex 12)
SCEPD_WRAP=		# e.g. a valgrind command line
SCEPD_ARGS=		# more scepd options, e.g. --verbose
SCEPD_PID=
SCEPD_LOG="$WORK/scepd.log"
URL=

cleanup() {
	rc=$?
	[ -n "$SCEPD_PID" ] && kill -TERM "$SCEPD_PID" 2>/dev/null &&
	    wait "$SCEPD_PID" 2>/dev/null
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$SCEPD_LOG" ]; then
		echo "--- last lines of the scepd log:" >&2
		tail -n 25 "$SCEPD_LOG" >&2
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
note() { echo "  $*"; }

[ -x "$SCEPD" ] && [ -x "$SCEPCTL" ] && [ -x "$SCEPTEST" ] ||
    fail "build first: make all build/tests/sceptest"
[ -f "$SOFTHSM_MODULE" ] || skip "SoftHSM2 is not installed"

# init_ca [scepctl init options]: provisions $CA with $CHALLENGE.
init_ca() {
	"$SCEPCTL" init --dir "$CA" --challenge "$CHALLENGE" "$@" \
	    >"$WORK/init.out" 2>"$WORK/init.err" ||
	    { cat "$WORK/init.err" >&2; fail "scepctl init failed"; }
	policy_hash >"$WORK/hash"
}

# start_scepd [config]: starts scepd on a free port, sets URL.
start_scepd() {
	conf=${1:-$CA/scepd.conf}
	: >"$SCEPD_LOG"
	# shellcheck disable=SC2086
	$SCEPD_WRAP "$SCEPD" --config "$conf" --listen 127.0.0.1:0 \
	    ${SCEPD_ARGS:-} >>"$SCEPD_LOG" 2>&1 &
	SCEPD_PID=$!
	i=0
	while ! grep -q 'ready' "$SCEPD_LOG"; do
		kill -0 "$SCEPD_PID" 2>/dev/null ||
		    { SCEPD_PID=; fail "scepd exited at start"; }
		i=$((i + 1))
		[ $i -lt 600 ] || fail "scepd did not start"
		sleep 0.1
	done
	port=$(sed -n 's/.*listening on .* port \([0-9]*\) .*/\1/p' \
	    "$SCEPD_LOG" | tail -n 1)
	[ -n "$port" ] || fail "no port in the scepd log"
	URL="http://127.0.0.1:$port/scep"
}

# child_pid NAME: the pid of scepd's child process NAME (scepd-worker or
# scepd-keyproc), empty if none runs.
child_pid() {
	for c in $(pgrep -P "$SCEPD_PID" 2>/dev/null); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$1" ] &&
		    { echo "$c"; return 0; }
	done
	return 0
}
worker_pid() { child_pid scepd-worker; }
keyproc_pid() { child_pid scepd-keyproc; }

# scepd_alive: scepd runs, its worker never died and none of its
# processes was killed by a signal (the parent would have restarted
# it: a crash must not hide behind a restart).  A key process that its
# watchdog ended (a hung HSM) is not a crash.
scepd_alive() {
	kill -0 "$SCEPD_PID" 2>/dev/null || return 1
	! grep -q 'the worker (pid [0-9]*) .*restarting it in' "$SCEPD_LOG" &&
	    ! grep -q 'killed by signal' "$SCEPD_LOG"
}

# children_running: every child that died has been started again.
children_running() {
	[ "$(grep -c 'restarting it in' "$SCEPD_LOG" || :)" -eq \
	    "$(grep -c 'is running again' "$SCEPD_LOG" || :)" ]
}

# restarts WHAT: how often "the WHAT" (worker, key process) was
# started again.
restarts() {
	grep -c "the $1 is running again" "$SCEPD_LOG" || :
}

# wait_for_restart WHAT N: until the WHAT was started again N times.
wait_for_restart() {
	i=0
	while [ "$(restarts "$1")" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 1200 ] || fail "the $1 was not restarted"
		sleep 0.05
	done
}

# stop_scepd: SIGTERM, and the exit status must be 0.
stop_scepd() {
	kill -TERM "$SCEPD_PID"
	st=0
	wait "$SCEPD_PID" || st=$?
	SCEPD_PID=
	[ "$st" -eq 0 ] || fail "scepd exited with status $st on SIGTERM"
}

# scepclient_enroll NAME CHALLENGE: enrolls with Debian's scepclient in
# a fresh directory $WORK/NAME (it keeps its CSR in the working
# directory).  Output in $WORK/NAME/out; returns scepclient's status.
scepclient_enroll() {
	d="$WORK/$1"
	mkdir -p "$d"
	(cd "$d" && scepclient -server-url "$URL" -challenge "$2" \
	    -private-key k.pem -certificate c.pem -cn "$1" >out 2>&1)
}

# verify_cert FILE: the certificate chains to our CA.
verify_cert() {
	openssl verify -CAfile "$CA/ca.pem" "$1" >/dev/null 2>&1 ||
	    fail "$1 does not verify against the CA"
}

serial_of() {
	openssl x509 -in "$1" -noout -serial | sed 's/serial=//' |
	    tr 'A-F' 'a-f'
}

# http_status METHOD QUERY [curl args]: prints the HTTP status code.
http_status() {
	method=$1 query=$2
	shift 2
	curl -s -o "$WORK/body" -w '%{http_code}' -X "$method" \
	    "$URL?$query" "$@"
}

cert_count() {
	"$SCEPCTL" cert list --config "$CA/scepd.conf" | tail -n +2 | wc -l
}

# sceptest NAME [options]: runs the OpenSSL-based test client with the
# right challenge (from the environment, not argv) and a key of its own
# in $WORK/NAME.key; output in $WORK/NAME.out; returns its status
# (0 SUCCESS, 2 FAILURE, 3 PENDING, 1 error).
sceptest() {
	name=$1
	shift
	SCEPTEST_CHALLENGE=${SCEPTEST_CHALLENGE-$CHALLENGE} "$SCEPTEST" \
	    --url "$URL" --key "$WORK/$name.key" --cn "$name" \
	    --out "$WORK/$name.pem" "$@" enroll >"$WORK/$name.out" 2>&1
}

# sceptest_many NAME N [args]: N enrollments in a row by one client
# (sceptest --count): subjects CN=NAME-1 .. NAME-N, one key, answers in
# $WORK/NAME.out, certificates in $WORK/NAME.d/I.pem; see outcomes.
sceptest_many() {
	name=$1 count=$2
	shift 2
	mkdir -p "$WORK/$name.d"
	SCEPTEST_CHALLENGE=${SCEPTEST_CHALLENGE-$CHALLENGE} "$SCEPTEST" \
	    --url "$URL" --key "$WORK/$name.key" --cn "$name" \
	    --count "$count" --out-dir "$WORK/$name.d" "$@" enroll \
	    >"$WORK/$name.out" 2>&1
}

# outcomes NAME: a line per enrollment of sceptest_many NAME: "I ok
# SERIAL", "I refused" (503 with Retry-After), "I failure" (a CertRep
# FAILURE with a failInfo), "I pending" or "I broken" (anything else).
outcomes() {
	awk '/^n=/ { n = substr($0, 3); http = ""; ra = 0; fi = 0; serial = "" }
	    /^http=/ { http = substr($0, 6) }
	    /^retry_after=[1-9]/ { ra = 1 }
	    /^failInfo=/ { fi = 1 }
	    /^serial=/ { serial = substr($0, 8) }
	    /^exit=/ { e = substr($0, 6)
		if (e == 0 && serial != "") print n, "ok", serial
		else if (e == 2 && fi) print n, "failure"
		else if (e == 3) print n, "pending"
		else if (e == 1 && http == 503 && ra) print n, "refused"
		else print n, "broken" }' "$WORK/$1.out"
}

# expect NAME LINE: the client's output for NAME has that line.
expect() {
	grep -qx "$2" "$WORK/$1.out" ||
	    { cat "$WORK/$1.out" >&2; fail "$1: expected '$2'"; }
}

# The static challenge hash scepctl init put in the policy.
policy_hash() {
	sed -n 's/.*hash = "\([^"]*\)".*/\1/p' "$CA/policy.conf" | head -n 1
}

# write_policy: the policy on standard input, @HASH@ standing for the
# hash of $CHALLENGE, replaces $CA/policy.conf (checked first).
write_policy() {
	# Checked in place: relative paths are relative to the file.
	sed "s|@HASH@|$(cat "$WORK/hash")|g" >"$CA/policy.new"
	"$SCEPCTL" policy check "$CA/policy.new" >/dev/null ||
	    fail "the test's own policy is invalid"
	mv "$CA/policy.new" "$CA/policy.conf"
}

# reload_policy WORD: SIGHUP, then wait for the WORD line ("reloaded"
# or "refused") to appear once more in the log.
reload_policy() {
	before=$(grep -c "policy $1\|policy refused" "$SCEPD_LOG" || true)
	kill -HUP "$SCEPD_PID"
	i=0
	while [ "$(grep -c "policy $1\|policy refused" "$SCEPD_LOG" || true)" -le "$before" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "no 'policy $1' after SIGHUP"
		sleep 0.1
	done
	grep "policy reloaded\|policy refused" "$SCEPD_LOG" | tail -n 1 |
	    grep -q "$1" || fail "SIGHUP: expected '$1'"
}

# otp_issue [options]: issues one OTP, prints "ID OTP".
otp_issue() {
	"$SCEPCTL" otp issue --config "$CA/scepd.conf" "$@" | cut -f1,2
}

# hold_token_lock: another process takes the token lock and keeps it
# until release_token_lock; returns once the lock is held.
hold_token_lock() {
	rm -f "$WORK/lock.held" "$WORK/lock.release"
	flock --no-fork "$CA/hsm.lock" sh -c ': >"$1"; i=0
	    while [ ! -e "$2" ] && [ $i -lt 1200 ]; do
		i=$((i + 1)); sleep 0.1; done' sh "$WORK/lock.held" \
	    "$WORK/lock.release" &
	LOCK_HOLDER=$!
	wait_for "the lock holder" test -e "$WORK/lock.held"
}
release_token_lock() {
	: >"$WORK/lock.release"
	wait "$LOCK_HOLDER" 2>/dev/null || true
}

# wait_for WHAT COMMAND...: polls COMMAND until it succeeds, up to 60 s.
wait_for() {
	what=$1
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "timed out waiting for $what"
		sleep 0.1
	done
}

# log_has PATTERN: the scepd log has a line matching PATTERN.
log_has() { grep -q "$1" "$SCEPD_LOG"; }

# use_fault_module: writes $CA/fault.conf, which loads the token through
# lib/p11fault.so (hsm/p11fault.c) with no faults yet; fault_set and
# fault_clear change its rules while scepd runs.  Every PKCS#11 call is
# logged to $FAULT_LOG.
FAULT_MODULE="$TOP/lib/p11fault.so"
FAULT_CTL="$WORK/p11fault.conf"
FAULT_LOG="$WORK/p11fault.log"
use_fault_module() {
	[ -f "$FAULT_MODULE" ] || fail "build first: make lib/p11fault.so"
	sed -e "s|module = \"$SOFTHSM_MODULE\";|module = \"$FAULT_MODULE\";|" \
	    -e "s|SOFTHSM2_CONF = |P11FAULT_MODULE = \"$SOFTHSM_MODULE\"; P11FAULT_CONTROL = \"$FAULT_CTL\"; P11FAULT_LOG = \"$FAULT_LOG\"; SOFTHSM2_CONF = |" \
	    "$CA/scepd.conf" >"$CA/fault.conf"
	grep -q p11fault "$CA/fault.conf" ||
	    fail "could not point the config at the fault module"
	fault_clear
}

# fault_set RULE...: the fault rules (libconfig groups, see
# hsm/p11fault.c), renamed into place so a call never reads half a file.
fault_set() {
	{ printf 'faults = (\n'; printf '%s,\n' "$@" | sed '$ s/,$//'
	  printf ');\n'; } >"$FAULT_CTL.new"
	mv "$FAULT_CTL.new" "$FAULT_CTL"
}
fault_clear() { printf 'faults = ();\n' >"$FAULT_CTL.new"; mv "$FAULT_CTL.new" "$FAULT_CTL"; }

# fault_calls: the PKCS#11 functions called so far, one per line.
fault_calls() { awk '{ print $1 }' "$FAULT_LOG" 2>/dev/null; }
