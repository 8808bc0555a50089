// Summarises bench/run.sh's repeated plaintext/TLS p2p runs of wspush (pairs of wsload JSON
// files, "plain.json|tls.json"): medians, and the median of the per-pair ratios.
// Usage: node bench/tls_ratio.js OUT.json PAIR...
'use strict';
const fs = require("fs");
const pairs = process.argv.slice(3).map((p) => p.split("|").map((f) => JSON.parse(fs.readFileSync(f, "utf8"))));
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const dps = (r) => r.run.deliveries_per_second, cpu = (r) => r.server.cpu_us_per_delivery;
const out = {
  runs: pairs.length,
  plaintext_deliveries_per_second: pairs.map(([p]) => dps(p)),
  tls_deliveries_per_second: pairs.map(([, t]) => dps(t)),
  median_ratio_deliveries: med(pairs.map(([p, t]) => dps(t) / dps(p))),
  plaintext_cpu_us_per_delivery: med(pairs.map(([p]) => cpu(p))),
  tls_cpu_us_per_delivery: med(pairs.map(([, t]) => cpu(t))),
  ok: pairs.every(([p, t]) => p.ok && t.ok),
};
out.cpu_ratio = out.plaintext_cpu_us_per_delivery / out.tls_cpu_us_per_delivery;
fs.writeFileSync(process.argv[2], JSON.stringify(out, null, 2));
