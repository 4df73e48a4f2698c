// The dashboard end to end (issue 7): the real `glidepath serve` with two real
// `glidepath sample-backend` versions and a steady load, a canary started through the admin
// API, and Debian's chromium driven by playwright-core reading and steering /ui/.
//
// Asserts that the page asks for the admin token once, shows the service, both versions,
// a split that moves as the canary steps up, the step timeline with its current step, the
// alarm and its threshold, and that Abort (after its confirmation) rolls the deployment back,
// as the admin API then reports, with no request of the load failing. Saves screenshots
// (laptop and phone) in the test's output directory.
//
// Environment: GLIDEPATH_BINARY (required), GLIDEPATH_WEB_DIR (web/, for playwright-core),
// GLIDEPATH_E2E_OUTPUT (where screenshots go; default: the working directory),
// CHROMIUM (default /usr/bin/chromium). Bounded: every wait has a deadline and the whole
// test gives up after 150 s.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.env.GLIDEPATH_BINARY;
const webDir = process.env.GLIDEPATH_WEB_DIR || path.join(here, '..', '..', 'web');
const outputDir = process.env.GLIDEPATH_E2E_OUTPUT || process.cwd();
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'e2e-admin-token';

const require = createRequire(path.join(webDir, 'package.json'));
const { chromium } = require('playwright-core');

const children = [];
const cleanups = [];
let failed = false;

function log(message) {
  process.stdout.write(`[e2e ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

function fail(message) {
  throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `probe` until it returns a truthy value, or fails with `what` and the last value.
async function waitFor(what, probe, timeoutMs = 20000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error.message;
    }
    await sleep(intervalMs);
  }
  fail(`timed out waiting for ${what}; last saw: ${JSON.stringify(last)}`);
}

// Starts a process and resolves with the first match of `pattern` in its stdout.
function start(args, pattern, name) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push({ child, name });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out}${err}`)), 15000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
      if (err.length < 20000) child.stderrText = err;
    });
    child.on('exit', (code, signal) => {
      child.exited = { code, signal };
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${out}${err}`));
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function request(port, method, target, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1', port, method, path: target, agent, timeout: 5000,
      headers: { ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// A steady load through the gateway (about 150 requests/s over 4 connections), counting
// every answer by version and every failure, until stop() — bounded by count and time.
function startLoad(port) {
  const stats = { sent: 0, ok: 0, failed: 0, byVersion: {}, failures: [] };
  let running = true;
  const deadline = Date.now() + 140000;
  const worker = async () => {
    while (running && Date.now() < deadline && stats.sent < 40000) {
      stats.sent += 1;
      try {
        const reply = await request(port, 'GET', '/orders/42');
        if (reply.status === 200) {
          stats.ok += 1;
          const version = reply.headers['x-backend-version'] || '?';
          stats.byVersion[version] = (stats.byVersion[version] || 0) + 1;
        } else {
          stats.failed += 1;
          if (stats.failures.length < 5) stats.failures.push(`${reply.status} ${reply.text.slice(0, 100)}`);
        }
      } catch (error) {
        stats.failed += 1;
        if (stats.failures.length < 5) stats.failures.push(error.message);
      }
      await sleep(25);
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  return { stats, stop: async () => { running = false; await Promise.all(workers); } };
}

async function main() {
  if (!binary) fail('GLIDEPATH_BINARY is not set');
  if (!existsSync(chromiumPath)) fail(`no chromium at ${chromiumPath} (scripts/install-deps.sh installs it)`);
  mkdirSync(outputDir, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glidepath-e2e-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  const [, v1Port] = await start(['sample-backend', '--name', 'v1', '--port', '0'], /listening on .*:(\d+)\n/, 'backend v1');
  const [, v2Port] = await start(['sample-backend', '--name', 'v2', '--port', '0'], /listening on .*:(\d+)\n/, 'backend v2');
  const config = [
    'gateway:', '  listen: 127.0.0.1:0', '  workers: 2',
    'admin:', '  listen: 127.0.0.1:0', `  token: ${TOKEN}`,
    `store: sqlite:${dir}/glidepath.db`,
    'services:',
    '  - name: orders',
    '    match: {path_prefix: /orders}',
    '    versions:',
    '      - name: v1',
    `        upstreams: [127.0.0.1:${v1Port}]`,
    '    live: v1',
    '    deployment:',
    '      evaluation_interval: 1s',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'glidepath.yaml'), config);
  const serve = spawn(binary, ['serve', '-c', path.join(dir, 'glidepath.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push({ child: serve, name: 'serve' });
  let serveOut = '';
  let serveErr = '';
  serve.stdout.on('data', (chunk) => { serveOut += chunk; });
  serve.stderr.on('data', (chunk) => { serveErr += chunk; serve.stderrText = serveErr.slice(0, 20000); });
  const gatewayPort = Number((await waitFor('the gateway to listen', () => /gateway listening on 127\.0\.0\.1:(\d+)/.exec(serveOut), 15000))[1]);
  const adminPort = Number((await waitFor('the admin API to listen', () => /admin listening on 127\.0\.0\.1:(\d+)/.exec(serveOut), 15000))[1]);
  const admin = (method, target, body) => request(adminPort, method, target, body, { Authorization: `Bearer ${TOKEN}` });
  log(`serve: gateway ${gatewayPort}, admin ${adminPort}`);

  // The page's files are public (it asks for the token itself); the API is not.
  const page0 = await request(adminPort, 'GET', '/ui/');
  if (page0.status !== 200 || !page0.text.includes('<title>Glidepath</title>')) fail(`GET /ui/ without a token: ${page0.status}`);
  const api0 = await request(adminPort, 'GET', '/v1/services');
  if (api0.status !== 401) fail(`GET /v1/services without a token answered ${api0.status}, not 401`);
  // The page and everything it loads, as served.
  let uiBytes = page0.text.length;
  for (const [, asset] of page0.text.matchAll(/(?:src|href)="([^"#]+)"/g)) {
    const reply = await request(adminPort, 'GET', `/ui/${asset}`);
    if (reply.status !== 200) fail(`GET /ui/${asset}: ${reply.status}`);
    uiBytes += Buffer.byteLength(reply.text);
  }
  log(`dashboard files: ${uiBytes} bytes`);
  if (uiBytes === 0 || uiBytes > 500 * 1024) fail(`the dashboard's files weigh ${uiBytes} bytes`);

  const load = startLoad(gatewayPort);
  cleanups.push(() => load.stop());
  await waitFor('traffic through v1', () => load.stats.ok > 50);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  let tokenGiven = false;
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // Before the token is given the API answers 401, which is how the page learns it needs
  // one; after that, a 401 would mean the token was not kept or not sent.
  page.on('response', (response) => {
    if (response.status() === 401 && tokenGiven) pageErrors.push(`401 after the token: ${response.url()}`);
  });
  // Chromium logs every refused fetch to the console; 401s are checked above instead.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 401/.test(message.text())) pageErrors.push(message.text());
  });

  await page.goto(`http://127.0.0.1:${adminPort}/ui/`);
  // The admin token is asked for once.
  const tokenInput = page.locator('#token-dialog input[name="token"]');
  await tokenInput.waitFor({ state: 'visible', timeout: 10000 });
  await tokenInput.fill(TOKEN);
  tokenGiven = true;
  await page.locator('#token-dialog button[value="ok"]').click();
  await page.locator('#nav a[data-service="orders"]').waitFor({ timeout: 10000 });
  await page.locator('.service-name', { hasText: 'orders' }).waitFor({ timeout: 10000 });
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10000 });
  log('page: token accepted, service shown, event stream live');
  const stored = await page.evaluate(() => sessionStorage.getItem('glidepath.token'));
  if (stored !== TOKEN) fail('the token was not kept in sessionStorage');

  // A canary: 10%, a short pause, 50% and a long pause (where the test aborts), then 100%.
  const created = await admin('POST', '/v1/services/orders/deployments', {
    version: 'v2',
    upstreams: [`127.0.0.1:${v2Port}`],
    steps: [{ weight: 10 }, { pause: '6s' }, { weight: 50 }, { pause: '10m' }, { weight: 100 }],
    alarms: [{ name: 'canary-errors', metric: 'error_rate', threshold: 0.05 }],
  });
  if (created.status !== 201) fail(`creating the deployment: ${created.status} ${created.text}`);
  const id = created.json.id;
  log(`deployment ${id} created`);

  // Both versions, the timeline with its current step, and the alarm.
  await page.locator('[data-testid="versions"] [data-version="v2"]').waitFor({ timeout: 15000 });
  await page.locator('[data-testid="versions"] [data-version="v1"]').waitFor({ timeout: 5000 });
  await page.locator('[data-testid="timeline"] li[data-step="1"][data-status="current"]').waitFor({ timeout: 15000 });
  const stepCount = await page.locator('[data-testid="timeline"] li').count();
  if (stepCount !== 5) fail(`the timeline shows ${stepCount} steps, not 5`);
  const nextText = await page.locator('[data-testid="next-step"]').textContent();
  if (!/next step in/.test(nextText)) fail(`the countdown says "${nextText}"`);
  await page.locator('[data-testid="alarms"] tr[data-alarm="canary-errors"]').waitFor({ timeout: 5000 });
  log(`timeline: 5 steps, "${nextText}"`);

  // The split moves: first about 10% on v2, then about 50%, as measured second by second.
  const share = async () => {
    const text = await page.locator('[data-testid="split-now"]').textContent();
    const match = /v2 (\d+)%/.exec(text || '');
    return match ? Number(match[1]) : null;
  };
  const early = await waitFor('v2 to get a small share', async () => {
    const s = await share();
    return s !== null && s > 0 && s < 30 ? s : null;
  }, 15000, 250);
  const weightEarly = await page.locator('[data-version="v2"] .weight').textContent();
  await page.locator('[data-testid="timeline"] li[data-step="3"][data-status="current"]').waitFor({ timeout: 20000 });
  const later = await waitFor('v2 to get about half', async () => {
    const s = await share();
    return s !== null && s >= 35 ? s : null;
  }, 20000, 250);
  const weightLater = await page.locator('[data-version="v2"] .weight').textContent();
  log(`split: v2 measured ${early}% then ${later}%; configured ${weightEarly} then ${weightLater}`);
  if (weightEarly.trim() !== '10%' || weightLater.trim() !== '50%') fail(`weights shown: ${weightEarly}, ${weightLater}`);
  // The chart has drawn points for both versions.
  const drawn = await page.locator('[data-testid="split-chart"] canvas').count();
  if (drawn < 1) fail('the split chart has no canvas');

  // Screenshots of the dashboard mid-canary: laptop, then phone.
  await sleep(1500);
  await page.screenshot({ path: path.join(outputDir, 'dashboard.png'), fullPage: true });
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.addInitScript((token) => sessionStorage.setItem('glidepath.token', token), TOKEN);
  const phonePage = await phone.newPage();
  await phonePage.goto(`http://127.0.0.1:${adminPort}/ui/#/services/orders`);
  await phonePage.locator('[data-testid="timeline"] li[data-status="current"]').waitFor({ timeout: 10000 });
  await sleep(1500);
  const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 2) fail(`on a phone the page is ${overflow}px wider than the screen`);
  await phonePage.screenshot({ path: path.join(outputDir, 'dashboard-phone.png'), fullPage: true });
  await phone.close();
  log(`screenshots in ${outputDir}`);

  // Abort: the confirmation first (cancelling it changes nothing), then the rollback.
  await page.locator('button[data-command="abort"]').click();
  await page.locator('#confirm-abort button[value="cancel"]').click();
  const stillRunning = await admin('GET', `/v1/deployments/${id}`);
  if (stillRunning.json.state !== 'shifting') fail(`cancelling the confirmation left state ${stillRunning.json.state}`);
  const abortedAt = Date.now();
  await page.locator('button[data-command="abort"]').click();
  await page.locator('[data-testid="confirm-abort"]').click();
  const finished = await waitFor('the deployment to roll back', async () => {
    const reply = await admin('GET', `/v1/deployments/${id}`);
    return reply.json && reply.json.state === 'rolled_back' ? reply.json : null;
  }, 15000);
  const rollbackMs = Date.now() - abortedAt;
  const service = await admin('GET', '/v1/services/orders');
  const v2 = service.json.versions.find((v) => v.name === 'v2');
  if (v2 && v2.weight !== 0) fail(`after the rollback v2 still has weight ${v2.weight}`);
  if (service.json.live !== 'v1') fail(`after the rollback the live version is ${service.json.live}`);
  await page.locator('[data-testid="deployment-state"][data-state="rolled_back"]').waitFor({ timeout: 10000 });
  if (!finished.events.some((e) => e.type === 'abort')) fail('no abort event was recorded');
  log(`abort: rolled back in ${rollbackMs} ms (admin API state ${finished.state}), page shows it`);

  // A few more seconds of load after the rollback: every request still answered.
  const okBefore = load.stats.ok;
  await waitFor('load after the rollback', () => load.stats.ok > okBefore + 100, 10000);
  await load.stop();
  log(`load: ${load.stats.sent} sent, ${load.stats.ok} ok, ${load.stats.failed} failed, by version ${JSON.stringify(load.stats.byVersion)}`);
  if (load.stats.failed !== 0) fail(`${load.stats.failed} requests failed: ${load.stats.failures.join('; ')}`);
  if (!load.stats.byVersion.v2) fail('no request reached v2 during the canary');

  // The consumers view renders (this config has no keys: anonymous callers).
  await page.locator('#nav a[href="#/consumers"]').click();
  await page.locator('[data-testid="consumers"] h1', { hasText: 'Consumers' }).waitFor({ timeout: 5000 });

  // serve stops cleanly on SIGTERM, with nothing on stderr (a sanitizer report would be).
  await page.close();
  serve.kill('SIGTERM');
  const exit = await new Promise((resolve) => {
    if (serve.exitCode !== null) resolve(serve.exitCode);
    serve.on('exit', (code, signal) => resolve(code ?? signal));
  });
  serve.exited = true;
  if (exit !== 0) fail(`serve exited with ${exit}: ${serveErr}`);
  if (/AddressSanitizer|runtime error|LeakSanitizer/.test(serveErr)) fail(`serve's stderr: ${serveErr}`);

  if (pageErrors.length) fail(`the page reported errors: ${pageErrors.join(' | ')}`);
}

async function cleanup() {
  for (const step of cleanups.reverse()) {
    try { await step(); } catch { /* best effort */ }
  }
  for (const { child } of children) {
    if (!child.exited) child.kill('SIGTERM');
  }
  await Promise.all(children.map(({ child }) => (child.exited ? null : new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5000);
    child.on('exit', () => { clearTimeout(timer); resolve(); });
  }))));
  agent.destroy();
}

const overall = setTimeout(() => {
  process.stderr.write('dashboard_e2e: gave up after 150 s\n');
  for (const { child } of children) child.kill('SIGKILL');
  process.exit(1);
}, 150000);

try {
  await main();
  log('PASS');
} catch (error) {
  failed = true;
  process.stderr.write(`dashboard_e2e: FAIL: ${error.stack || error.message}\n`);
  for (const { child, name } of children) {
    if (child.stderrText) process.stderr.write(`--- ${name} stderr ---\n${child.stderrText}\n`);
  }
} finally {
  await cleanup();
  clearTimeout(overall);
}
process.exit(failed ? 1 : 0);
