# scepctl hsm verify|backup|restore: the verified copy of the SoftHSM
# token files.  verify proves the backup holds the keys of ca.pem and
# ra.pem and tells a damaged token; a backup that lost a file is
# refused; restore brings a damaged token back (with scepd running,
# which then enrolls again); backup replaces the copy only by one whose
# keys prove.
. "$(dirname "$0")/common.sh"
init_ca
hsm() { "$SCEPCTL" hsm "$@" --config "$CA/scepd.conf" >"$WORK/hsm.out" 2>&1; }

hsm verify || { cat "$WORK/hsm.out" >&2; fail "verify of a fresh CA"; }
grep -q 'holds the CA and RA keys' "$WORK/hsm.out" || fail "verify did not prove the keys"
grep -q 'not damaged' "$WORK/hsm.out" || fail "verify did not judge the token files"

# A backup that lost its key objects is not a backup.
mkdir "$WORK/saved"
for o in $(ls "$CA"/tokens.backup/*/*.object | grep -v token.object); do
	mv "$o" "$WORK/saved/"
done
hsm verify && fail "verify passed a backup without keys"
mv "$WORK"/saved/* "$(dirname "$(ls "$CA"/tokens.backup/*/token.object)")/"

# Damage under a running scepd; restore; enrollment goes on.
start_scepd
sceptest before || fail "enrollment before the damage"
: >"$(ls "$CA"/tokens/*/token.object | head -n 1)"
hsm verify && fail "verify did not report the damaged token"
grep -q DAMAGED "$WORK/hsm.out" || fail "verify does not say DAMAGED"
hsm backup && fail "backup copied a damaged token"
hsm restore || { cat "$WORK/hsm.out" >&2; fail "restore"; }
grep -q 'they hold the CA and RA keys' "$WORK/hsm.out" || fail "restore did not prove the keys"
sceptest after || { cat "$WORK/after.out" >&2; fail "no enrollment after the restore"; }
verify_cert "$WORK/after.pem"

# A fresh backup of the good token, verified again.
hsm backup || { cat "$WORK/hsm.out" >&2; fail "backup of a good token"; }
ls -d "$CA"/tokens.backup.old-* >/dev/null 2>&1 || fail "the previous backup was not kept"
hsm verify || { cat "$WORK/hsm.out" >&2; fail "verify of the new backup"; }
"$SCEPCTL" hsm verify >/dev/null 2>&1 && fail "hsm verify without --config"
rc=0
"$SCEPCTL" hsm bogus --config "$CA/scepd.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "an unknown hsm command is not a usage error"
