#!/bin/sh
# Runs every tests/integ/NNN-*.sh and closes with the line
# "integration: N passed, N failed, N skipped".
#   --asan   scepd and scepctl are the ASan+UBSan build (SCEPD_BIN,
#            SCEPCTL_BIN): every sanitizer report fails its test.
# INTEG_ONLY="140|15" runs only the tests whose names begin so.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
label=integration
san=
if [ "${1:-}" = --asan ]; then
	label=integration-asan
	san=$(mktemp -d "${TMPDIR:-/tmp}/scepd-san.XXXXXX")
	SCEPD_SANITIZED=1
	ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0:log_path=$san/asan"
	LSAN_OPTIONS="suppressions=$dir/../lsan.supp:print_suppressions=0"
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan"
	export SCEPD_SANITIZED ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
fi
passed=0 failed=0 skipped=0 failures=
out=$(mktemp "${TMPDIR:-/tmp}/scepd-integ-out.XXXXXX")
trap 'rm -f "$out"; [ -n "$san" ] && rm -rf "$san"' EXIT
for t in "$dir"/[0-9][0-9][0-9]-*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${INTEG_ONLY:-}" ] &&
	    ! echo "$name" | grep -Eq "^(${INTEG_ONLY})"; then
		continue
	fi
	start=$(date +%s)
	sh "$t" >"$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	# A sanitizer report anywhere (scepd, scepctl) fails the test.
	if [ -n "$san" ] && [ -n "$(ls "$san")" ]; then
		[ "$rc" -eq 77 ] && rc=0
		[ "$rc" -eq 0 ] && rc=99
		for f in "$san"/*; do
			echo "--- sanitizer report $(basename "$f"):"
			head -n 40 "$f"
		done >>"$out"
		rm -f "$san"/*
	fi
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name (${secs}s)"
	   sed 's/^/    /' "$out" | grep -v '^    $' | head -n 20 ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name" ;;
	*) failed=$((failed + 1)); failures="$failures $name"
	   echo "FAIL $name (${secs}s)"; sed 's/^/    /' "$out" ;;
	esac
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$label: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
