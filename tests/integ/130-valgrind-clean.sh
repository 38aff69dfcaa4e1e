# scepd under valgrind: enrollments, a refusal, garbage, an HSM outage
# and its recovery, and a clean stop, without memory errors or leaks.
. "$(dirname "$0")/common.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed"
[ -z "${SCEPD_SANITIZED:-}" ] || skip "valgrind does not run a sanitizer build"
init_ca
VG_LOG="$WORK/valgrind.log"
# Into the worker and the key process too (one log file per process).
# The key process ends with its channel threads running: only definite
# leaks are shown.
SCEPD_WRAP="valgrind --quiet --trace-children=yes --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --error-exitcode=99 \
    --suppressions=$TOP/tests/valgrind.supp --log-file=$VG_LOG.%p"
start_scepd

scepclient_enroll v1 "$CHALLENGE" || fail "enrollment 1 under valgrind"
scepclient_enroll v2 "$CHALLENGE" || fail "enrollment 2 under valgrind"
scepclient_enroll vbad "wrong" && fail "wrong challenge accepted"
curl -s -o /dev/null --data-binary garbage "$URL?operation=PKIOperation"
mv "$CA/tokens" "$CA/tokens.away"
scepclient_enroll vdown "$CHALLENGE" && fail "enrolled without the token"
mv "$CA/tokens.away" "$CA/tokens"
scepclient_enroll v3 "$CHALLENGE" || fail "enrollment after the outage"
verify_cert "$WORK/v3/c.pem"

# The policy paths: an OTP, a held request approved and polled, a
# webhook command.
cat >"$WORK/hook.sh" <<'S'
#!/bin/sh
cat >/dev/null; echo fine; exit 0
S
chmod 700 "$WORK/hook.sh"
write_policy <<P
challenges = { tokens = { kind = "otp"; };
  hook = { kind = "webhook"; command = [ "$WORK/hook.sh" ]; timeout = 5; };
  shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { }; };
rules = (
  { name = "otp"; subject = "^CN=otp"; challenge = "tokens"; action = "issue"; },
  { name = "hook"; subject = "^CN=hook"; challenge = "hook"; action = "issue"; },
  { name = "hold"; challenge = "shared"; action = "pending"; }
);
P
reload_policy reloaded
set -- $(otp_issue --ttl 1h); otp=$2
SCEPTEST_CHALLENGE=$otp sceptest otp1 || fail "OTP under valgrind"
SCEPTEST_CHALLENGE=$otp sceptest otp2 && fail "OTP twice under valgrind"
sceptest hook1 || fail "webhook under valgrind"
st=0; sceptest held --txid vg-held || st=$?
[ $st -eq 3 ] || fail "hold under valgrind"
id=$("$SCEPCTL" pending list --config "$CA/scepd.conf" | awk -F'\t' '$7 == "CN=held" { print $1 }')
"$SCEPCTL" pending approve --config "$CA/scepd.conf" "$id" >/dev/null
sceptest held --txid vg-held --msgtype CertPoll || fail "poll under valgrind"

kill -TERM "$SCEPD_PID"
st=0; wait "$SCEPD_PID" || st=$?
SCEPD_PID=
[ "$st" -eq 0 ] || { cat "$VG_LOG".* >&2; fail "valgrind reported errors (status $st)"; }
n=$(ls "$VG_LOG".* | wc -l)
[ "$n" -ge 3 ] || fail "valgrind ran in $n process(es), not parent, worker and key process"
for f in "$VG_LOG".*; do
	[ -s "$f" ] && { cat "$f" >&2; fail "valgrind printed something"; }
done
note "valgrind ($n processes): no errors, no definite leaks"
