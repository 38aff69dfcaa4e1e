# What an unauthenticated client can cost is bounded: a bad signature is
# answered without any key work (HTTP 400, also while another process
# holds the token); an address past limits.client_failures gets HTTP 429
# with Retry-After, before any parsing or key work, while another
# address enrolls; malformed requests are recorded only up to
# limits.malformed_events per address; a client without the challenge
# learns nothing about the subject's limit.
. "$(dirname "$0")/common.sh"
command -v flock >/dev/null || skip "flock(1) is not installed"
init_ca
write_policy <<'P'
challenges = { shared = { kind = "static"; hash = "@HASH@"; }; };
profiles = { default = { }; };
rules = ( { name = "one-each"; challenge = "shared"; action = "issue";
    max_active = 1; } );
P
sed 's/lock_timeout = 30;/lock_timeout = 2;/' "$CA/scepd.conf" >"$CA/limits.conf"
cat >>"$CA/limits.conf" <<'C'
limits = { client_failures = 3; failure_window = 3600; malformed_events = 2; };
C
start_scepd "$CA/limits.conf"

# The subject reaches its limit; without the challenge, nothing says so.
sceptest first --cn limited || fail "first enrollment"
SCEPTEST_CHALLENGE=wrong sceptest nochal --cn limited --source 127.0.0.4 &&
    fail "a wrong challenge was accepted"
expect nochal 'failInfoText=wrong challenge password'

# A bad signature costs no key operation: answered with the token held.
hold_token_lock
sceptest badsig --corrupt-signature --source 127.0.0.2 &&
    fail "a bad signature was accepted"
expect badsig http=400
release_token_lock

# Two more failures from 127.0.0.2 reach client_failures = 3.
SCEPTEST_CHALLENGE=wrong1 sceptest wrong1 --source 127.0.0.2 && fail "wrong1"
expect wrong1 'failInfoText=wrong challenge password'
SCEPTEST_CHALLENGE=wrong2 sceptest wrong2 --source 127.0.0.2 && fail "wrong2"
expect wrong2 'failInfoText=wrong challenge password'

# Now even the right challenge from 127.0.0.2 waits, answered with no
# key work (the token is held again), and told when to come back.
hold_token_lock
sceptest limited --source 127.0.0.2 && fail "a limited address enrolled"
expect limited http=429
grep -q '^retry_after=[1-9]' "$WORK/limited.out" ||
    { cat "$WORK/limited.out" >&2; fail "429 without Retry-After"; }
release_token_lock
# Another address is served as usual.
sceptest other --source 127.0.0.3 || fail "another address was refused"
expect other status=SUCCESS
verify_cert "$WORK/other.pem"

# Malformed requests from one address: at most malformed_events rows.
head -c 2000 /dev/urandom >"$WORK/junk"
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null --interface 127.0.0.5 --data-binary "@$WORK/junk" \
	    "$URL?operation=PKIOperation" || fail "curl failed"
done
rows=$(sqlite3 "$CA/scepd.db" "select count(*) from events where client = '127.0.0.5'")
[ "$rows" -le 2 ] || fail "$rows events recorded for one address, limit 2"
[ "$rows" -ge 1 ] || fail "no event recorded for malformed requests"
grep -q 'client=127.0.0.5 outcome=limited status=429' "$SCEPD_LOG" ||
    fail "the flood of malformed requests was not limited"
scepd_alive || fail "scepd died"
note "bad signature 400 and 429 with no key work; other addresses served; $rows of 6 malformed recorded"
