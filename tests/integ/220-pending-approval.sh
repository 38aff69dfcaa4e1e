# Held requests: PENDING until an operator decides with scepctl (while
# scepd runs); then SUCCESS on the next poll, or FAILURE if rejected;
# a held request expires; unknown transactions are badCertId.
. "$(dirname "$0")/common.sh"
init_ca
write_policy <<'P'
pending_expiry = "7d";
challenges = { shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { validity_days = 30; }; };
rules = (
  { name = "hold"; challenge = "shared"; action = "pending"; }
);
P
start_scepd
cfg="$CA/scepd.conf"

st=0; sceptest a --txid tx-a || st=$?
[ $st -eq 3 ] || { cat "$WORK/a.out" >&2; fail "not PENDING ($st)"; }
st=0; sceptest a --txid tx-a --msgtype CertPoll || st=$?
[ $st -eq 3 ] || fail "CertPoll before a decision is not PENDING"
# A new PKCSReq with the transactionID is treated as a poll.
st=0; sceptest a --txid tx-a || st=$?
[ $st -eq 3 ] || fail "a repeated PKCSReq is not PENDING"
[ "$(cert_count)" -eq 0 ] || fail "issued before approval"

"$SCEPCTL" pending list --config "$cfg" >"$WORK/list"
id=$(awk -F'\t' '$7 == "CN=a" { print $1 }' "$WORK/list")
[ -n "$id" ] || { cat "$WORK/list" >&2; fail "pending list does not show CN=a"; }
"$SCEPCTL" pending show --config "$cfg" "$id" >"$WORK/show"
grep -q 'transactionID: tx-a' "$WORK/show" || fail "pending show"
grep -q 'Subject: CN=a' "$WORK/show" || fail "pending show: no CSR"
"$SCEPCTL" pending approve --config "$cfg" "$id" >/dev/null || fail "approve"
"$SCEPCTL" pending approve --config "$cfg" "$id" 2>/dev/null &&
    fail "approved twice"

sceptest a --txid tx-a --msgtype CertPoll || { cat "$WORK/a.out" >&2; fail "no certificate after approval"; }
verify_cert "$WORK/a.pem"
s1=$(serial_of "$WORK/a.pem")
sceptest a --txid tx-a --msgtype CertPoll || fail "second poll"
[ "$(serial_of "$WORK/a.pem")" = "$s1" ] || fail "a second poll issued again"
[ "$(cert_count)" -eq 1 ] || fail "not exactly one certificate"

# Rejected by the operator.
st=0; sceptest b --txid tx-b || st=$?; [ $st -eq 3 ] || fail "b not PENDING"
id=$("$SCEPCTL" pending list --config "$cfg" | awk -F'\t' '$7 == "CN=b" { print $1 }')
"$SCEPCTL" pending reject --config "$cfg" "$id" 2>/dev/null &&
    fail "reject without --reason"
"$SCEPCTL" pending reject --config "$cfg" "$id" --reason "not one of ours" \
    >/dev/null || fail "reject"
sceptest b --txid tx-b --msgtype CertPoll && fail "rejected request issued"
expect b failInfo=badRequest
expect b "failInfoText=refused by an operator: not one of ours"

# Polls nobody may answer.
sceptest nobody --txid tx-unknown --msgtype CertPoll && fail "unknown poll"
expect nobody failInfo=badCertId
sceptest stranger --txid tx-a --msgtype CertPoll && fail "a stranger polled tx-a"
expect stranger failInfo=badCertId

# The audit log has every decision, with the operator.
grep -q '"decision":"held".*"rule":"hold"\|"rule":"hold".*"decision":"held"' "$CA/audit.log" ||
    fail "no audit line for the hold"
grep '"decision":"approved"' "$CA/audit.log" | grep -q '"operator":' ||
    fail "no audit line for the approval"
grep -q '"decision":"denied"' "$CA/audit.log" || fail "no audit line for the denial"
grep '"decision":"issued"' "$CA/audit.log" | grep -q "\"serial\":\"$(echo "$s1" | tr 'A-F' 'a-f')\"" ||
    fail "no audit line for the issuance"
grep -q "$CHALLENGE" "$CA/audit.log" "$SCEPD_LOG" && fail "the challenge reached a log"

# Held requests expire.
write_policy <<'P'
pending_expiry = "1s";
challenges = { shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { }; };
rules = ( { name = "hold"; challenge = "shared"; action = "pending"; } );
P
reload_policy reloaded
st=0; sceptest c --txid tx-c || st=$?; [ $st -eq 3 ] || fail "c not PENDING"
sleep 2
id=$("$SCEPCTL" pending list --config "$cfg" --all | awk -F'\t' '$7 == "CN=c" { print $1 }')
"$SCEPCTL" pending approve --config "$cfg" "$id" 2>/dev/null &&
    fail "an expired request was approved"
sceptest c --txid tx-c --msgtype CertPoll && fail "an expired request issued"
grep -q 'expired' "$WORK/c.out" || fail "no 'expired' reason"
