# CLIENTS (default 32) clients enroll without pause for SECONDS
# (default 60), each a closed loop of enrollments with its own key:
# every enrollment succeeds (zero failures, zero 503s), no serial is
# issued twice, every certificate verifies and is recorded as issued,
# and scepd and its processes were never restarted.
. "$(dirname "$0")/common.sh"
if [ -n "${SCEPD_SANITIZED:-}" ]; then
	clients=${CLIENTS:-8} secs=${SECONDS_OF_LOAD:-20}
else
	clients=${CLIENTS:-32} secs=${SECONDS_OF_LOAD:-60}
fi
init_ca
start_scepd
parent=$SCEPD_PID
end=$(($(date +%s) + secs))
load() {
	j=0
	while [ "$(date +%s)" -lt "$end" ]; do
		j=$((j + 1))
		sceptest_many "l$1-$j" 5 --source "127.0.0.$(($1 + 1))"
		outcomes "l$1-$j" >>"$WORK/all-$1"
		if outcomes "l$1-$j" | grep -qv ' ok '; then
			cp "$WORK/l$1-$j.out" "$WORK/bad-l$1-$j.out"
		fi
	done
}
pids=
c=1
while [ $c -le "$clients" ]; do
	load "$c" &
	pids="$pids $!"
	c=$((c + 1))
done
# shellcheck disable=SC2086
wait $pids
[ "$SCEPD_PID" = "$parent" ] && scepd_alive || fail "scepd or one of its processes was restarted"
cat "$WORK"/all-* >"$WORK/all"
total=$(wc -l <"$WORK/all")
[ "$total" -gt 0 ] || fail "no enrollment was answered"
bad=$(grep -v ' ok ' "$WORK/all" | wc -l)
[ "$bad" -eq 0 ] || { cat "$WORK"/bad-*.out | head -n 40 >&2
    fail "$bad of $total enrollments did not succeed"; }
ls "$WORK"/l*.d/*.pem >"$WORK/pems"
[ "$(wc -l <"$WORK/pems")" -eq "$total" ] || fail "a SUCCESS without its certificate"
xargs openssl verify -CAfile "$CA/ca.pem" <"$WORK/pems" >"$WORK/verify.out" 2>&1 ||
    { grep -v ': OK$' "$WORK/verify.out" | head >&2; fail "a certificate does not verify"; }
awk '{ print tolower($3) }' "$WORK/all" | sort >"$WORK/got"
dup=$(uniq -d "$WORK/got" | wc -l)
[ "$dup" -eq 0 ] || fail "$dup serial(s) issued twice"
stop_scepd
sqlite3 "$CA/scepd.db" "select lower(serial) from certificates where state = 'issued'" |
    sort >"$WORK/issued"
cmp -s "$WORK/issued" "$WORK/got" ||
    fail "the certificates recorded as issued are not those the clients received"
note "$clients clients for $secs s: $total enrollments, all issued, 0 failures, 0 duplicated serials"
