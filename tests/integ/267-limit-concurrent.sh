# max_active holds under concurrency: six simultaneous requests for one
# subject with a limit of one give exactly one certificate; the others
# get FAILURE badRequest naming the limit.
. "$(dirname "$0")/common.sh"
init_ca
write_policy <<'P'
challenges = { shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { }; };
rules = ( { name = "one-each"; challenge = "shared"; action = "issue";
    max_active = 1; } );
P
# Room for all six challenge checks at once: the race is the point.
printf 'limits = { challenge_hashes = 8; };\n' >>"$CA/scepd.conf"
start_scepd

# Keys first, so that the requests arrive together.
for i in 1 2 3 4 5 6; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$WORK/race$i.key" 2>/dev/null
done
pids=
for i in 1 2 3 4 5 6; do
	sceptest "race$i" --cn racer &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || true; done

ok=0 limited=0
for i in 1 2 3 4 5 6; do
	if grep -qx status=SUCCESS "$WORK/race$i.out"; then
		ok=$((ok + 1))
	elif grep -q 'failInfoText=the subject has 1 valid certificate(s), the limit is 1' \
	    "$WORK/race$i.out"; then
		limited=$((limited + 1))
	else
		cat "$WORK/race$i.out" >&2
		fail "race$i: neither issued nor refused by the limit"
	fi
done
[ "$ok" -eq 1 ] || fail "$ok certificates issued for one subject with max_active = 1"
[ "$limited" -eq 5 ] || fail "$limited refused by the limit, expected 5"
[ "$(cert_count)" -eq 1 ] || fail "the store holds $(cert_count) certificates"
note "6 concurrent requests, max_active = 1: 1 issued, 5 refused"
