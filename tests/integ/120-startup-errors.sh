# Command-line and start-up errors: clear messages and exit codes,
# never a half-started server.
. "$(dirname "$0")/common.sh"
init_ca

"$SCEPD" --help | grep -q -- '--config FILE' || fail "scepd --help"
"$SCEPD" --version | grep -q '^scepd ' || fail "scepd --version"
st=0; "$SCEPD" 2>/dev/null || st=$?
[ "$st" -eq 2 ] || fail "scepd without --config exits $st, not 2"
st=0; "$SCEPD" --bogus 2>/dev/null || st=$?
[ "$st" -eq 2 ] || fail "unknown option exits $st, not 2"
"$SCEPD" --config "$CA/scepd.conf" --check 2>"$WORK/check.err" ||
    { cat "$WORK/check.err" >&2; fail "--check on a good installation"; }

expect_refusal() {	# expect_refusal CONF PATTERN
	st=0
	"$SCEPD" --config "$1" --listen 127.0.0.1:0 >"$WORK/err" 2>&1 || st=$?
	[ "$st" -eq 1 ] || fail "$1: exit status $st, not 1"
	grep -q "$2" "$WORK/err" || { cat "$WORK/err" >&2; fail "$1: no '$2'"; }
}

sed 's/  module = /  modul = /' "$CA/scepd.conf" >"$CA/typo.conf"
line=$(grep -n 'modul = ' "$CA/typo.conf" | cut -d: -f1)
expect_refusal "$CA/typo.conf" "typo.conf:$line: unknown setting hsm.modul"

printf 'server = { listen = "127.0.0.1:1" \n' >"$CA/syntax.conf"
expect_refusal "$CA/syntax.conf" 'syntax.conf:[0-9]*: syntax error'

sed 's/ca_key = "pkcs11:[^"]*"/ca_key = "pkcs11:object=nope"/' \
    "$CA/scepd.conf" >"$CA/nokey.conf"
expect_refusal "$CA/nokey.conf" 'CA private key (object=nope) not found'
# A key named by CKA_ID alone is named by its id.
sed 's/ca_key = "pkcs11:[^"]*"/ca_key = "pkcs11:id=%de%ad"/' \
    "$CA/scepd.conf" >"$CA/noid.conf"
expect_refusal "$CA/noid.conf" 'CA private key (id=%de%ad) not found'

sed 's/ca_key = "pkcs11:[^"]*"/ca_key = "not-a-uri"/' \
    "$CA/scepd.conf" >"$CA/baduri.conf"
expect_refusal "$CA/baduri.conf" 'hsm.ca_key: not a PKCS#11 URI'

echo not-the-pin-4711 >"$CA/wrong-pin"
chmod 600 "$CA/wrong-pin"
sed "s|pin_file = \"pin\"|pin_file = \"wrong-pin\"|" "$CA/scepd.conf" \
    >"$CA/wrongpin.conf"
expect_refusal "$CA/wrongpin.conf" 'refused the PIN'
grep -q not-the-pin-4711 "$WORK/err" && fail "the PIN reached the log"

sed 's|module = "[^"]*"|module = "/nonexistent/module.so"|' \
    "$CA/scepd.conf" >"$CA/nomodule.conf"
expect_refusal "$CA/nomodule.conf" 'cannot load PKCS#11 module'

# The PIN from the environment works as well as from a file.
sed "s|pin_file = \"pin\"|pin_env = \"TEST_SCEPD_PIN\"|" "$CA/scepd.conf" \
    >"$CA/envpin.conf"
TEST_SCEPD_PIN=$(cat "$CA/pin") "$SCEPD" --config "$CA/envpin.conf" --check \
    2>"$WORK/err" || { cat "$WORK/err" >&2; fail "pin_env"; }

# scepctl init never overwrites.
st=0; "$SCEPCTL" init --dir "$CA" >"$WORK/err" 2>&1 || st=$?
[ "$st" -ne 0 ] && grep -q 'not empty' "$WORK/err" ||
    fail "scepctl init overwrote an existing directory"
"$SCEPCTL" --help | grep -q 'init --dir' || fail "scepctl --help"
st=0; "$SCEPCTL" frobnicate 2>/dev/null || st=$?
[ "$st" -eq 2 ] || fail "unknown scepctl command exits $st, not 2"

# make install honours PREFIX and DESTDIR.
make -s -C "$TOP" install PREFIX=/opt/scepd DESTDIR="$WORK/dest" >/dev/null ||
    fail "make install"
[ -x "$WORK/dest/opt/scepd/bin/scepd" ] && [ -x "$WORK/dest/opt/scepd/bin/scepctl" ] ||
    fail "make install did not install both programs"
