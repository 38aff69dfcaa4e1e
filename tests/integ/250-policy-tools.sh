# scepctl policy check and explain, hmac challenges derived with
# scepctl challenge derive, and the example policies shipped in policy/.
. "$(dirname "$0")/common.sh"
init_ca

for f in "$TOP"/policy/*.conf; do
	"$SCEPCTL" policy check "$f" >/dev/null ||
	    fail "example $(basename "$f") does not pass policy check"
done
printf 'challenges = { };\nrules = (\n { name = "x"; challenge = "none"; action = "issue"; profile = "p"; }\n);\n' \
    >"$WORK/bad.conf"
st=0; "$SCEPCTL" policy check "$WORK/bad.conf" >"$WORK/out" 2>&1 || st=$?
[ "$st" -eq 1 ] || fail "policy check of a bad file exits $st"
grep -q 'bad.conf:3: rule x: no profile named "p"' "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "policy check: no line number"; }

openssl rand -hex 24 >"$CA/hmac.key"
chmod 600 "$CA/hmac.key"
write_policy <<'P'
challenges = {
  shared = { kind = "static"; hash = "@HASH@"; };
  derived = { kind = "hmac"; secret_file = "hmac.key"; };
};
profiles = { default = { validity_days = 30; }; };
rules = (
  { name = "routers"; subject = "^CN=rtr-"; key_types = [ "rsa" ];
    min_rsa_bits = 3072; challenge = "derived"; action = "issue"; },
  { name = "others"; challenge = "shared"; action = "pending"; }
);
P

# explain: which rule, why the others did not match, and the challenge.
openssl req -new -newkey rsa:3072 -nodes -keyout "$WORK/r.key" \
    -subj "/CN=rtr-1" -out "$WORK/r.csr" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/w.key" \
    -subj "/CN=rtr-2" -out "$WORK/w.csr" 2>/dev/null
rm -f "$WORK/r.key" "$WORK/w.key"
derived=$("$SCEPCTL" challenge derive --config "$CA/scepd.conf" --subject "/CN=rtr-1")
[ ${#derived} -eq 32 ] || fail "challenge derive printed '$derived'"
SCEPCTL_CHALLENGE=$derived "$SCEPCTL" policy explain --config "$CA/scepd.conf" \
    --csr "$WORK/r.csr" >"$WORK/explain" || fail "policy explain"
grep -q 'rule routers (line [0-9]*): matches' "$WORK/explain" || fail "explain: no match line"
grep -q 'decision: issue' "$WORK/explain" || fail "explain: no decision"
grep -q '  would pass' "$WORK/explain" || { cat "$WORK/explain" >&2; fail "explain: challenge"; }
"$SCEPCTL" policy explain --config "$CA/scepd.conf" --csr "$WORK/w.csr" \
    --challenge wrong >"$WORK/explain2" || fail "policy explain 2"
grep -q 'rule routers (line [0-9]*): no: RSA key of 2048 bits, 3072 needed' "$WORK/explain2" ||
    { cat "$WORK/explain2" >&2; fail "explain: no reason for the miss"; }
grep -q 'decision: pending' "$WORK/explain2" || fail "explain: second decision"
grep -q 'would be refused: wrong challenge password' "$WORK/explain2" ||
    fail "explain: wrong challenge not refused"
[ "$(cert_count)" -eq 0 ] || fail "explain issued something"

start_scepd
SCEPTEST_CHALLENGE=$derived sceptest rtr-1 --key-type rsa:3072 ||
    { cat "$WORK/rtr-1.out" >&2; fail "enrollment with a derived challenge"; }
verify_cert "$WORK/rtr-1.pem"
SCEPTEST_CHALLENGE=$derived sceptest rtr-9 --key-type rsa:3072 &&
    fail "a derived challenge worked for another subject"
expect rtr-9 "failInfoText=wrong challenge password for this subject"
