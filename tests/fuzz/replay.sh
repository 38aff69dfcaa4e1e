#!/bin/sh
# make fuzz-replay: every seed (tests/fuzz/corpus/TARGET/) and every saved
# crash (tests/fuzz/crashes/TARGET/) of each target, as regression
# inputs, through the gcc + ASan/UBSan builds with replay_main.c.  An
# input fails on a sanitizer report (crash, undefined behaviour, leak)
# or after 30 s.  Inputs run in name order, one process per target; after
# a failure the target goes on with the next input in a fresh process.
#
# Ends with "fuzz-replay: N passed, N failed"; exits 1 if any failed.
#
# usage: tests/fuzz/replay.sh BINDIR TARGET...
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 BINDIR TARGET..." >&2
	exit 2
fi
bindir=$1
shift

work=$(mktemp -d) || exit 1
shm=$(mktemp -d /dev/shm/scepd-fuzz-replay.XXXXXX 2>/dev/null) ||
    shm=$(mktemp -d)
trap 'rm -rf "$work" "$shm"' EXIT
trap 'exit 130' INT TERM
export SCEPD_FUZZ_SHM="$shm"
export ASAN_OPTIONS="detect_leaks=1:leak_check_at_exit=0:abort_on_error=1:\
${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
supp=$(pwd)/tests/fuzz/lsan.supp
export LSAN_OPTIONS="suppressions=$supp:\
print_suppressions=0:${LSAN_OPTIONS:-}"

passed=0
failed=0
start=$(date +%s)
for t in "$@"; do
	bin=$bindir/fuzz_$t
	list=$work/$t.list
	find "tests/fuzz/corpus/$t" "tests/fuzz/crashes/$t" -type f \
	    ! -name '.*' ! -name '*.md' 2>/dev/null | LC_ALL=C sort > "$list"
	total=$(wc -l < "$list")
	done=0
	tfail=0
	while [ "$done" -lt "$total" ]; do
		tail -n +"$((done + 1))" "$list" > "$work/rest"
		"$bin" @"$work/rest" > "$work/out" 2> "$work/err"
		rc=$?
		ok=$(grep -c '^ok ' "$work/out")
		leaks=$(grep '^leak ' "$work/out" | sed 's/^leak //')
		nleak=$(grep -c '^leak ' "$work/out")
		for f in $leaks; do
			echo "FAIL $t: $f: memory leak"
			grep -E '^SUMMARY|^ +#[0-9]' "$work/err" | head -8 |
			    sed 's/^/    /'
		done
		passed=$((passed + ok))
		failed=$((failed + nleak))
		tfail=$((tfail + nleak))
		done=$((done + ok + nleak))
		if [ "$rc" -ne 0 ] && [ "$done" -lt "$total" ]; then
			f=$(sed -n "$((done + 1))p" "$list")
			echo "FAIL $t: $f (exit $rc)"
			grep -E 'ERROR|SUMMARY|runtime error|^ +#[0-9]' \
			    "$work/err" | head -12 | sed 's/^/    /'
			failed=$((failed + 1))
			tfail=$((tfail + 1))
			done=$((done + 1))
		elif [ "$rc" -ne 0 ] && [ "$nleak" -eq 0 ]; then
			echo "FAIL $t: exit $rc after its last input"
			tail -5 "$work/err" | sed 's/^/    /'
			failed=$((failed + 1))
			tfail=$((tfail + 1))
		fi
	done
	echo "fuzz-replay $t: $total input(s), $tfail failed"
done
echo "fuzz-replay: $(($(date +%s) - start)) s"
echo "fuzz-replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
