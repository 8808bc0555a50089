#!/usr/bin/env bash
# Smoke test: tools/wsload --tls against build/wspush --tls-cert (throwaway certificates from
# tests/tls/make_test_certs.sh). Every message must arrive exactly once and in order; resumed
# handshakes must resume. Prints one PASS/FAIL line; < 30 s.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${WSPUSH_BUILD:-build}
WSPUSH=$BUILD/wspush
WSLOAD=$BUILD/wsload
[ -x "$WSLOAD" ] || WSLOAD=build/wsload   # the ASan build makes wspush only
for bin in "$WSPUSH" "$WSLOAD"; do
    [ -x "$bin" ] || { echo "FAIL test_wsload_tls: $bin not built"; exit 1; }
done

dir=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tests/tls/make_test_certs.sh "$dir/certs" || { echo "FAIL test_wsload_tls: no certificates"; exit 1; }
"$WSPUSH" --host 127.0.0.1 --port 0 --api-listen off --log-level info --stats-interval 0.2 \
    --tls-cert "$dir/certs/rsa.pem" --tls-key "$dir/certs/rsa.key" 2>"$dir/log" &
server_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (websocket, tls).*/\1/p' "$dir/log" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "FAIL test_wsload_tls: wspush did not start"; cat "$dir/log"; exit 1; }

failed=()
run() {
    local name=$1; shift
    local out
    if ! out=$("$WSLOAD" "$@" --tls --tls-ca "$dir/certs/ca.pem" --port "$port" --server-pid "$server_pid" \
               --timeout 20 --drain 3 --settle 0 -q 2>&1 >/dev/null); then
        failed+=("$name")
        echo "$out" | sed "s/^/  [$name] /"
    fi
}
run connect   connect -n 100
run resumed   connect -n 100 --tls-resume --connect-concurrency 4  # opened after the first login: resumed
run broadcast broadcast -n 100 --inflight 16 --messages 200
run p2p_max   p2p -n 100 --senders 10 --window 16 --duration 2
# A client that trusts nothing it was not told to: the test CA's certificate is not in the
# system roots, so the handshake must fail (and be counted as a failed connection).
if "$WSLOAD" connect -n 5 --tls --port "$port" --timeout 10 -q >/dev/null 2>&1; then
    failed+=("untrusted_accepted")
fi
sleep 0.5
resumed=$(grep -o 'tls_resumed=[0-9]*' "$dir/log" | tail -1 | cut -d= -f2)
[ "${resumed:-0}" -ge 90 ] || failed+=("resumed=${resumed:-0}")

if [ ${#failed[@]} -eq 0 ]; then
    echo "PASS test_wsload_tls: connect (full and resumed), broadcast, p2p over TLS: nothing lost, duplicated or reordered"
    exit 0
fi
echo "FAIL test_wsload_tls: ${failed[*]}"
exit 1
