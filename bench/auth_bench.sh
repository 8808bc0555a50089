#!/usr/bin/env bash
# Logins/s by --auth mode: tools/wsload's connect scenario against wspush with --auth none (the
# baseline: the uid as first message), HS256 tokens as the first message and in the URL, and
# ES256 tokens in the URL. Tokens are minted by wsload before its clock starts, so the figures
# are the server's verify cost plus the protocol's round trips (a URL token saves one: the
# server answers the upgrade with the login reply, no login message to wait for).
#
# Method: a fresh server per run on loopback, modes interleaved, REPS rounds, the median
# logins/s of each; connections from 8 source addresses (as bench/run.sh's connect).
# Writes $WSPUSH_BUILD/bench/auth_logins.json.
#   CONNECTIONS=15000 REPS=3 bench/auth_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${WSPUSH_BUILD:-build}
OUT=$BUILD/bench
N=${CONNECTIONS:-15000}
REPS=${REPS:-3}
mkdir -p "$OUT"

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
trap 'echo "auth_bench: interrupted" >&2; cleanup; exit 130' INT TERM

openssl rand -hex 32 >"$OUT/jwt-secret"
openssl ecparam -name prime256v1 -genkey -noout -out "$OUT/jwt-ec.key" 2>/dev/null
openssl pkey -in "$OUT/jwt-ec.key" -pubout -out "$OUT/jwt-ec.pub"
MODES=(
    "none||"
    "hs256_message|--auth jwt --jwt-secret-file $OUT/jwt-secret|--token-secret-file $OUT/jwt-secret"
    "hs256_url|--auth jwt --jwt-secret-file $OUT/jwt-secret|--token-secret-file $OUT/jwt-secret --token-in-url"
    "es256_url|--auth jwt --jwt-public-key $OUT/jwt-ec.pub|--token-key-file $OUT/jwt-ec.key --token-in-url"
)

failed=0
echo "== logins/s by --auth mode: connect -n $N --src-ips 8, $REPS interleaved rounds, medians"
for rep in $(seq "$REPS"); do
    for entry in "${MODES[@]}"; do
        IFS='|' read -r mode server_args load_args <<<"$entry"
        log=$OUT/auth_${mode}_$rep.server.log
        # shellcheck disable=SC2086 # word lists on purpose
        "$BUILD/wspush" --host 127.0.0.1 --port 0 --api-listen off --max-conns-per-ip 0 $server_args 2>"$log" &
        server_pid=$!
        port=""
        for _ in $(seq 100); do
            port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) (websocket).*/\1/p' "$log" 2>/dev/null | head -1 || true)
            [ -n "$port" ] && break
            sleep 0.05
        done
        [ -n "$port" ] || { echo "auth_bench: wspush $server_args did not start" >&2; cat "$log" >&2; exit 1; }
        # shellcheck disable=SC2086
        "$BUILD/wsload" connect -n "$N" --src-ips 8 $load_args --port "$port" --server-pid "$server_pid" \
            --timeout 60 -q >"$OUT/auth_${mode}_$rep.json" 2>"$OUT/auth_${mode}_$rep.log" &
        wsload_pid=$!
        rc=0
        wait "$wsload_pid" || rc=$?
        wsload_pid=""
        cleanup
        if [ "$rc" != 0 ]; then
            echo "auth_bench: $mode round $rep FAILED (wsload exit $rc)" >&2
            sed 's/^/   /' "$OUT/auth_${mode}_$rep.log" >&2
            failed=1
        fi
    done
done
node -e '
const fs = require("fs"), dir = process.argv[1], reps = +process.argv[2];
const modes = ["none", "hs256_message", "hs256_url", "es256_url"], out = {};
const med = (a) => { a = a.slice().sort((x, y) => x - y); return a[Math.floor(a.length / 2)]; };
for (const m of modes) {
  const v = [];
  for (let r = 1; r <= reps; r++) {
    try { v.push(JSON.parse(fs.readFileSync(`${dir}/auth_${m}_${r}.json`, "utf8")).connect.logins_per_second); } catch (e) {}
  }
  if (v.length) out[m] = { median: med(v), runs: v };
}
console.log("   mode            logins/s (median)   vs --auth none   runs");
for (const m of modes) if (out[m]) console.log(`   ${m.padEnd(15)} ${String(Math.round(out[m].median)).padStart(10)}          ${(out[m].median / out.none.median).toFixed(2)}x        ${out[m].runs.map(Math.round).join(" ")}`);
fs.writeFileSync(`${dir}/auth_logins.json`, JSON.stringify(out, null, 1));
' "$OUT" "$REPS"
exit $failed
