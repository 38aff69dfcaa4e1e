# 8 requests at once presenting the same OTP: exactly one certificate.
. "$(dirname "$0")/common.sh"
init_ca
write_policy <<'P'
challenges = { tokens = { kind = "otp"; }; };
profiles = { default = { }; };
rules = ( { name = "otp"; challenge = "tokens"; action = "issue"; } );
P
start_scepd
set -- $(otp_issue --ttl 1h); otp=$2

# Keys first, so that the requests really race.
i=1
while [ $i -le 8 ]; do
	openssl genrsa -out "$WORK/race$i.key" 2048 2>/dev/null
	i=$((i + 1))
done
pids=
i=1
while [ $i -le 8 ]; do
	SCEPTEST_CHALLENGE=$otp sceptest "race$i" &
	pids="$pids $!"
	i=$((i + 1))
done
ok=0 refused=0
for p in $pids; do
	st=0; wait "$p" || st=$?
	case $st in
	0) ok=$((ok + 1)) ;;
	2) refused=$((refused + 1)) ;;
	*) fail "a racing request ended with status $st" ;;
	esac
done
note "8 racing requests: $ok issued, $refused refused"
[ "$ok" -eq 1 ] && [ "$refused" -eq 7 ] || fail "not exactly one success"
[ "$(cert_count)" -eq 1 ] || fail "not exactly one certificate"
