// Reads every run's wsload JSON (build/bench/<server>_<scenario>_r<N>.json) for wspush and the
// peer, prints one comparison table of medians over the runs, writes results.json (medians and
// every run) and the .dat/.gp files report.gnuplot draws. Exit 1 if any run is missing or not
// ok (lost, duplicated, reordered, failed).
// Usage: node bench/compare.js OUT_DIR   (BENCH_QUICK=1 is recorded in the conditions)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const dir = process.argv[2] || 'build/bench';
// BENCH_ONLY (a regex): the scenarios run.sh ran; the others are shown as "-", not as failures.
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
const scenarios = ['connect', 'broadcast_1', 'broadcast_16', 'p2p_rate', 'p2p_max',
  'tls_connect_ec', 'tls_connect_rsa', 'tls_broadcast_16', 'tls_p2p_max'];
const servers = ['wspush', 'peer'];

// runs[scenario][server] = [run 1 JSON, run 2 JSON, ...] (null where a file is unreadable)
const runs = {};
let allOk = true;
for (const s of scenarios) {
  runs[s] = {};
  for (const k of servers) {
    const files = fs.readdirSync(dir).filter((f) => new RegExp(`^${k}_${s}_r(\\d+)\\.json$`).test(f))
      .sort((a, b) => Number(a.match(/_r(\d+)\./)[1]) - Number(b.match(/_r(\d+)\./)[1]));
    runs[s][k] = files.map((f) => {
      try { return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch (e) { return null; }
    });
    if ((runs[s][k].length === 0 && !(only && !only.test(s))) || runs[s][k].some((r) => !r || !r.ok)) allOk = false;
  }
}

const get = (obj, dotted) => dotted.split('.').reduce((o, key) => (o == null ? undefined : o[key]), obj);
const median = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const med = (s, k, p) => median(runs[s][k].map((r) => get(r, p)));

// [scenario, figure, json path, unit, better: 'higher' | 'lower']
const rows = [
  ['connect', 'rate', 'connect.logins_per_second', 'logins/s', 'higher'],
  ['connect', 'connect latency p99', 'connect.latency_us.p99', 'us', 'lower'],
  ['connect', 'RSS per connection', 'server.rss_per_connection_bytes', 'B', 'lower'],
  ['connect', 'private memory per connection', 'server.anon_per_connection_bytes', 'B', 'lower'],
  ['connect', 'server CPU per login', 'server.cpu_us_per_login', 'us', 'lower'],
];
for (const s of ['broadcast_1', 'broadcast_16']) {
  rows.push([s, 'rate', 'run.deliveries_per_second', 'deliveries/s', 'higher']);
  rows.push([s, 'to last receiver p50', 'run.broadcast_completion_us.p50', 'us', 'lower']);
  rows.push([s, 'to last receiver p99', 'run.broadcast_completion_us.p99', 'us', 'lower']);
  rows.push([s, 'to last receiver max', 'run.broadcast_completion_us.max', 'us', 'lower']);
  rows.push([s, 'per-delivery latency p99', 'run.latency_us.p99', 'us', 'lower']);
  rows.push([s, 'server CPU per delivery', 'server.cpu_us_per_delivery', 'us', 'lower']);
}
for (const s of ['p2p_rate', 'p2p_max']) {
  rows.push([s, 'rate', 'run.deliveries_per_second', 'deliveries/s', 'higher']);
  rows.push([s, 'latency p50', 'run.latency_us.p50', 'us', 'lower']);
  rows.push([s, 'latency p99', 'run.latency_us.p99', 'us', 'lower']);
  rows.push([s, 'latency p99.9', 'run.latency_us.p99_9', 'us', 'lower']);
  rows.push([s, 'latency max', 'run.latency_us.max', 'us', 'lower']);
  rows.push([s, 'server CPU per delivery', 'server.cpu_us_per_delivery', 'us', 'lower']);
}

// TLS: a login is one full handshake (ECDSA P-256 or RSA 2048 certificate) + upgrade + login.
// wsload verifies every chain (~0.9 ms of its CPU each), so on 2 cores it can be the limit of
// the rate: the server's CPU per login is the figure that is the server's alone.
for (const s of ['tls_connect_ec', 'tls_connect_rsa']) {
  rows.push([s, 'rate', 'connect.logins_per_second', 'handshakes+logins/s', 'higher']);
  rows.push([s, 'server CPU per login', 'server.cpu_us_per_login', 'us', 'lower']);
  rows.push([s, 'connect latency p99', 'connect.latency_us.p99', 'us', 'lower']);
}
rows.push(['tls_connect_ec', 'private memory per connection', 'server.anon_per_connection_bytes', 'B', 'lower']);
for (const s of ['tls_broadcast_16', 'tls_p2p_max']) {
  rows.push([s, 'rate', 'run.deliveries_per_second', 'deliveries/s', 'higher']);
  rows.push([s, 'latency p99', s === 'tls_p2p_max' ? 'run.latency_us.p99' : 'run.broadcast_completion_us.p99', 'us', 'lower']);
  rows.push([s, 'server CPU per delivery', 'server.cpu_us_per_delivery', 'us', 'lower']);
}

const fmt = (v) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US').replace(/,/g, ' ');
  return v.toFixed(Math.abs(v) >= 10 ? 1 : 2);
};

// Prints rows of cells with every column as wide as its widest cell: text left, numbers right.
function printTable(header, body, numeric) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const cell = (c, i) => (numeric[i] ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]));
  console.log(header.map(cell).join('  ').trimEnd());
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) console.log(r.map(cell).join('  ').trimEnd());
}

const repeats = Math.max(...scenarios.flatMap((s) => servers.map((k) => runs[s][k].length)));
const quick = process.env.BENCH_QUICK === '1';
const cpu = os.cpus()[0].model.trim();
const wsVersion = require('./peer/node_modules/ws/package.json').version;
const conns = Object.fromEntries(scenarios.map((s) => [s, get(runs[s].wspush.find(Boolean), 'config.connections')]));

const table = [];
const body = [];
for (const [s, label, p, unit, better] of rows) {
  const w = med(s, 'wspush', p);
  const q = med(s, 'peer', p);
  const ratio = w !== undefined && q ? w / q : undefined;
  table.push({ scenario: s, figure: label, unit, wspush: w ?? null, peer: q ?? null, ratio: ratio ?? null, better,
    wspush_runs: runs[s].wspush.map((r) => get(r, p) ?? null), peer_runs: runs[s].peer.map((r) => get(r, p) ?? null) });
  body.push([s, label, unit, fmt(w), fmt(q), ratio === undefined ? '-' : ratio.toFixed(2) + 'x', better]);
}
console.log('');
console.log(`wspush vs peer (Node ${process.version}, ws ${wsVersion}) on ${os.cpus().length}x ${cpu}, loopback, ` +
  `wsload in the same run${quick ? ', BENCH_QUICK=1' : ''}`);
console.log(`medians of ${repeats} runs per server, order alternating, each after a warm-up; ` +
  'ratio = wspush / peer; "better" says which way is better for that figure');
printTable(['scenario', 'figure', 'unit', 'wspush', 'peer', 'ratio', 'better'], body,
  [false, false, false, true, true, true, false]);

// TLS against plaintext, both wspush, medians of the same run (goal: TLS p2p >= 0.5x plaintext).
const tlsShare = [];
for (const [t, p] of [['tls_p2p_max', 'p2p_max'], ['tls_broadcast_16', 'broadcast_16']]) {
  const rate = med(t, 'wspush', 'run.deliveries_per_second') / med(p, 'wspush', 'run.deliveries_per_second');
  const cpuRatio = med(p, 'wspush', 'server.cpu_us_per_delivery') / med(t, 'wspush', 'server.cpu_us_per_delivery');
  tlsShare.push({ tls: t, plaintext: p, deliveries_ratio: Number.isFinite(rate) ? rate : null,
    cpu_per_delivery_ratio: Number.isFinite(cpuRatio) ? cpuRatio : null });
  console.log(`wspush TLS / plaintext: ${t} / ${p}: deliveries/s ${fmt(rate)}x, ` +
    `server CPU per delivery plaintext / TLS ${fmt(cpuRatio)}x (what the server alone would keep)`);
}

console.log('');
const status = [];
for (const s of scenarios) {
  for (const k of servers) {
    for (const [i, r] of runs[s][k].entries()) {
      const v = (r && r.verification) || {};
      // wsload's CPU over the measured phase; a connect run has no such phase.
      const cpuCell = !r || s.includes('connect') ? '' : fmt(r.wsload.cpu_seconds_measured_phase);
      status.push([s, k, i + 1, !r ? 'MISSING' : r.ok ? 'ok' : `FAILED${r.error ? ': ' + r.error : ''}`,
        r ? r.config.connections : '-', v.lost ?? '-', v.gaps ?? '-', v.duplicated_or_reordered ?? '-', cpuCell]);
    }
  }
}
console.log('every run, verified by wsload (each message counted per sender and receiver):');
printTable(['scenario', 'server', 'run', 'status', 'connections', 'lost', 'gaps', 'dup/reordered', 'wsload CPU (s)'],
  status, [false, false, true, false, true, true, true, true, true]);

let api = null;
try { api = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')); } catch (e) { /* api_bench not run */ }

const machine = { cpus: os.cpus().length, model: cpu, node: process.version, kernel: os.release(), host: os.hostname() };
fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify({
  machine, quick, repeats, ok: allOk, table, tls_share: tlsShare, api, runs,
}, null, 2));

// --- report.gnuplot input --------------------------------------------------------------------
const dat = (name, lines) => fs.writeFileSync(path.join(dir, name), lines.join('\n') + '\n');
const lat = ['# label wspush_p50 peer_p50 wspush_p99 peer_p99 wspush_max peer_max'];
const latencyOf = { broadcast_1: 'run.broadcast_completion_us', broadcast_16: 'run.broadcast_completion_us', p2p_rate: 'run.latency_us', p2p_max: 'run.latency_us' };
for (const [s, base] of Object.entries(latencyOf)) {
  const v = (k, pct) => med(s, k, `${base}.${pct}`) ?? 0;
  lat.push(`"${s}" ${v('wspush', 'p50')} ${v('peer', 'p50')} ${v('wspush', 'p99')} ${v('peer', 'p99')} ${v('wspush', 'max')} ${v('peer', 'max')}`);
}
dat('latency.dat', lat);
const thr = ['# label wspush peer'];
thr.push(`"connect\\n(logins/s)" ${med('connect', 'wspush', 'connect.logins_per_second') ?? 0} ${med('connect', 'peer', 'connect.logins_per_second') ?? 0}`);
for (const s of ['broadcast_1', 'broadcast_16', 'p2p_rate', 'p2p_max'])
  thr.push(`"${s}" ${med(s, 'wspush', 'run.deliveries_per_second') ?? 0} ${med(s, 'peer', 'run.deliveries_per_second') ?? 0}`);
dat('throughput.dat', thr);
const mem = ['# label wspush peer'];
mem.push(`"RSS" ${med('connect', 'wspush', 'server.rss_per_connection_bytes') ?? 0} ${med('connect', 'peer', 'server.rss_per_connection_bytes') ?? 0}`);
mem.push(`"private" ${med('connect', 'wspush', 'server.anon_per_connection_bytes') ?? 0} ${med('connect', 'peer', 'server.anon_per_connection_bytes') ?? 0}`);
dat('memory.dat', mem);
const apiRows = ['# label per_second'];
for (const sc of (api && api.scenarios) || []) {
  if (sc.scenario === 'single') apiRows.push(`"single pushes/s" ${sc.messages_per_s}`);
  if (sc.scenario === 'batch') apiRows.push(`"messages/s in batches of ${sc.batch}" ${sc.messages_per_s}`);
}
if (apiRows.length === 1) apiRows.push('"API bench not run" 0');
dat('api.dat', apiRows);
const conditions = `${machine.cpus}x ${cpu}, Linux ${machine.kernel}, host ${machine.host}, Node ${process.version}, ` +
  `ws ${wsVersion}, ${new Date().toISOString().slice(0, 10)}\n` +
  `loopback, servers and load generator sharing the cores; connections: connect ${conns.connect}, ` +
  `broadcast ${conns.broadcast_1} / ${conns.broadcast_16}, p2p ${conns.p2p_rate}; ` +
  `medians of ${repeats} runs, order alternating${quick ? '; BENCH_QUICK=1 (short runs)' : ''}`;
fs.writeFileSync(path.join(dir, 'conditions.gp'), `conditions = ${JSON.stringify(conditions)}\n`);

process.exit(allOk ? 0 : 1);
