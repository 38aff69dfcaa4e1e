# The policy judges the whole subject the certificate will carry, however
# long it is: a subject long enough to push a component past any fixed
# buffer is refused like the short one, not issued with it.
. "$(dirname "$0")/common.sh"
init_ca
write_policy <<'P'
challenges = { shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { }; };
rules = (
  { name = "hosts"; subject = "^CN=[a-z0-9-]+(,DC=[a-z]+)*$";
    challenge = "shared"; action = "issue"; }
);
P
start_scepd

dc=$(printf 'a%.0s' $(seq 60))
long=/OU=Admins
for i in 1 2 3 4 5 6 7 8 9 10; do long="$long/DC=$dc"; done

sceptest short --subject "/DC=corp/CN=short" || fail "a plain subject"
expect short status=SUCCESS

sceptest admins --subject "/OU=Admins/DC=corp/CN=admins" &&
    fail "OU=Admins was issued"
expect admins failInfo=badRequest

sceptest longadmins --subject "$long/CN=longadmins" && {
	openssl x509 -in "$WORK/longadmins.pem" -noout -subject >&2
	fail "a long subject with OU=Admins got past the policy"
}
expect longadmins failInfo=badRequest
[ "$(cert_count)" -eq 1 ] || fail "expected exactly one certificate"

# The log and the audit line carry the whole subject.
grep -q "subject=\"CN=longadmins,.*,OU=Admins\"" "$SCEPD_LOG" ||
    fail "the log line does not show the whole subject"
note "a ${#long}-character subject is judged whole"
