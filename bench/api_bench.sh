#!/bin/bash
# Pushes per second through the HTTP push API, every push delivered and counted.
#
# Method: one build/wspush (loopback, API key on); RECEIVERS raw-socket WebSocket clients
# (bench/api_receivers.py) log in as r0..r<N-1> and count the bytes they receive; wrk (Debian's,
# bench/api_push.lua) sends keep-alive POSTs over CONNS connections for DURATION seconds:
#   healthz   GET /healthz: the HTTP path alone, the baseline of this run
#   single    POST /v1/push, one 32-byte message to one uid per request
#   batch     POST /v1/push/batch, BATCH such messages per request (JSON array)
# A scenario passes when every request got 200, the server's delivery counter (/v1/stats)
# grew by exactly the number of pushes it accepted, nothing was dropped, and the receivers got
# exactly that many frames. Server, wrk and receivers share this host's cores: the figures
# are a floor for a host where the backends push from elsewhere.
# Output: a table on stdout, build/bench/api.json. Exit 1 if any scenario lost a message.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${WSPUSH_BUILD:-build}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
BATCH=${BATCH:-100}
RECEIVERS=${RECEIVERS:-32}
KEY=benchkey
OUT=$BUILD/bench
mkdir -p "$OUT"
LOG=$OUT/api_server.log

server_pid=""
cleanup() {
    [ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=""
}
trap cleanup EXIT

setpriv --pdeathsig KILL "$BUILD/wspush" --host 127.0.0.1 --port 0 --api-listen 127.0.0.1:0 --api-key "$KEY" \
    --max-backlog $((256 << 20)) >"$LOG" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q '(api' "$LOG" && break; sleep 0.05; done
WS_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) (websocket).*/\1/p' "$LOG")
API_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) (api.*/\1/p' "$LOG")
[ -n "$WS_PORT" ] && [ -n "$API_PORT" ] || { echo "api_bench: server did not start"; cat "$LOG"; exit 1; }

coproc RECV { exec /usr/bin/python3 bench/api_receivers.py "$WS_PORT" "$RECEIVERS"; }
read -r -t 10 ready <&"${RECV[0]}"
[ "${ready:-}" = READY ] || { echo "api_bench: receivers did not log in"; exit 1; }

stat_field() {  # stat_field NAME JSON
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"
}
stats() { curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$API_PORT/v1/stats"; }
received() {
    echo COUNT >&"${RECV[1]}"
    local line
    read -r -t 5 line <&"${RECV[0]}"
    sed -n 's/^FRAMES \([0-9]*\).*/\1/p' <<<"$line"
}

failed=0
json_rows=()
printf '%-8s %6s %6s %12s %14s %9s %9s %s\n' scenario conns batch requests/s messages/s p50_us p99_us delivered
run() {  # run NAME PATH BATCH
    local name=$1 path=$2 batch=$3 before after frames0 frames1 out line
    before=$(stats)
    frames0=$(received)
    if [ "$name" = healthz ]; then
        out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -s /dev/stdin "http://127.0.0.1:$API_PORT$path" 2>&1 <<'LUA'
function done(s, l, r) io.write(string.format("WRK requests=%d non2xx=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\n", s.requests, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout, s.duration, l:percentile(50), l:percentile(99))) end
LUA
)
    else
        out=$(UIDS=$RECEIVERS BATCH=$batch API_KEY=$KEY wrk -t1 -c"$CONNS" -d"${DURATION}s" -s bench/api_push.lua \
              "http://127.0.0.1:$API_PORT$path" 2>&1)
    fi
    line=$(grep '^WRK ' <<<"$out")
    local req non2xx sockerr dur p50 p99
    eval "$(sed 's/WRK //; s/\([a-z0-9_]*\)=/local_\1=/g' <<<"$line")"
    req=$local_requests non2xx=$local_non2xx sockerr=$local_socket_errors dur=$local_duration_us
    p50=$local_p50_us p99=$local_p99_us
    # Let queued frames reach the receivers, then compare three counts.
    after=$(stats)
    local pushed=$(( $(stat_field api_messages "$after") - $(stat_field api_messages "$before") ))
    local delivered=$(( $(stat_field deliveries "$after") - $(stat_field deliveries "$before") ))
    local dropped=$(( $(stat_field dropped_offline "$after") - $(stat_field dropped_offline "$before") ))
    local got=0
    for _ in $(seq 100); do
        frames1=$(received)
        got=$(( frames1 - frames0 ))
        [ "$got" -ge "$delivered" ] && break
        sleep 0.1
    done
    local rps msgs ok=yes
    rps=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
    msgs=$(awk -v r="$req" -v d="$dur" -v b="$batch" 'BEGIN { printf "%.0f", r * b / (d / 1e6) }')
    if [ "$name" != healthz ]; then
        # wrk stops counting at the deadline; requests in flight then are still served (<= CONNS).
        if [ "$non2xx" != 0 ] || [ "$sockerr" != 0 ] || [ "$dropped" != 0 ] || [ "$delivered" != "$pushed" ] ||
           [ "$got" != "$delivered" ] || [ "$pushed" -lt $((req * batch)) ] ||
           [ "$pushed" -gt $(((req + CONNS) * batch)) ]; then
            ok=NO
            failed=1
        fi
    fi
    printf '%-8s %6s %6s %12s %14s %9s %9s %s\n' "$name" "$CONNS" "$batch" "$rps" "$msgs" "$p50" "$p99" \
        "$([ "$name" = healthz ] && echo - || echo "$ok: accepted $pushed, counted $delivered, received $got, dropped $dropped, non-2xx $non2xx")"
    json_rows+=("{\"scenario\":\"$name\",\"connections\":$CONNS,\"batch\":$batch,\"requests\":$req,\"duration_s\":$(awk -v d="$dur" 'BEGIN{print d/1e6}'),\"requests_per_s\":$rps,\"messages_per_s\":$msgs,\"p50_us\":$p50,\"p99_us\":$p99,\"accepted\":$pushed,\"delivered\":$delivered,\"received\":$got,\"dropped\":$dropped,\"non_2xx\":$non2xx,\"all_delivered\":$([ "$ok" = yes ] && echo true || echo false)}")
}

run healthz /healthz 1
run single /v1/push 1
run batch /v1/push/batch "$BATCH"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
    printf '{"host":{"cpu":"%s","cores":%s,"client":"wrk -t1 and %s receivers on the same host"},"message_bytes":32,"scenarios":[' \
        "$cpu" "$(nproc)" "$RECEIVERS"
    (IFS=,; printf '%s' "${json_rows[*]}")
    printf ']}\n'
} >"$OUT/api.json"
echo "results: $OUT/api.json (cpu: $cpu, $(nproc) cores, server + wrk + receivers on one host)"
[ "$failed" = 0 ] || { echo "api_bench: FAILED: a push was not delivered (see above)"; exit 1; }
echo "api_bench: every push delivered"
