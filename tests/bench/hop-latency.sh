#!/bin/sh
# The latency the key-process hop adds to an enrollment: N enrollments
# in a row by one client (build/tests/sceptest --count, one key made
# beforehand) against this build, and against BASE (default 9860b2b,
# the last commit where scepd used the token in its own process) built
# in a temporary git worktree.  Prints ms per enrollment for each and
# the difference; asserts nothing.
#   tests/bench/hop-latency.sh [N] [BASE] [ROUNDS]
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-300}
BASE=${2:-9860b2b}
ROUNDS=${3:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scepd-hop.XXXXXX")
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	git -C "$TOP" worktree remove --force "$WORK/base" 2>/dev/null || :
	rm -rf "$WORK"
}
trap cleanup EXIT
git -C "$TOP" worktree add --detach "$WORK/base" "$BASE" >/dev/null 2>&1
make -C "$WORK/base" -s bin/scepd bin/scepctl >/dev/null 2>&1
CHALLENGE=$(openssl rand -hex 12)
openssl genrsa -out "$WORK/k.pem" 2048 2>/dev/null

# run DIR NAME: ms per enrollment of N in a row against DIR's scepd.
run() {
	rm -rf "$WORK/ca"
	"$1/bin/scepctl" init --dir "$WORK/ca" --challenge "$CHALLENGE" >/dev/null 2>&1
	: >"$WORK/log"
	"$1/bin/scepd" --config "$WORK/ca/scepd.conf" --listen 127.0.0.1:0 \
	    >"$WORK/log" 2>&1 &
	PID=$!
	until grep -q ready "$WORK/log"; do sleep 0.1; done
	url="http://127.0.0.1:$(sed -n 's/.*port \([0-9]*\) .*/\1/p' "$WORK/log")/scep"
	t0=$(date +%s.%N)
	SCEPTEST_CHALLENGE=$CHALLENGE "$TOP/build/tests/sceptest" --url "$url" \
	    --key "$WORK/k.pem" --cn "$2" --count "$N" enroll >"$WORK/out" 2>&1
	t1=$(date +%s.%N)
	ok=$(grep -c '^exit=0$' "$WORK/out" || :)
	kill "$PID"; wait "$PID" 2>/dev/null || :
	PID=
	[ "$ok" -eq "$N" ] || { echo "$2: only $ok of $N enrolled" >&2; exit 1; }
	echo "$t0 $t1 $N" | awk '{ printf "%.2f", ($2 - $1) * 1000 / $3 }'
}
echo "hop latency: $N sequential enrollments per run, $ROUNDS rounds, ms per enrollment"
echo "round  one-process($BASE)  three-process(this)  added"
r=1
while [ $r -le "$ROUNDS" ]; do
	a=$(run "$WORK/base" base)
	b=$(run "$TOP" this)
	echo "$r $a $b" | awk '{ printf "%5d  %18s  %19s  %+.2f\n", $1, $2, $3, $3 - $2 }'
	r=$((r + 1))
done
