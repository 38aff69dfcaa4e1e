#!/bin/sh
# make fuzz: runs each fuzz target with libFuzzer for SECONDS from its
# seed corpus and prints, per target, the executions, executions per
# second, coverage (libFuzzer's cov: and ft:) and every distinct crash.
#
# libFuzzer runs in fork mode (-fork=1 -ignore_crashes=1): a crash, leak
# or timeout ends one job, not the run, so the time given is all spent
# fuzzing.  New corpus entries go to BINDIR/corpus/TARGET, never into
# the tracked seeds.  The inputs libFuzzer saved (BINDIR/artifacts/TARGET)
# are run again one by one (at most FUZZ_TRIAGE per target, default 25),
# and one input per distinct sanitizer summary and top frame in scepd's
# code is copied to tests/fuzz/crashes/TARGET/, where make fuzz-replay
# runs it as a regression input.  scepd's own log lines are all
# formatted (SCEPD_FUZZ_LOG=debug) and discarded (-close_fd_mask=2);
# sanitizer reports are kept.
#
# usage: tests/fuzz/run.sh BINDIR SECONDS TARGET...
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 BINDIR SECONDS TARGET..." >&2
	exit 2
fi
bindir=$1
secs=$2
shift 2
nice=${FUZZ_NICE-nice -n 19}

work=$(mktemp -d) || exit 1
shm=$(mktemp -d /dev/shm/scepd-fuzz.XXXXXX 2>/dev/null) || shm=$(mktemp -d)
trap 'rm -rf "$work" "$shm"' EXIT
trap 'exit 130' INT TERM
export SCEPD_FUZZ_SHM="$shm"
export SCEPD_FUZZ_LOG=debug
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
supp=$(pwd)/tests/fuzz/lsan.supp
export LSAN_OPTIONS="suppressions=$supp:\
print_suppressions=0"
triage=${FUZZ_TRIAGE:-25}

# The sanitizer summary and the first frame in scepd's own code.
signature() {
	sum=$(grep -E '^SUMMARY: ' "$1" | tail -1 |
	    sed -E 's/[0-9]+ byte\(s\) leaked in [0-9]+ allocation\(s\)/leak/')
	frame=$(grep -E '^ +#[0-9]+ .* in [A-Za-z_0-9]+ .*/(src|policy|hsm)/' \
	    "$1" | head -1 | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in //')
	echo "${sum:-no sanitizer summary} | ${frame:-no frame in scepd}"
}

status=0
summary=$work/summary
: > "$summary"
for t in "$@"; do
	bin=$bindir/fuzz_$t
	corpus=$bindir/corpus/$t
	arts=$bindir/artifacts/$t
	crashes=tests/fuzz/crashes/$t
	log=$bindir/logs/$t.log
	seeds=tests/fuzz/corpus/$t
	mkdir -p "$corpus" "$arts" "$crashes" "$bindir/logs" "$seeds"
	dict=
	[ -f "tests/fuzz/dict/$t.dict" ] && dict=-dict=tests/fuzz/dict/$t.dict
	find "$arts" -type f | sed 's,.*/,,' | LC_ALL=C sort > "$work/before"
	echo "fuzz $t: $secs s ($bin, log $log)"
	start=$(date +%s)
	# shellcheck disable=SC2086
	$nice "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
	    -ignore_ooms=1 -max_total_time="$secs" -timeout=25 \
	    -rss_limit_mb=4096 -close_fd_mask=2 -artifact_prefix="$arts/" \
	    $dict "$corpus" "$seeds" > "$log" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - start))
	[ "$elapsed" -gt 0 ] || elapsed=1
	last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1)
	if [ -z "$last" ]; then
		echo "fuzz $t: libFuzzer failed (exit $rc); the end of its log:"
		tail -20 "$log" | sed 's/^/    /'
		status=1
	fi
	execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	bad=$(echo "$last" |
	    sed -n 's,.* oom/timeout/crash: \([0-9/]*\).*,\1,p')
	# Triage what this run saved: one input per distinct problem.
	find "$arts" -type f | sed 's,.*/,,' | LC_ALL=C sort |
	    LC_ALL=C comm -13 "$work/before" - > "$work/new"
	nnew=$(wc -l < "$work/new")
	ncrash=0
	: > "$work/sigs"
	for a in $(head -n "$triage" "$work/new"); do
		"$bin" -timeout=25 -close_fd_mask=2 "$arts/$a" \
		    > "$work/triage.log" 2>&1
		sig=$(signature "$work/triage.log")
		grep -qxF "$sig" "$work/sigs" && continue
		echo "$sig" >> "$work/sigs"
		cp "$arts/$a" "$crashes/"
		ncrash=$((ncrash + 1))
		echo "  found: $crashes/$a"
		echo "         $sig"
		status=1
	done
	[ "$nnew" -gt "$triage" ] && echo "  $((nnew - triage)) more" \
	    "input(s) not triaged, in $arts/"
	ncorp=$(find "$corpus" -type f | wc -l)
	nseed=$(find "$seeds" -type f | wc -l)
	fmt='%-14s execs=%s exec/s=%s cov=%s ft=%s corpus=%s seeds=%s'
	fmt="$fmt oom/timeout/crash=%s distinct=%s"
	# shellcheck disable=SC2059
	line=$(printf "$fmt" "$t" "${execs:-0}" $((${execs:-0} / elapsed)) \
	    "${cov:-?}" "${ft:-?}" "$ncorp" "$nseed" "${bad:-?}" "$ncrash")
	echo "fuzz $line"
	echo "$line" >> "$summary"
done
echo "fuzz: summary ($secs s per target)"
sed 's/^/  /' "$summary"
exit $status
