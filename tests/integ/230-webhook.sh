# Webhook challenges against a small local service (and a command):
# allow, deny, timeout and errors, fail-closed by default, fail-open
# when configured.
. "$(dirname "$0")/common.sh"
RESPONDER="$TOP/build/tests/webhook-responder"
[ -x "$RESPONDER" ] || fail "build first: make build/tests/webhook-responder"
init_ca
"$RESPONDER" "$WORK/hook.port" "$WORK/hook.log" &
hook=$!
i=0
until [ -s "$WORK/hook.port" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "the responder did not start"
	sleep 0.1
done
hook_url="http://127.0.0.1:$(cat "$WORK/hook.port")/check"
cat >"$WORK/check.sh" <<'S'
#!/bin/sh
# Allows subjects with "cmd-ok", denies the rest.
doc=$(cat)
case "$doc" in
*'"subject":"CN=cmd-ok'*) echo "script says yes"; exit 0 ;;
*) echo "script says no"; exit 1 ;;
esac
S
chmod 700 "$WORK/check.sh"
write_policy <<P
challenges = {
  hook = { kind = "webhook"; url = "$hook_url"; timeout = 2; };
  open = { kind = "webhook"; url = "$hook_url"; timeout = 2; on_error = "allow"; };
  script = { kind = "webhook"; command = [ "$WORK/check.sh" ]; timeout = 2; };
};
profiles = { default = { }; };
rules = (
  { name = "open"; subject = "^CN=open-"; challenge = "open"; action = "issue"; },
  { name = "script"; subject = "^CN=cmd-"; challenge = "script"; action = "issue"; },
  { name = "hook"; challenge = "hook"; action = "issue"; }
);
P
start_scepd

sceptest allow-1 || { cat "$WORK/allow-1.out" >&2; fail "webhook allow"; }
verify_cert "$WORK/allow-1.pem"
grep -q '"transactionID":"' "$WORK/hook.log" || fail "no document at the webhook"
grep '"subject":"CN=allow-1"' "$WORK/hook.log" | grep -q "\"challenge\":\"$CHALLENGE\"" ||
    fail "the webhook did not get the challenge"
grep '"subject":"CN=allow-1"' "$WORK/hook.log" | grep -q '"client_address":"127.0.0.1"' ||
    fail "the webhook did not get the client address"

sceptest deny-1 && fail "webhook deny was ignored"
expect deny-1 failInfo=badRequest
expect deny-1 "failInfoText=not in the inventory"

sceptest slow-1 && fail "a webhook timeout allowed (fail-closed expected)"
expect slow-1 failInfo=badRequest
sceptest broken-1 && fail "HTTP 500 from the webhook allowed"
sceptest garbage-1 && fail "a non-JSON answer allowed"
sceptest open-slow || fail "on_error = allow did not allow after a timeout"

sceptest cmd-ok || fail "command webhook allow"
sceptest cmd-no && fail "command webhook deny was ignored"
expect cmd-no "failInfoText=script says no"

kill "$hook"; wait "$hook" 2>/dev/null || true
sceptest allow-2 && fail "allowed with the webhook down (fail-closed expected)"
grep -q 'refusing (on_error = deny)' "$SCEPD_LOG" || fail "no log of the webhook error"
scepd_alive || fail "scepd died"
grep -q "$CHALLENGE" "$SCEPD_LOG" "$CA/audit.log" && fail "the challenge reached a log"
[ "$(cert_count)" -eq 3 ] || fail "expected 3 certificates"
