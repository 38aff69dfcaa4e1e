# `scepctl init --strict` leaves single DES off: Debian's scepclient,
# which encrypts with single DES, gets FAILURE badAlg, signed by the RA.
. "$(dirname "$0")/common.sh"
init_ca --strict
grep -q 'legacy_des = false;' "$CA/scepd.conf" || fail "--strict did not turn legacy_des off"
start_scepd
grep -q 'single DES requests are accepted' "$SCEPD_LOG" &&
    fail "legacy provider loaded although legacy_des is off"

scepclient_enroll des "$CHALLENGE" && fail "a single-DES request was accepted"
grep -q 'failInfo: badAlg' "$WORK/des/out" ||
    { cat "$WORK/des/out" >&2; fail "no badAlg failInfo"; }
grep -q 'reason="content encryption des-cbc is not accepted here"' \
    "$SCEPD_LOG" || fail "no audit line naming the cipher"
[ "$(cert_count)" -eq 0 ] || fail "something was issued"
