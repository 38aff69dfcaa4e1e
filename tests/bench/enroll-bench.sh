#!/bin/sh
# Enrollment benchmark: a CA in a temporary directory, the real scepd,
# Debian's scepclient with keys made beforehand (so that client key
# generation is not counted).  Prints figures; asserts nothing.
#   tests/bench/enroll-bench.sh [SEQUENTIAL] [STREAMS] [PER_STREAM]
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SEQ=${1:-50}
STREAMS=${2:-8}
PER=${3:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-bench.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
CHALLENGE=$(openssl rand -hex 12)

"$TOP/bin/scepctl" init --dir "$WORK/ca" --challenge "$CHALLENGE" >/dev/null 2>&1
"$TOP/bin/scepd" --config "$WORK/ca/scepd.conf" --listen 127.0.0.1:0 \
    >"$WORK/log" 2>&1 &
PID=$!
until grep -q ready "$WORK/log"; do sleep 0.1; done
URL="http://127.0.0.1:$(sed -n 's/.*port \([0-9]*\) .*/\1/p' "$WORK/log")/scep"

now() { date +%s.%N; }
prepare() {	# prepare NAME: a directory with a ready RSA key
	mkdir -p "$WORK/$1"
	openssl genrsa -traditional -out "$WORK/$1/k.pem" 2048 2>/dev/null
}
enroll() {
	(cd "$WORK/$1" && scepclient -server-url "$URL" -challenge "$CHALLENGE" \
	    -private-key k.pem -certificate c.pem -cn "$1" >out 2>&1) ||
	    { echo "enrollment $1 failed" >&2; exit 1; }
}

i=1; while [ $i -le "$SEQ" ]; do prepare "s$i"; i=$((i + 1)); done
t0=$(now)
i=1; while [ $i -le "$SEQ" ]; do enroll "s$i"; i=$((i + 1)); done
t1=$(now)
awk -v n="$SEQ" -v a="$t0" -v b="$t1" 'BEGIN {
    printf "sequential: %d enrollments in %.2f s: %.1f ms each, %.1f/s\n",
	n, b - a, 1000 * (b - a) / n, n / (b - a) }'

s=1; while [ $s -le "$STREAMS" ]; do
	i=1; while [ $i -le "$PER" ]; do prepare "c$s-$i"; i=$((i + 1)); done
	s=$((s + 1))
done
t0=$(now)
streams=
s=1; while [ $s -le "$STREAMS" ]; do
	( trap - EXIT; i=1
	  while [ $i -le "$PER" ]; do enroll "c$s-$i"; i=$((i + 1)); done ) &
	streams="$streams $!"
	s=$((s + 1))
done
failed=0
for j in $streams; do wait "$j" || failed=1; done
t1=$(now)
[ "$failed" -eq 0 ] || { echo "a concurrent enrollment failed" >&2; exit 1; }
total=$((STREAMS * PER))
awk -v n="$total" -v s="$STREAMS" -v a="$t0" -v b="$t1" 'BEGIN {
    printf "concurrent: %d streams, %d enrollments in %.2f s: %.1f/s\n",
	s, n, b - a, n / (b - a) }'
issued=$("$TOP/bin/scepctl" cert list --config "$WORK/ca/scepd.conf" | tail -n +2 | wc -l)
echo "issued and recorded: $issued (expected $((SEQ + total)))"
