// Starts build/wspush for one test and always stops it again (see python/wspush_server.py:
// same defaults, same pdeathsig guard, same sanitizer check).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BUILD = process.env.WSPUSH_BUILD || 'build';
const BINARY = path.resolve(ROOT, BUILD, 'wspush');
const SANITIZED = process.env.WSPUSH_SANITIZED === '1';
// Every time bound is multiplied by SLOW: ASan+UBSan builds run ~3x slower.
const SLOW = SANITIZED ? 4 : 1;

const LISTENING = /listening on (\S+):(\d+) \(websocket(, tls)?\)/;
const SANITIZER_REPORT = /ERROR: (Address|Leak|Thread)Sanitizer|runtime error:/;
const DEFAULTS = { '--host': '127.0.0.1', '--port': '0', '--api-listen': 'off', '--shutdown-timeout': '1' };

class WspushServer {
  constructor(options = {}) {
    const merged = { ...DEFAULTS, ...options };
    this.argv = Object.entries(merged).flatMap(([k, v]) => [k, String(v)]);
    this.log = '';
    this.port = null;
  }

  start(timeoutMs = 5000 * SLOW) {
    this.proc = spawn('setpriv', ['--pdeathsig', 'KILL', BINARY, ...this.argv],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    const collect = (chunk) => { this.log += chunk.toString(); };
    this.proc.stdout.on('data', collect);  // drained always: a full pipe would block the server
    this.proc.stderr.on('data', collect);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`no 'listening on' line within ${timeoutMs} ms`), timeoutMs);
      const fail = (why) => { clearTimeout(timer); this.proc.kill('SIGKILL'); reject(new Error(`${why}\n${this.log}`)); };
      const check = () => {
        const m = LISTENING.exec(this.log);
        if (m) {
          clearTimeout(timer);
          this.port = Number(m[2]);
          resolve(this);
        }
      };
      this.proc.stderr.on('data', check);
      this.proc.stdout.on('data', check);
      this.proc.on('error', (e) => fail(String(e)));
      this.exited.then(({ code, sig }) => { if (!this.port) fail(`exited early (${code ?? sig})`); });
    });
  }

  get url() { return `${this.argv.includes('--tls-cert') ? 'wss' : 'ws'}://127.0.0.1:${this.port}/`; }

  // SIGTERM, SIGKILL if it lingers; throws if a sanitizer reported anything.
  async stop() {
    if (!this.proc) return;
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const lingering = setTimeout(() => this.proc.kill('SIGKILL'), 3000 * SLOW);
      await this.exited;
      clearTimeout(lingering);
    }
    if (SANITIZER_REPORT.test(this.log)) throw new Error(`sanitizer report from wspush:\n${this.log.slice(-6000)}`);
  }
}

module.exports = { WspushServer, SLOW, SANITIZED, BINARY };
