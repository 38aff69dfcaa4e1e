# 8 scepclient enrollments at once: all succeed, serials unique.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

pids=
i=1
while [ $i -le 8 ]; do
	scepclient_enroll "c$i" "$CHALLENGE" &
	pids="$pids $!"
	i=$((i + 1))
done
i=1
for p in $pids; do
	wait "$p" || { cat "$WORK/c$i/out" >&2; fail "concurrent enrollment $i"; }
	i=$((i + 1))
done
i=1
while [ $i -le 8 ]; do
	verify_cert "$WORK/c$i/c.pem"
	serial_of "$WORK/c$i/c.pem" >>"$WORK/serials"
	i=$((i + 1))
done
[ "$(sort -u "$WORK/serials" | wc -l)" -eq 8 ] || fail "serials repeat"
[ "$(cert_count)" -eq 8 ] || fail "store does not hold 8 certificates"
