#!/usr/bin/env bash
# Smoke test: tools/wsload against build/wspush for a few seconds. Every message must arrive
# exactly once and in order (wsload exits 1 otherwise). Prints one PASS/FAIL line; < 30 s.
#   connect 200, broadcast to 200 (16 in flight), p2p 200 connections at 2000 msg/s and unbounded
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${WSPUSH_BUILD:-build}
WSPUSH=$BUILD/wspush
WSLOAD=$BUILD/wsload
[ -x "$WSLOAD" ] || WSLOAD=build/wsload   # the ASan build makes wspush only
for bin in "$WSPUSH" "$WSLOAD"; do
    [ -x "$bin" ] || { echo "FAIL test_wsload: $bin not built"; exit 1; }
done

log=$(mktemp)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$WSPUSH" --host 127.0.0.1 --port 0 --api-listen off --log-level info 2>"$log" &
server_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (websocket).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "FAIL test_wsload: wspush did not start"; cat "$log"; exit 1; }

failed=()
run() {
    local name=$1; shift
    local out
    if ! out=$("$WSLOAD" "$@" --port "$port" --server-pid "$server_pid" --timeout 20 --drain 3 \
               --settle 0 -q 2>&1 >/dev/null); then
        failed+=("$name")
        echo "$out" | sed "s/^/  [$name] /"
    fi
}
run connect   connect -n 200
run broadcast broadcast -n 200 --inflight 16 --messages 300
run p2p_rate  p2p -n 200 --senders 20 --rate 2000 --duration 2
run p2p_max   p2p -n 200 --senders 20 --window 16 --duration 2

if [ ${#failed[@]} -eq 0 ]; then
    echo "PASS test_wsload: connect, broadcast, p2p (rate, unbounded): nothing lost, duplicated or reordered"
    exit 0
fi
echo "FAIL test_wsload: ${failed[*]}"
exit 1
