# OpenSC's pkcs11-spy wraps SoftHSM2 and logs every PKCS#11 call.  For
# each of N sequential enrollments, the calls it made must open its own
# session(s), log in, and close them all before the enrollment's
# response arrives, so that nothing survives into the next request.
. "$(dirname "$0")/common.sh"
[ -f "$SPY_MODULE" ] || skip "OpenSC's pkcs11-spy is not installed"
init_ca

SPY_LOG="$WORK/spy.log"
sed -e "s|module = \"$SOFTHSM_MODULE\";|module = \"$SPY_MODULE\";|" \
    -e "s|SOFTHSM2_CONF = |PKCS11SPY = \"$SOFTHSM_MODULE\"; PKCS11SPY_OUTPUT = \"$SPY_LOG\"; SOFTHSM2_CONF = |" \
    "$CA/scepd.conf" >"$CA/spy.conf"
grep -q pkcs11-spy "$CA/spy.conf" || fail "could not point the config at the spy"
start_scepd "$CA/spy.conf"

calls() { grep -E '^[0-9]+: C_' "$SPY_LOG" | awk '{ print $2 }'; }

n=6
calls >"$WORK/calls.0"
i=1
while [ $i -le $n ]; do
	scepclient_enroll "spy$i" "$CHALLENGE" || fail "enrollment $i"
	verify_cert "$WORK/spy$i/c.pem"
	calls >"$WORK/calls.$i"
	i=$((i + 1))
done

# For each enrollment: the calls logged since the previous one.
i=1
while [ $i -le $n ]; do
	prev=$(wc -l <"$WORK/calls.$((i - 1))")
	tail -n +"$((prev + 1))" "$WORK/calls.$i" >"$WORK/seg.$i"
	awk -v i="$i" '
	    $1 == "C_OpenSession" { open++; opens++ }
	    $1 == "C_CloseSession" { if (open > 0) open--; closes++ }
	    $1 == "C_CloseAllSessions" { if (open > 0) closes++; open = 0 }
	    $1 == "C_Login" { logins++ }
	    $1 == "C_Sign" || $1 == "C_Decrypt" {
		if (open == 0) { print "enrollment " i ": " $1 " outside a session"; bad = 1 }
	    }
	    END {
		if (opens < 1 || logins < opens || open != 0 || closes < opens || bad) {
			printf "enrollment %d: opens=%d logins=%d closes=%d still open=%d\n", i, opens, logins, closes, open
			exit 1
		}
		printf "enrollment %d: %d session(s) opened, %d login(s), all closed\n", i, opens, logins
	    }' "$WORK/seg.$i" >>"$WORK/report" || { cat "$WORK/report" >&2; fail "session leak"; }
	i=$((i + 1))
done
# The first call of every enrollment's segment is a fresh slot listing,
# not an operation on an old session.
i=1
while [ $i -le $n ]; do
	first=$(grep -v '^C_GetInfo$' "$WORK/seg.$i" | head -n 1)
	[ "$first" = C_GetSlotList ] ||
	    fail "enrollment $i starts with $first, not C_GetSlotList"
	i=$((i + 1))
done
cat "$WORK/report" | sed 's/^/  /'
