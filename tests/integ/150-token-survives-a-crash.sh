# The SoftHSM token survives scepd's crashes:
#  - token.object emptied under a running scepd (what a kill during a
#    SoftHSM login leaves): the next request restores the token files
#    from the verified copy (tokens.backup), proves the keys against
#    ca.pem and ra.pem, and enrolls; the damaged files are kept; the
#    token directory keeps its permissions;
#  - the same at start-up;
#  - scepd killed with SIGKILL at random moments while clients enroll:
#    after each kill scepd starts again, its keys are the same keys and
#    the next enrollment succeeds; every certificate a client received
#    is recorded as issued.  How often the token had to be restored is
#    reported (a kill must land inside SoftHSM's rewrite for that).
. "$(dirname "$0")/common.sh"
init_ca
grep -q 'softhsm_backup = "tokens.backup"' "$CA/scepd.conf" ||
    fail "scepctl init did not configure the token backup"
empty_token_object() {
	t=$(ls "$CA"/tokens/*/token.object | head -n 1)
	[ -s "$t" ] || fail "no token.object to empty"
	: >"$t"
}
# Restores logged since the kills began (one log per start).
restores() { cat "$WORK"/scepd-*.log | grep -c 'restored the SoftHSM token directory' || :; }

start_scepd
sceptest before || fail "enrollment before the damage"
empty_token_object
sceptest after || { cat "$WORK/after.out" >&2; fail "no enrollment after token.object was emptied"; }
verify_cert "$WORK/after.pem"
log_has 'token.object is empty' || fail "the damage is not logged"
log_has 'restored the SoftHSM token directory' || fail "the restore is not logged"
log_has 'the restored token holds the keys of the CA and RA certificates' ||
    fail "the keys of the restored token were not proved"
ls -d "$CA"/tokens.damaged-* >/dev/null 2>&1 || fail "the damaged token files were not kept"
[ "$(stat -c %a "$CA/tokens")" = 700 ] || fail "the restored token directory is not 0700"
[ -z "$(find "$CA/tokens" -type f ! -perm 600)" ] || fail "a restored token file is not 0600"
stop_scepd

empty_token_object
start_scepd
log_has 'restored the SoftHSM token directory' || fail "no restore at start-up"
sceptest atstart || fail "no enrollment after a restore at start-up"
stop_scepd

# Kills at random moments under load.
kills=${KILLS:-20}
received="$WORK/received"
: >"$received"
load() {
	j=0
	while [ ! -e "$WORK/stop-load" ]; do
		j=$((j + 1))
		if sceptest "l$1-$j"; then
			sed -n 's/^serial=//p' "$WORK/l$1-$j.out" >>"$received"
		fi
	done
}
more_than() { [ "$(wc -l <"$received")" -gt "$1" ]; }
k=1
while [ $k -le $kills ]; do
	SCEPD_LOG="$WORK/scepd-$k.log"
	start_scepd
	got=$(wc -l <"$received")
	rm -f "$WORK/stop-load"
	load "$k-a" & la=$!
	load "$k-b" & lb=$!
	# Some enrollments first, then a kill at a random moment.
	wait_for "an enrollment in round $k" more_than "$got"
	sleep "0.$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')"
	kill -KILL "$SCEPD_PID"
	wait "$SCEPD_PID" 2>/dev/null || :
	SCEPD_PID=
	: >"$WORK/stop-load"
	wait "$la" "$lb" || :
	k=$((k + 1))
done
SCEPD_LOG="$WORK/scepd-final.log"
start_scepd
sceptest final || { cat "$WORK/final.out" >&2; fail "no enrollment after $kills kills"; }
verify_cert "$WORK/final.pem"
sed -n 's/^serial=//p' "$WORK/final.out" >>"$received"
# Every certificate a client received is recorded as issued.
sqlite3 "$CA/scepd.db" "select lower(serial) from certificates where state = 'issued'" |
    sort >"$WORK/issued"
tr 'A-F' 'a-f' <"$received" | sort >"$WORK/got"
[ -z "$(uniq -d "$WORK/got")" ] || fail "a serial was received twice"
comm -13 "$WORK/issued" "$WORK/got" | grep -q . &&
    fail "a client received a certificate that is not recorded as issued"
note "$kills SIGKILLs under load, $(wc -l <"$WORK/got") certificates received and recorded, $(restores) token restore(s) after the kills"
