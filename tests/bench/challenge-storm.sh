#!/bin/sh
# Wrong-challenge storm: ATTACKERS clients (from 127.0.0.2) send
# PKCSReqs with wrong challenges in a loop while one good client (from
# 127.0.0.1) enrolls GOOD times.  Prints the good client's enrollment
# rate and median latency, how the attackers were answered, and
# scepd's peak memory.  Asserts nothing.
#   tests/bench/challenge-storm.sh [ATTACKERS] [GOOD] [BIN_DIR]
# BIN_DIR (default bin/) holds the scepd and scepctl to measure, so
# that an older build can be measured the same way.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ATTACKERS=${1:-16}
GOOD=${2:-30}
BIN=${3:-$TOP/bin}
SCEPTEST="$TOP/build/tests/sceptest"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-storm.XXXXXX")
PID=
STOP="$WORK/stop"
trap ': >"$STOP"; [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
CHALLENGE=$(openssl rand -hex 12)

"$BIN/scepctl" init --dir "$WORK/ca" --challenge "$CHALLENGE" >/dev/null 2>&1
"$BIN/scepd" --config "$WORK/ca/scepd.conf" --listen 127.0.0.1:0 \
    >"$WORK/log" 2>&1 &
PID=$!
i=0
until grep -q ready "$WORK/log"; do
	i=$((i + 1)); [ $i -lt 600 ] || { echo "scepd did not start" >&2; exit 1; }
	sleep 0.1
done
URL="http://127.0.0.1:$(sed -n 's/.*port \([0-9]*\) .*/\1/p' "$WORK/log")/scep"

# Keys first: key generation is not what is measured.
i=1; while [ $i -le "$ATTACKERS" ]; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$WORK/a$i.key" 2>/dev/null; i=$((i + 1)); done
i=1; while [ $i -le "$GOOD" ]; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$WORK/g$i.key" 2>/dev/null; i=$((i + 1)); done

# Each attacker's wrong-challenge PKCSReq is built once and sent again
# and again (curl is cheap next to building messages), so that the
# load generator leaves the CPU to scepd.
i=1; while [ $i -le "$ATTACKERS" ]; do
	SCEPTEST_CHALLENGE="wrong-$i" "$SCEPTEST" --url "$URL" \
	    --key "$WORK/a$i.key" --cn "attacker$i" --txid "attack-$i" \
	    --save-request "$WORK/a$i.der" enroll >/dev/null 2>&1 || true
	i=$((i + 1))
done
attack() {	# attack N: resend until told to stop, bounded
	n=0
	while [ ! -e "$STOP" ] && [ $n -lt 100000 ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.2 \
		    --data-binary "@$WORK/a$1.der" \
		    "$URL?operation=PKIOperation" >>"$WORK/attack-answers" ||
		    echo no-answer >>"$WORK/attack-answers"
		n=$((n + 1))
	done
}
: >"$WORK/attack-answers"
i=1; while [ $i -le "$ATTACKERS" ]; do attack "$i" & i=$((i + 1)); done
# Let the storm build up before the good client starts.
sleep 3

now() { date +%s.%N; }
: >"$WORK/lat"
t0=$(now)
i=1; while [ $i -le "$GOOD" ]; do
	a=$(now)
	SCEPTEST_CHALLENGE=$CHALLENGE "$SCEPTEST" --url "$URL" \
	    --key "$WORK/g$i.key" --cn "good$i" enroll >"$WORK/g.out" 2>&1 &&
	    ok=1 || ok=0
	b=$(now)
	echo "$a $b $ok" >>"$WORK/lat"
	i=$((i + 1))
done
t1=$(now)
: >"$STOP"
wait_attackers=$(jobs -p)
for j in $wait_attackers; do [ "$j" = "$PID" ] || wait "$j" 2>/dev/null || true; done
hwm=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$PID/status" 2>/dev/null || echo "?")
# utime + stime of scepd, in clock ticks (fields 14 and 15).
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' \
    "/proc/$PID/stat" 2>/dev/null || echo "?")
awk '{ printf "%.3f %d\n", $2 - $1, $3 }' "$WORK/lat" | sort -n >"$WORK/d"
awk -v t0="$t0" -v t1="$t1" '{ d[NR] = $1; ok += $2 } END {
    printf "good client: %d of %d enrolled in %.1f s: %.2f/s, median %.2f s, max %.2f s\n",
	ok, NR, t1 - t0, ok / (t1 - t0), d[int((NR + 1) / 2)], d[NR] }' "$WORK/d"
printf "attackers: %d clients, %d requests; HTTP status:" "$ATTACKERS" \
    "$(wc -l <"$WORK/attack-answers")"
sort "$WORK/attack-answers" | uniq -c | sort -rn |
    awk '{ printf " %s x%s", $2, $1 }'
echo
echo "scepd peak memory (VmHWM): $hwm; scepd CPU: $cpu s in all"
