#!/usr/bin/env bash
# make bench: microbenchmarks, then wspush and a peer server (Node's ws, bench/peer/) measured
# side by side by tools/wsload in the same run, on this machine, over loopback.
#
# Method: every end-to-end scenario runs REPEATS times (default 3) for each server, the order
# alternating (wspush first, then the peer first, ...) so that neither always gets the
# quieter moment. Each run starts its server fresh, warms it up (WARMUP: a short p2p run of
# 200 connections, which also gets Node's JIT going), then runs the scenario; the table shows
# the median of the runs for each figure. wsload runs in one process pinned to nothing (the
# machine has 2 cores: one is in practice the server's, one wsload's; wsload reports its own
# CPU). Figures: build/bench/results.json (every run), build/bench/report.png, a table on
# stdout. The microbenchmarks' full Google Benchmark output goes to build/bench/<name>.log;
# only their ratio tables are printed. Any lost, duplicated or reordered message, or a failed
# scenario, makes the script exit 1.
#
# TLS rows (tls_*): both servers serve wss:// with a throwaway certificate made for this run
# (tests/tls/make_test_certs.sh: ECDSA P-256 and RSA 2048 leaves under a test CA), wspush with
# --tls-cert/--tls-key, the peer as ws on a Node https.Server; wsload connects with --tls and
# verifies the chain against the test CA, one full handshake per connection (no resumption).
# The 10000-connection TLS connect (the idle-memory figure) runs once per server: a run takes
# the peer about a minute.
#
#   BENCH_QUICK=1     smaller end-to-end counts (the end-to-end part takes about 3 minutes)
#   BENCH_REPEATS=N   runs per scenario and server (default 3)
#   BENCH_ONLY=REGEX  only the end-to-end scenarios whose name matches (e.g. 'tls_|p2p_max');
#                     the microbenchmarks, API and login benches are skipped, and the table shows
#                     "-" for the scenarios left out
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${WSPUSH_BUILD:-build}
OUT=$BUILD/bench
QUICK=${BENCH_QUICK:-0}
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/*.dat "$OUT"/report.png

server_pid=""
wsload_pid=""
cleanup() {
    [ -n "$wsload_pid" ] && kill "$wsload_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$wsload_pid" ] && wait "$wsload_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
    wsload_pid=""
    server_pid=""
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; cleanup; exit 130' INT TERM

# --- microbenchmarks (short min time; each prints its ratio table against its baseline) ------
# Ratios between loops that a neighbour on this shared host can slow by 10-20% for a second:
# each benchmark runs 5 times, interleaved at random with the others, and the tables use the
# medians.
declare -A MICRO_ARGS=(
    [bench_codec]="--benchmark_min_time=0.05 --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true"
    [bench_registry]="--benchmark_min_time=0.1 --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true"
    [bench_auth]="--benchmark_min_time=0.1 --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true"
    [bench_tls]="--benchmark_min_time=0.1 --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true"
)
ONLY=${BENCH_ONLY:-}
for b in bench_codec bench_registry bench_auth bench_tls; do
    [ -n "$ONLY" ] && break
    if [ -x "$BUILD/$b" ]; then
        echo "== $b (full output: $OUT/$b.log)"
        # shellcheck disable=SC2086
        "$BUILD/$b" ${MICRO_ARGS[$b]} --benchmark_color=false 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$OUT/$b.log" || true
        # The binary's own ratio table follows Google Benchmark's per-run rows: print from it on.
        if grep -qi '^ratio' "$OUT/$b.log"; then
            sed -n '/^[Rr]atio/,$p' "$OUT/$b.log"
        else
            echo "   (no ratio table in the output; see $OUT/$b.log)"
        fi
        echo
        if [ "$b" = bench_registry ]; then
            # Ratios from alternating 10 ms bursts of ours and absl: steadier than whole
            # repetitions on a shared host (see the file's paired mode).
            echo "== bench_registry --paired=1 (full output: $OUT/bench_registry_paired.log)"
            "$BUILD/$b" --paired=1 >"$OUT/bench_registry_paired.log" 2>&1 || true
            cat "$OUT/bench_registry_paired.log"
            echo
        fi
    else
        echo "== $b: not built, skipped"
    fi
done

# --- end-to-end comparison ------------------------------------------------------------------
[ -x "$BUILD/wspush" ] || { echo "bench: $BUILD/wspush missing" >&2; exit 1; }
[ -x "$BUILD/wsload" ] || { echo "bench: $BUILD/wsload missing" >&2; exit 1; }
if [ ! -f bench/peer/node_modules/ws/package.json ]; then
    (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if [ "$QUICK" = 1 ]; then
    CONNECT_N=2000; BCAST1_N=2000; BCAST16_N=2000; P2P_N=500; P2P_RATE=5000; SECS=2
    TLS_CONNECT_N=2000; TLS_RSA_N=500; TLS_BCAST16_N=1000
else
    CONNECT_N=15000; BCAST1_N=15000; BCAST16_N=10000; P2P_N=1000; P2P_RATE=20000; SECS=5
    TLS_CONNECT_N=10000; TLS_RSA_N=2000; TLS_BCAST16_N=2000  # idle memory at 10000 TLS connections
fi
CERTS=$OUT/certs
rm -rf "$CERTS"
tests/tls/make_test_certs.sh "$CERTS"
TLS_ARGS="--tls --tls-ca $CERTS/ca.pem"

# name|certificate (- plaintext, ec or rsa)|runs (- for REPEATS)|wsload arguments. Connections come from 8 source addresses: from one address the
# client's kernel spends most of its time searching for a free ephemeral port
# (__inet_check_established), which caps logins/s at the client, not the server.
SCENARIOS=(
    "connect|-|-|connect -n $CONNECT_N --src-ips 8"
    "broadcast_1|-|-|broadcast -n $BCAST1_N --inflight 1 --duration $SECS"
    "broadcast_16|-|-|broadcast -n $BCAST16_N --inflight 16 --duration $SECS"
    "p2p_rate|-|-|p2p -n $P2P_N --rate $P2P_RATE --duration $SECS"
    "p2p_max|-|-|p2p -n $P2P_N --window 128 --duration $SECS"
    "tls_connect_ec|ec|1|connect -n $TLS_CONNECT_N --src-ips 8 $TLS_ARGS"
    "tls_connect_rsa|rsa|-|connect -n $TLS_RSA_N --src-ips 8 $TLS_ARGS"
    "tls_broadcast_16|ec|-|broadcast -n $TLS_BCAST16_N --inflight 16 --duration $SECS $TLS_ARGS"
    "tls_p2p_max|ec|-|p2p -n $P2P_N --window 128 --duration $SECS $TLS_ARGS"
)

# Starts a server on an ephemeral port; sets server_pid and server_port. Arguments after the
# log go to wspush (the auth scenarios).
start_server() {
    local kind=$1 log=$2 cert=${3:--}
    shift $(( $# < 3 ? $# : 3 ))
    local tls=()
    if [ "$kind" = wspush ]; then
        # --max-conns-per-ip 0: every client here comes from this one host (the peer has no
        # such limit either).
        [ "$cert" != - ] && tls=(--tls-cert "$CERTS/$cert.pem" --tls-key "$CERTS/$cert.key")
        "$BUILD/wspush" --host 127.0.0.1 --port 0 --api-listen off --log-level info --max-conns-per-ip 0 "${tls[@]}" "$@" \
            2>"$log" &
    else
        [ "$cert" != - ] && tls=("$CERTS/$cert.pem" "$CERTS/$cert.key")
        node bench/peer/server.js 0 "${tls[@]}" 2>"$log" &
    fi
    server_pid=$!
    server_port=""
    for _ in $(seq 100); do
        # The log may not exist yet (the shell of the background job opens it).
        server_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (websocket.*/\1/p' "$log" 2>/dev/null | head -1 || true)
        [ -n "$server_port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench: $kind did not start; its log:" >&2
    cat "$log" >&2
    return 1
}

REPEATS=${BENCH_REPEATS:-3}
WARMUP="p2p -n 200 --window 8 --duration 1"

# run_one KIND NAME CERT ARGS REPEAT: fresh server, warm-up, the scenario; JSON to OUT.
run_one() {
    local kind=$1 name=$2 cert=$3 args=$4 r=$5 rc=0
    local base=$OUT/${kind}_${name}_r$r
    local warmup=$WARMUP limit=60
    # TLS: the warm-up speaks TLS too; 10000 full handshakes take the Node peer 45-70 s here.
    [ "$cert" != - ] && { warmup="$WARMUP $TLS_ARGS"; limit=240; }
    start_server "$kind" "$base.server.log" "$cert"
    # shellcheck disable=SC2086 # WARMUP and args are word lists on purpose
    if ! "$BUILD/wsload" $warmup --port "$server_port" --timeout 60 -q >"$base.warmup.json" 2>"$base.warmup.log"; then
        echo "   warm-up on $kind failed:" >&2
        sed 's/^/   /' "$base.warmup.log" >&2
    fi
    # shellcheck disable=SC2086
    "$BUILD/wsload" $args --port "$server_port" --server-pid "$server_pid" --timeout "$limit" -q \
        >"$base.json" 2>"$base.log" &
    wsload_pid=$!
    wait "$wsload_pid" || rc=$?
    wsload_pid=""
    if [ "$rc" != 0 ]; then
        echo "bench: $name on $kind run $r FAILED (wsload exit $rc):" >&2
        sed 's/^/   /' "$base.log" >&2
        failed=1
    fi
    cleanup
}

failed=0
echo "== end-to-end: ${#SCENARIOS[@]} scenarios x 2 servers x $REPEATS runs (order alternating, warm-up: wsload $WARMUP)"
for entry in "${SCENARIOS[@]}"; do
    IFS='|' read -r name cert runs args <<<"$entry"
    [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]] && continue
    [ "$runs" = - ] && runs=$REPEATS
    echo "   $name: wsload $args"
    for r in $(seq "$runs"); do
        if [ $((r % 2)) = 1 ]; then order="wspush peer"; else order="peer wspush"; fi
        for kind in $order; do
            run_one "$kind" "$name" "$cert" "$args" "$r"
        done
    done
done

if [ -n "$ONLY" ]; then
    BENCH_QUICK=$QUICK BENCH_ONLY=$ONLY node bench/compare.js "$OUT" || failed=1
else
    WSPUSH_BUILD="$BUILD" DURATION="${API_BENCH_SECONDS:-$([ "$QUICK" = 1 ] && echo 2 || echo 5)}" bench/api_bench.sh || failed=1  # HTTP push API pushes/s
    BENCH_QUICK=$QUICK node bench/compare.js "$OUT" || failed=1
    WSPUSH_BUILD="$BUILD" CONNECTIONS=$CONNECT_N REPS=$([ "$QUICK" = 1 ] && echo 1 || echo 3) \
        bench/auth_bench.sh || failed=1  # logins/s by --auth mode
fi
if [ -n "$ONLY" ]; then
    echo "bench: BENCH_ONLY set, no picture"
elif command -v gnuplot >/dev/null; then
    gnuplot -e "dir='$OUT'" bench/report.gnuplot && echo "picture: $OUT/report.png"
else
    echo "bench: gnuplot not installed, no picture"
fi
echo "results: $OUT/results.json"
if [ "$failed" != 0 ]; then
    echo "bench: FAILED (a scenario lost, duplicated or reordered messages, or did not finish)" >&2
    exit 1
fi
echo "bench: all scenarios delivered every message exactly once, in order"
