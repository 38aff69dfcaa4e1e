#!/bin/sh
# Runs every tests/integ/NNN-*.sh and closes with the line
# "integration: N passed, N failed, N skipped".
set -u
dir=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0 failures=
for t in "$dir"/[0-9][0-9][0-9]-*.sh; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	sh "$t" >"/tmp/scepd-integ-$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name (${secs}s)"
	   sed 's/^/    /' "/tmp/scepd-integ-$name.out" | grep -v '^    $' |
	       head -n 20 ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name" ;;
	*) failed=$((failed + 1)); failures="$failures $name"
	   echo "FAIL $name (${secs}s)"; sed 's/^/    /' "/tmp/scepd-integ-$name.out" ;;
	esac
	rm -f "/tmp/scepd-integ-$name.out"
done
[ -n "$failures" ] && echo "failed:$failures"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
