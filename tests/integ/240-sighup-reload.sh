# SIGHUP reloads the policy; a broken policy is refused with a log line
# and the old one stays in force; scepd will not start with a broken one.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd
sceptest before || fail "enrollment under the first policy"
grep -q 'rule=enroll-with-challenge outcome=issued' "$SCEPD_LOG" ||
    fail "not decided by the first policy"

cp "$CA/policy.conf" "$WORK/good.conf"
printf 'rules = ( { name = "x"; challenge = "nope"; action = "issue"; } );\n' \
    >"$CA/policy.conf"
reload_policy refused
grep -q 'policy refused: .*policy.conf:1: .*no challenge named "nope"' "$SCEPD_LOG" ||
    fail "the refusal does not name the file, line and reason"
grep -q 'keeping the policy in force' "$SCEPD_LOG" || fail "no 'keeping' line"
sceptest during || fail "the old policy is not in force after a refused reload"

write_policy <<'P'
profiles = { default = { }; };
rules = ( { name = "closed"; challenge = "none"; action = "reject";
            reason = "enrollment is closed"; } );
P
reload_policy reloaded
sceptest after && fail "the new policy is not in force"
expect after "failInfoText=enrollment is closed"
stop_scepd

printf 'rules = (\n  { name = "x" }\n);\n' >"$CA/policy.conf"
st=0
"$SCEPD" --config "$CA/scepd.conf" --listen 127.0.0.1:0 >"$WORK/err" 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "scepd started with an invalid policy ($st)"
grep -q 'policy.conf:2: missing setting rule x.challenge' "$WORK/err" ||
    { cat "$WORK/err" >&2; fail "no file:line for the invalid policy"; }
