#!/usr/bin/env node
// Browser tests of the Keystile web admin: node tests/browser/run.mjs [--reverse] [FILTER...]
//
// Starts its own `keystile serve` (KEYSTILE_BIN, default <repo>/build/keystile)
// on a free loopback port with a temporary database holding two accounts,
// `acme` and `other`, drives Debian's Chromium (/usr/bin/chromium, or
// CHROMIUM_BIN) with playwright-core, and checks each effect through the HTTP
// API. Every case gets a fresh browser context (no shared cookies) and makes
// its own keys, so cases are independent of order. FILTER keeps the cases
// whose name contains it. Screenshots go to tests/browser/out/. The last line
// is exactly "N passed, M failed"; the exit code is 1 if anything failed.

import fs from 'node:fs';
import path from 'node:path';
import {
  OUT, BIN, Server, call, createAccount, killAllServers, launchBrowser, makeTempDir,
} from './harness.mjs';
import { registerCases } from './cases.mjs';
import { registerPeopleCases } from './people.mjs';

const CASE_TIMEOUT_MS = 30000;

const cases = [];
/** A case; options.timeout (ms) for the long ones (several Argon2id sign-ins). */
function test(name, fn, options = {}) {
  cases.push({ name, fn, timeout: options.timeout || CASE_TIMEOUT_MS });
}
registerCases(test);
registerPeopleCases(test);

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const selected = filters.length ? cases.filter((c) => filters.some((f) => c.name.includes(f))) : [...cases];
if (args.includes('--reverse')) selected.reverse(); // to check that cases do not depend on order

function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A browser context for one case, with watchers: uncaught page errors, CSP
 * violations and requests to any other origin fail the case.
 */
async function newCaseContext(env) {
  const context = await env.browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.base });
  context.setDefaultTimeout(8000);
  const problems = [];
  if (env.basicChallenge) {
    // The server asks for HTTP Basic on every 401 (see the "no Basic challenge"
    // case). A real browser would pop up its own login box; headless Chromium
    // would wait for it for ever. Drop the header so the other cases can test
    // the page itself; that case reports the problem.
    await context.route('**/api/**', async (route) => {
      const response = await route.fetch();
      const headers = response.headers();
      if (!headers['www-authenticate']) return route.fulfill({ response });
      delete headers['www-authenticate'];
      return route.fulfill({ response, headers });
    });
  }
  const origins = [env.base];
  context.on('page', (page) => watchPage(page, origins, problems));
  const page = await context.newPage();
  // A case that starts a server of its own allows its origin.
  const allowOrigin = async (base) => {
    origins.push(base);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  };
  return { context, page, problems, allowOrigin };
}

function watchPage(page, origins, problems) {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (load|apply|execute|connect)/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('request', (req) => {
    const url = req.url();
    const ours = origins.some((o) => url.startsWith(`${o}/`));
    if (!ours && !url.startsWith('blob:') && !url.startsWith('data:') && url !== 'about:blank') {
      problems.push(`request to another origin: ${url}`);
    }
  });
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.endsWith('.png')) fs.rmSync(path.join(OUT, f));
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} not found: run make first (or set KEYSTILE_BIN)`);
  const dir = makeTempDir();
  const db = path.join(dir, 'k.db');
  const env = { dir, db, browser: null, server: null, base: null };
  let passed = 0;
  let failed = 0;
  try {
    env.acme = createAccount('acme', db);
    env.other = createAccount('other', db);
    env.server = new Server(db);
    env.base = await env.server.start();
    // Does a 401 carry an HTTP Basic challenge? (See newCaseContext.)
    const probe = await call(env.base, 'GET', '/api/v1/session');
    env.basicChallenge = /^\s*basic/i.test(probe.headers.get('www-authenticate') || '');
    env.browser = await launchBrowser();

    for (const c of selected) {
      const started = Date.now();
      let ctx = null;
      try {
        ctx = await newCaseContext(env);
        const t = { ...env, ...ctx, name: c.name, shot: (n) => ctx.page.screenshot({ path: path.join(OUT, `${n}.png`) }) };
        await withTimeout(c.fn(t), c.timeout, c.name);
        if (ctx.problems.length) throw new Error(ctx.problems.join('\n'));
        passed += 1;
        console.log(`ok     ${c.name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      } catch (err) {
        failed += 1;
        console.log(`FAIL   ${c.name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
        console.log(`       ${String(err && err.stack ? err.stack : err).split('\n').slice(0, 8).join('\n       ')}`);
        if (ctx) {
          await ctx.page.screenshot({ path: path.join(OUT, `FAILED-${slug(c.name)}.png`) }).catch(() => {});
        }
      } finally {
        if (ctx) await ctx.context.close().catch(() => {});
      }
    }
  } catch (err) {
    failed += 1;
    console.log(`FAIL   setup: ${err && err.stack ? err.stack : err}`);
  } finally {
    if (env.browser) await env.browser.close().catch(() => {});
    if (env.server) await env.server.stop().catch(() => {});
    killAllServers();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.on('exit', killAllServers);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllServers();
    process.exit(1);
  });
}

main().then((code) => {
  process.exitCode = code;
}, (err) => {
  console.log(`FAIL   runner: ${err && err.stack ? err.stack : err}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
