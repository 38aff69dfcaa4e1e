#!/bin/sh
# Runs cmocka test programs (with --valgrind, each under valgrind;
# --asan only names the run) and
# prints a closing line "unit: N passed, N failed" counting test cases.
# Exits non-zero if any test or program failed.
set -u
wrap=
label=unit
case "${1:-}" in
--valgrind)
	wrap="valgrind --quiet --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite"
	label=valgrind
	shift ;;
--asan)
	label=unit-asan
	shift ;;
esac
passed=0 failed=0 broken=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	$wrap "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		echo "FAILED: $t exited with status $rc" >&2
		broken=$((broken + 1))
	fi
done
echo "$label: $passed passed, $((failed + broken)) failed"
[ "$failed" -eq 0 ] && [ "$broken" -eq 0 ]
