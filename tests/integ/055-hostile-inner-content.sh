# Validly signed pkiMessages around hostile inner content (the outer
# signature holds, so only the codec's own checks stand between them and
# the server): each gets a signed CertRep FAILURE, and scepd keeps serving.
. "$(dirname "$0")/common.sh"
init_ca
start_scepd

# ContentInfo { envelopedData } with its content left out.
printf '\060\013\006\011\052\206\110\206\367\015\001\007\003' \
    >"$WORK/bare-enveloped.der"
# ContentInfo { signedData } with its content left out.
printf '\060\013\006\011\052\206\110\206\367\015\001\007\002' \
    >"$WORK/bare-signed.der"
# A NULL, and an empty SEQUENCE.
printf '\005\000' >"$WORK/null.der"
printf '\060\000' >"$WORK/seq.der"

for f in bare-enveloped bare-signed null seq; do
	sceptest "$f" --signed-content "$WORK/$f.der" && st=0 || st=$?
	[ "$st" -eq 2 ] || { cat "$WORK/$f.out" >&2;
	    fail "$f: expected a CertRep FAILURE, client status $st"; }
	expect "$f" "failInfo=badRequest"
	scepd_alive || fail "scepd died on $f"
done

sceptest after || fail "no enrollment after hostile input"
expect after "status=SUCCESS"
verify_cert "$WORK/after.pem"
note "4 hostile inner contents answered FAILURE badRequest; enrollment after"
