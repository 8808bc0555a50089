// Reads the wsload JSON of each scenario for wspush and the peer (build/bench/<server>_<name>.json),
// prints one comparison table, writes results.json and the .dat files report.gnuplot draws.
// Exit 1 if any run is missing or not ok (lost, duplicated, reordered, failed).
// Usage: node bench/compare.js OUT_DIR
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const dir = process.argv[2] || 'build/bench';
const scenarios = ['connect', 'broadcast_1', 'broadcast_16', 'p2p_rate', 'p2p_max',
  'tls_connect_ec', 'tls_connect_rsa', 'tls_broadcast_16', 'tls_p2p_max'];
const servers = ['wspush', 'peer'];

const runs = {};
let allOk = true;
for (const s of scenarios) {
  runs[s] = {};
  for (const k of servers) {
    try {
      runs[s][k] = JSON.parse(fs.readFileSync(path.join(dir, `${k}_${s}.json`), 'utf8'));
    } catch (e) {
      runs[s][k] = null;
    }
    if (!runs[s][k] || !runs[s][k].ok) allOk = false;
  }
}

const get = (obj, dotted) => dotted.split('.').reduce((o, key) => (o == null ? undefined : o[key]), obj);

// [scenario, label, json path, unit, better: 'higher' | 'lower']
const rows = [
  ['connect', 'logins/s', 'connect.logins_per_second', '/s', 'higher'],
  ['connect', 'connect latency p99', 'connect.latency_us.p99', 'us', 'lower'],
  ['connect', 'server RSS per connection', 'server.rss_per_connection_bytes', 'B', 'lower'],
  ['connect', 'server private memory per connection', 'server.anon_per_connection_bytes', 'B', 'lower'],
  ['connect', 'server CPU per login', 'server.cpu_us_per_login', 'us', 'lower'],
];
for (const s of ['broadcast_1', 'broadcast_16']) {
  rows.push([s, 'deliveries/s', 'run.deliveries_per_second', '/s', 'higher']);
  rows.push([s, 'to last receiver p50', 'run.broadcast_completion_us.p50', 'us', 'lower']);
  rows.push([s, 'to last receiver p99', 'run.broadcast_completion_us.p99', 'us', 'lower']);
  rows.push([s, 'to last receiver max', 'run.broadcast_completion_us.max', 'us', 'lower']);
  rows.push([s, 'per-delivery latency p99', 'run.latency_us.p99', 'us', 'lower']);
  rows.push([s, 'server CPU per delivery', 'server.cpu_us_per_delivery', 'us', 'lower']);
}
for (const s of ['p2p_rate', 'p2p_max']) {
  rows.push([s, 'deliveries/s', 'run.deliveries_per_second', '/s', 'higher']);
  rows.push([s, 'latency p50', 'run.latency_us.p50', 'us', 'lower']);
  rows.push([s, 'latency p99', 'run.latency_us.p99', 'us', 'lower']);
  rows.push([s, 'latency p99.9', 'run.latency_us.p99_9', 'us', 'lower']);
  rows.push([s, 'latency max', 'run.latency_us.max', 'us', 'lower']);
  rows.push([s, 'server CPU per delivery', 'server.cpu_us_per_delivery', 'us', 'lower']);
}

// TLS: logins/s is one full handshake (ECDSA P-256 or RSA 2048 certificate) + upgrade + login
// per connection; wsload verifies every chain, so on 2 cores it may be the limit: the server's
// CPU per login is the figure that is the server's alone.
for (const s of ['tls_connect_ec', 'tls_connect_rsa']) {
  rows.push([s, 'handshakes+logins/s', 'connect.logins_per_second', '/s', 'higher']);
  rows.push([s, 'server CPU per login', 'server.cpu_us_per_login', 'us', 'lower']);
  rows.push([s, 'connect latency p99', 'connect.latency_us.p99', 'us', 'lower']);
}
rows.push(['tls_connect_ec', 'server private memory per connection', 'server.anon_per_connection_bytes', 'B', 'lower']);
for (const s of ['tls_broadcast_16', 'tls_p2p_max']) {
  rows.push([s, 'deliveries/s', 'run.deliveries_per_second', '/s', 'higher']);
  rows.push([s, 'latency p99', s === 'tls_p2p_max' ? 'run.latency_us.p99' : 'run.broadcast_completion_us.p99', 'us', 'lower']);
  rows.push([s, 'server CPU per delivery', 'server.cpu_us_per_delivery', 'us', 'lower']);
}

const fmt = (v) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (Math.abs(v) >= 100) return Math.round(v).toString();
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 3);
};

const table = [];
console.log('');
console.log(`wspush vs peer (Node ${process.version}, ws ${require('./peer/node_modules/ws/package.json').version}) on ${os.cpus().length}x ${os.cpus()[0].model.trim()}, loopback, wsload in the same run`);
console.log('ratio = wspush / peer; the last column says which way is better for that figure');
const header = ['scenario', 'figure', 'wspush', 'peer', 'ratio', 'better'];
const widths = [13, 27, 12, 12, 8, 8];
const line = (cols) => cols.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' ');
console.log(line(header));
console.log('-'.repeat(widths.reduce((a, b) => a + b + 1, 0)));
for (const [s, label, p, unit, better] of rows) {
  const w = get(runs[s].wspush, p);
  const q = get(runs[s].peer, p);
  const ratio = w !== undefined && q ? w / q : undefined;
  table.push({ scenario: s, figure: label, unit, wspush: w ?? null, peer: q ?? null, ratio: ratio ?? null, better });
  console.log(line([s, `${label} (${unit})`, fmt(w), fmt(q), ratio === undefined ? '-' : ratio.toFixed(2), better]));
}
console.log('');
// TLS against plaintext, both wspush, same run (the goal: TLS p2p >= 0.5 x plaintext).
const tlsShare = [];
for (const [tlsName, plainName] of [['tls_p2p_max', 'p2p_max'], ['tls_broadcast_16', 'broadcast_16']]) {
  const a = get(runs[tlsName].wspush, 'run.deliveries_per_second');
  const b = get(runs[plainName].wspush, 'run.deliveries_per_second');
  const r = a !== undefined && b ? a / b : undefined;
  tlsShare.push({ tls: tlsName, plaintext: plainName, ratio: r ?? null });
  console.log(`wspush TLS / plaintext deliveries/s: ${tlsName} / ${plainName} = ${r === undefined ? '-' : r.toFixed(2)}`);
}
let tlsRatio = null;
try {
  tlsRatio = JSON.parse(fs.readFileSync(path.join(dir, 'tls_ratio.json'), 'utf8'));
  const k = (v) => Math.round(v / 1000) + 'k';
  console.log(`wspush p2p (window 128), plaintext and TLS in turn x${tlsRatio.runs}: ` +
    `plaintext ${tlsRatio.plaintext_deliveries_per_second.map(k).join(' ')}, TLS ${tlsRatio.tls_deliveries_per_second.map(k).join(' ')} deliveries/s; ` +
    `median TLS/plaintext ${tlsRatio.median_ratio_deliveries.toFixed(2)}; server CPU per delivery ` +
    `${tlsRatio.plaintext_cpu_us_per_delivery.toFixed(2)} vs ${tlsRatio.tls_cpu_us_per_delivery.toFixed(2)} us (ratio ${tlsRatio.cpu_ratio.toFixed(2)})`);
  if (!tlsRatio.ok) allOk = false;
} catch (e) {
  console.log('wspush TLS/plaintext repeated runs: missing');
}
console.log('');
for (const s of scenarios) {
  for (const k of servers) {
    const r = runs[s][k];
    const v = r && r.verification;
    const status = !r ? 'MISSING' : r.ok ? 'ok' : `FAILED${r.error ? ': ' + r.error : ''}`;
    const c = r && r.config;
    console.log(`${s.padEnd(13)} ${k.padEnd(7)} ${status}  conns ${c ? c.connections : '-'}  lost ${v ? v.lost : '-'}  gaps ${v ? v.gaps : '-'}  dup/reordered ${v ? v.duplicated_or_reordered : '-'}  wsload CPU ${r ? fmt(r.wsload.cpu_seconds_measured_phase) : '-'} s`);
  }
}

fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify({
  machine: { cpus: os.cpus().length, model: os.cpus()[0].model.trim(), node: process.version, kernel: os.release() },
  ok: allOk, table, tls_share: tlsShare, tls_ratio: tlsRatio, runs,
}, null, 2));

// report.gnuplot input: latency percentiles (us) and throughput per scenario, both servers.
const lat = ['# label wspush_p50 peer_p50 wspush_p99 peer_p99 wspush_max peer_max'];
const latencyOf = { broadcast_1: 'run.broadcast_completion_us', broadcast_16: 'run.broadcast_completion_us', p2p_rate: 'run.latency_us', p2p_max: 'run.latency_us' };
for (const [s, base] of Object.entries(latencyOf)) {
  const v = (k, pct) => get(runs[s][k], `${base}.${pct}`) ?? 0;
  lat.push(`"${s}" ${v('wspush', 'p50')} ${v('peer', 'p50')} ${v('wspush', 'p99')} ${v('peer', 'p99')} ${v('wspush', 'max')} ${v('peer', 'max')}`);
}
fs.writeFileSync(path.join(dir, 'latency.dat'), lat.join('\n') + '\n');
const thr = ['# label wspush peer'];
thr.push(`"connect\\n(logins/s)" ${get(runs.connect.wspush, 'connect.logins_per_second') ?? 0} ${get(runs.connect.peer, 'connect.logins_per_second') ?? 0}`);
for (const s of ['broadcast_1', 'broadcast_16', 'p2p_rate', 'p2p_max'])
  thr.push(`"${s}" ${get(runs[s].wspush, 'run.deliveries_per_second') ?? 0} ${get(runs[s].peer, 'run.deliveries_per_second') ?? 0}`);
fs.writeFileSync(path.join(dir, 'throughput.dat'), thr.join('\n') + '\n');

process.exit(allOk ? 0 : 1);
