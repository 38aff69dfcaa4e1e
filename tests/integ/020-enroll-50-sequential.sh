# 50 enrollments in a row with Debian's scepclient and fresh keys: all
# issued, all verify against the CA, all serials distinct and random.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

n=50
start=$(date +%s.%N)
i=1
while [ $i -le $n ]; do
	scepclient_enroll "host$i" "$CHALLENGE" ||
	    { cat "$WORK/host$i/out" >&2; fail "enrollment $i failed"; }
	verify_cert "$WORK/host$i/c.pem"
	serial_of "$WORK/host$i/c.pem" >>"$WORK/serials"
	i=$((i + 1))
done
end=$(date +%s.%N)
[ "$(sort -u "$WORK/serials" | wc -l)" -eq $n ] || fail "serials repeat"
# 16 random bytes with the top bit clear: 32 hex digits, first below 8.
grep -vqE '^[0-7][0-9a-f]{31}$' "$WORK/serials" &&
    fail "a serial is not a positive 128-bit number"
[ "$(cert_count)" -eq $n ] || fail "the store does not hold $n certificates"
openssl x509 -in "$WORK/host7/c.pem" -noout -subject | grep -q 'CN = host7' ||
    fail "subject not taken from the CSR"
note "$n enrollments in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s (scepclient, incl. key generation)"
