#!/usr/bin/env bash
# make bench-cluster: wspush as a cluster on this machine. NODES nodes (each its own port,
# joined by one redis-server on a Unix socket) hold CONNS logged-in connections opened by
# tools/wsload over PROCS processes and SRC_IPS source addresses (127.0.0.2..), every message
# verified (lost, duplicated, reordered = failure). Then the same with one node (at most
# ONE_NODE_CONNS: one process is under the 20000 open-file limit).
#
# Reported per run (build/bench-cluster/*.json, a table on stdout): logins/s, private memory per
# connection over the whole server tree (nodes + Redis), broadcast deliveries/s with 16 in
# flight, p2p messages/s across nodes, server CPU per delivery (nodes + Redis), and bus bytes
# received per targeted message summed over nodes (the presence traffic of the logins, measured
# by a connect-only run, subtracted).
# p2p runs twice: closed-loop (P2P_SENDERS senders, each with at most 32 messages not yet
# delivered: the highest rate the cluster sustains with every message verified; its latency is
# the queueing that window allows) and open-loop at a fixed offered P2P_RATE (messages stamped
# with their due time: latency at a load below the maximum; P2P_RATE=0 skips it).
#   CONNS=100000 NODES=6 PROCS=10 SRC_IPS=5 DURATION=5 ONE_NODE_CONNS=16000
#   P2P_SENDERS=1000 P2P_RATE=10000
# Beside it, in the same run, PEER_NODES=3 nodes of bench/cluster-peer (Node ws + Redis, routed
# the way Socket.IO's classic redis adapter routes: every message to every node) and our cluster
# at the same node count, p2p with PEER_CONNS connections: messages/s and bus bytes received per
# targeted message, summed over nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${WSPUSH_BUILD:-build}
CONNS=${CONNS:-100000}
NODES=${NODES:-6}
PROCS=${PROCS:-10}
SRC_IPS=${SRC_IPS:-5}
DURATION=${DURATION:-5}
ONE_NODE_CONNS=${ONE_NODE_CONNS:-16000}
PEER_NODES=${PEER_NODES:-3}
PEER_CONNS=${PEER_CONNS:-30000}
P2P_SENDERS=${P2P_SENDERS:-1000}  # p2p senders (wsload keeps 4 B per sender x connection per process)
P2P_RATE=${P2P_RATE:-10000}       # the open-loop p2p run's offered messages/s; 0: no such run
OUT=$BUILD/bench-cluster
mkdir -p "$OUT"
tmp=$(mktemp -d)
group=""
stop_group() {
    if [ -n "$group" ]; then
        for c in $(pgrep -P "$group" || true); do kill "$c" 2>/dev/null || true; done
        wait "$group" 2>/dev/null || true
        group=""
    fi
}
trap 'stop_group; rm -rf "$tmp"' EXIT

# start_group N: redis + N nodes under one parent (wsload --server-pid counts the whole tree).
start_group() {
    local n=$1
    bash -c "
      redis-server --port 0 --unixsocket $tmp/redis.sock --save '' --appendonly no >$tmp/redis.log 2>&1 &
      for i in \$(seq 1 $n); do
        $BUILD/wspush --host 127.0.0.1 --port \$((14000 + i)) --api-listen 127.0.0.1:\$((14100 + i)) \
          --redis unix://$tmp/redis.sock --node-id node\$i --log-level warn --max-conns-per-ip 0 2>>$tmp/node\$i.log &
      done
      wait" &
    group=$!
    local deadline=$((SECONDS + 20))
    for i in $(seq 1 "$n"); do
        until [ "$(curl -s 127.0.0.1:$((14100 + i))/metrics | sed -n 's/^wspush_cluster_nodes //p')" = "$n" ]; do
            [ $SECONDS -lt $deadline ] || { echo "bench-cluster: node $i did not join"; exit 1; }
            sleep 0.1
        done
    done
}

ports() { seq -s, 14001 $((14000 + $1)); }

# start_peer_group N: redis + N Node peers (bench/cluster-peer) under one parent.
start_peer_group() {
    local n=$1
    if [ ! -d bench/cluster-peer/node_modules/redis ]; then
        (cd bench/cluster-peer && npm install --no-audit --no-fund >/dev/null) || { echo "npm install failed"; exit 1; }
    fi
    rm -f "$tmp"/peer*.log  # a previous group's "listening" line must not count
    bash -c "
      redis-server --port 0 --unixsocket $tmp/redis.sock --save '' --appendonly no >$tmp/redis.log 2>&1 &
      sleep 0.3
      for i in \$(seq 1 $n); do
        node bench/cluster-peer/server.js \$((14000 + i)) $tmp/redis.sock peer\$i \$((14100 + i)) 2>>$tmp/peer\$i.log &
      done
      wait" &
    group=$!
    local deadline=$((SECONDS + 20))
    for i in $(seq 1 "$n"); do
        until grep -q listening "$tmp/peer$i.log" 2>/dev/null; do
            [ $SECONDS -lt $deadline ] || { echo "bench-cluster: peer $i did not start"; cat "$tmp/peer$i.log"; exit 1; }
            sleep 0.1
        done
    done
}

peer_bus_in_bytes() {
    local sum=0 v
    for i in $(seq 1 "$1"); do
        v=$(curl -s 127.0.0.1:$((14100 + i))/ | sed -n 's/.*"bus_bytes_in":\([0-9]*\).*/\1/p')
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

bus_in_bytes() {  # summed over nodes
    local sum=0 v
    for i in $(seq 1 "$1"); do
        v=$(curl -s 127.0.0.1:$((14100 + i))/metrics | sed -n 's/^wspush_cluster_bus_bytes_total{direction="in"} //p')
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# run NAME NODES CONNS SCENARIO ARGS...: one wsload run against a fresh group (KIND=peer: the peer).
run() {
    local name=$1 n=$2 conns=$3 scenario=$4; shift 4
    local bus=bus_in_bytes
    if [ "${KIND:-wspush}" = peer ]; then start_peer_group "$n"; bus=peer_bus_in_bytes; else start_group "$n"; fi
    local before after
    before=$($bus "$n")
    "$BUILD/wsload" "$scenario" -n "$conns" --procs "$PROCS" --src-ips "$SRC_IPS" --port "$(ports "$n")" \
        --server-pid "$group" --timeout 600 -q "$@" >"$OUT/$name.json" 2>"$OUT/$name.txt" || {
        cat "$OUT/$name.txt"; echo "bench-cluster: $name failed"; exit 1; }
    sleep 1.5  # the last heartbeat and presence messages
    after=$($bus "$n")
    echo $((after - before)) >"$OUT/$name.bus"
    stop_group
    echo "== $name"; cat "$OUT/$name.txt"
}

p2p() { echo p2p --senders "$P2P_SENDERS" --duration "$DURATION"; }
started=$SECONDS
for n in "$NODES" 1; do
    conns=$CONNS; [ "$n" = 1 ] && conns=$ONE_NODE_CONNS
    run connect-$n "$n" "$conns" connect
    run broadcast-$n "$n" "$conns" broadcast --inflight 16 --duration "$DURATION"
    run p2p-$n "$n" "$conns" $(p2p)
    [ "$P2P_RATE" = 0 ] || run p2p-rate-$n "$n" "$conns" $(p2p) --rate "$P2P_RATE"
done
run connect-$PEER_NODES "$PEER_NODES" "$PEER_CONNS" connect
run p2p-$PEER_NODES "$PEER_NODES" "$PEER_CONNS" $(p2p)
KIND=peer run peer-connect-$PEER_NODES "$PEER_NODES" "$PEER_CONNS" connect
KIND=peer run peer-p2p-$PEER_NODES "$PEER_NODES" "$PEER_CONNS" $(p2p)

python3 - "$OUT" "$NODES" "$PEER_NODES" "$P2P_RATE" <<'PY'
import json, os, sys
out, nodes, peer_nodes, rate = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def load(name):
    with open(f"{out}/{name}.json") as f:
        d = json.load(f)
    with open(f"{out}/{name}.bus") as f:
        d["bus_in"] = int(f.read())
    return d
print(f"\n{'':28}{nodes + ' nodes':>16}{'1 node':>16}")
rows = []
for n in (nodes, "1"):
    c, b, p = load(f"connect-{n}"), load(f"broadcast-{n}"), load(f"p2p-{n}")
    presence = c["bus_in"]  # logins and logouts of the connect-only run
    sent = p["run"]["sent"]
    rows.append({
        "connections": c["connect"]["logged_in"],
        "logins/s": c["connect"]["logins_per_second"],
        "private B/conn (tree)": c["server"]["anon_per_connection_bytes"],
        "broadcast deliveries/s": b["run"]["deliveries_per_second"],
        "broadcast CPU us/delivery": b["server"]["cpu_us_per_delivery"],
        "p2p max messages/s": p["run"]["messages_per_second"],
        "p2p max latency p50 ms": p["run"]["latency_us"]["p50"] / 1000,
        "p2p max latency p99 ms": p["run"]["latency_us"]["p99"] / 1000,
        "p2p CPU us/delivery": p["server"]["cpu_us_per_delivery"],
        "bus B in per p2p message": max(0, p["bus_in"] - presence) / sent if sent else 0,
    })
    if rate:
        r = load(f"p2p-rate-{n}")
        rows[-1].update({
            f"p2p at {rate:.0f}/s: msg/s": r["run"]["messages_per_second"],
            f"p2p at {rate:.0f}/s: p50 ms": r["run"]["latency_us"]["p50"] / 1000,
            f"p2p at {rate:.0f}/s: p99 ms": r["run"]["latency_us"]["p99"] / 1000,
            f"p2p at {rate:.0f}/s: CPU us/dlv": r["server"]["cpu_us_per_delivery"],
        })
for k in rows[0]:
    print(f"{k:28}{rows[0][k]:>16.1f}{rows[1][k]:>16.1f}")
print(f"\np2p at {peer_nodes} nodes, same connections: wspush vs the fan-out peer (Socket.IO redis-adapter routing)")
cmp = {}
for label, prefix in (("wspush", ""), ("peer", "peer-")):
    c, p = load(f"{prefix}connect-{peer_nodes}"), load(f"{prefix}p2p-{peer_nodes}")
    sent = p["run"]["sent"]
    cmp[label] = {"connections": c["connect"]["logged_in"], "p2p messages/s": p["run"]["messages_per_second"],
                  "p2p CPU us/delivery": p["server"]["cpu_us_per_delivery"],
                  "bus B in per p2p message": max(0, p["bus_in"] - c["bus_in"]) / sent if sent else 0}
print(f"{'':28}{'wspush':>16}{'peer':>16}")
for k in cmp["wspush"]:
    print(f"{k:28}{cmp['wspush'][k]:>16.1f}{cmp['peer'][k]:>16.1f}")
json.dump({"nodes": rows, "vs_peer": cmp}, open(f"{out}/summary.json", "w"), indent=1)
PY
echo "bench-cluster took $((SECONDS - started)) s"
