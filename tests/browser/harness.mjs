// harness.mjs - what the browser tests run against: a real `keystile serve`
// on a free loopback port with its own temporary database, Debian's Chromium
// driven by playwright-core, and small HTTP helpers that check effects
// through the API (as curl would).

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const OUT = path.join(HERE, 'out');
export const BIN = process.env.KEYSTILE_BIN || path.join(ROOT, 'build', 'keystile');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

export function makeTempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'keystile-browser-'));
}

/** `keystile account create NAME --db DB` → {account, key, token}. */
export function createAccount(name, db) {
  const out = execFileSync(BIN, ['account', 'create', name, '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').pop());
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const running = new Set(); // every server process still alive, for the exit handler

/** Kills what is left, synchronously (process exit, signals). */
export function killAllServers() {
  for (const proc of running) {
    try { proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
  running.clear();
}

export class Server {
  constructor(db, logName = 'server') {
    this.db = db;
    this.logPath = path.join(path.dirname(db), `${logName}.log`);
    this.proc = null;
    this.base = null;
  }

  async start(extraArgs = []) {
    let lastError = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const log = fs.openSync(this.logPath, 'a');
      const proc = spawn(BIN, ['serve', '--db', this.db, '--listen', `127.0.0.1:${port}`, ...extraArgs],
        { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      running.add(proc);
      let exited = false;
      proc.on('exit', () => { exited = true; running.delete(proc); });
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10000;
      while (Date.now() < deadline && !exited) {
        try {
          const r = await call(base, 'GET', '/healthz');
          if (r.status === 200) {
            this.proc = proc;
            this.base = base;
            return base;
          }
        } catch { /* not listening yet */ }
        await sleep(50);
      }
      lastError = new Error(`keystile serve did not answer /healthz on port ${port} (see ${this.logPath})`);
      if (!exited) proc.kill('SIGKILL');
    }
    throw lastError;
  }

  async stop() {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const done = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}

// ---- HTTP helpers (like curl: one connection per request) ---------------------------

/**
 * call(base, method, path, {cred, body, headers}) → {status, data, text, headers}
 * (headers.get(name) as with fetch). No keep-alive, so a server stops at once.
 */
export function call(base, method, urlPath, { cred, body, headers = {} } = {}) {
  const h = { ...headers, Connection: 'close' };
  if (cred) {
    h['X-API-Key'] = cred.key;
    h['X-API-Token'] = cred.token;
  }
  let payload = null;
  if (body !== undefined) {
    payload = Buffer.from(JSON.stringify(body));
    h['Content-Type'] = 'application/json';
    h['Content-Length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(base + urlPath, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let data = null;
        try { data = text ? JSON.parse(text) : null; } catch { data = null; }
        const hdrs = res.headers;
        resolve({
          status: res.statusCode, data, text, raw,
          headers: { get: (name) => { const v = hdrs[name.toLowerCase()]; return v === undefined ? null : [v].flat().join(', '); } },
        });
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${urlPath}: no answer in 10 s`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export const acct = (account, ...segments) =>
  ['/api/v1/accounts', encodeURIComponent(account), ...segments.map(encodeURIComponent)].join('/');

/** GET /api/v1/verify with a key and token → {status, data}. */
export async function verify(base, key, token, account) {
  const q = account ? `?account=${encodeURIComponent(account)}` : '';
  return call(base, 'GET', `/api/v1/verify${q}`, { cred: { key, token } });
}

export function randomTag() {
  return Math.random().toString(36).slice(2, 8);
}

// ---- browser -----------------------------------------------------------------------

export async function launchBrowser() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new Error('playwright-core is not installed: run npm ci in tests/browser');
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_BIN)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
