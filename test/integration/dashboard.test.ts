/**
 * The dashboard in real Chromium (playwright-core driving Debian's
 * /usr/bin/chromium): live charts from /api/history, a killed backend turns
 * red, drain/enable with the admin token, no horizontal overflow at 1280×800
 * and on a phone. Writes docs/images/dashboard-{desktop,phone}.png.
 */
/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser; DOM types for them only.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startOutrigger, ROOT } from '../helpers/outrigger.js';
import { request, startBackend, type TestBackend } from '../helpers/http.js';
import type { HistoryJson } from '../../src/admin/history.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TOKEN = 'dashboard-test-token';
const WAIT = { timeout: 30_000 };
const missing = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: install Debian's chromium (apt-get install chromium) to run the dashboard browser test`;

/** A fresh profile per browser; removed when the test ends. */
async function browser(t: { after(fn: () => unknown): void }, options: Parameters<typeof chromium.launchPersistentContext>[1]): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'outrigger-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, ...options });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** Bounded background traffic: at most `count` requests, stopped early by stop(). */
function traffic(port: number, count: number): { stop(): Promise<void> } {
  let stopped = false;
  const run = (async () => {
    for (let i = 0; i < count && !stopped; i++) {
      // Now and then a request whose every attempt the backend resets: an error answer and upstream errors.
      const path = i % 40 === 20 ? '/close' : i % 3 === 0 ? `/delay?ms=${5 + (i % 20)}` : '/ping';
      await request(port, path, { timeoutMs: 3000 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return { stop: async () => { stopped = true; await run; } };
}

/** The page's width: no wider than the viewport (a phone would otherwise widen its layout viewport to fit). */
const pageWidth = (page: Page) => page.evaluate(() => Math.max(document.documentElement.scrollWidth, window.innerWidth));
const pillOf = (page: Page, id: string) => page.locator(`tr[data-backend="${id}"] .pill`);
const rowButton = (page: Page, id: string) => page.locator(`tr[data-backend="${id}"] button`);

test('the dashboard in Chromium: live charts, a dead backend turns red, drain/enable with the token, desktop and phone', { skip: missing && process.env.CI !== 'true' ? missing : false, timeout: 180_000 }, async (t) => {
  assert.equal(missing, false, `CI must install chromium: ${String(missing)}`);
  const backends: TestBackend[] = await Promise.all([startBackend(), startBackend(), startBackend()]);
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const ids = backends.map((b) => `127.0.0.1:${b.port}`);
  const lb = await startOutrigger({ BACKENDS: ids.join(','), ADMIN_TOKEN: TOKEN, ADMIN_HISTORY_INTERVAL_MS: '250', UNHEALTHY_THRESHOLD: '1', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const load = traffic(lb.proxyPort, 4000);
  t.after(() => load.stop());
  const admin = `http://127.0.0.1:${lb.adminPort}/`;

  const desktop = await browser(t, { viewport: { width: 1280, height: 800 } });
  const page = await desktop.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(admin);
  assert.equal(await page.title(), 'Outrigger');
  // Charts fill in from /api/history: a line of several points for the clients' rate, the latency and each backend.
  await page.waitForFunction(() => {
    const points = (sel: string) => Number(document.querySelector(sel)?.getAttribute('data-points') ?? 0);
    return points('svg[data-chart="rate"] path[data-series="clients"]') >= 4 && points('svg[data-chart="latency"] path[data-series="p99"]') >= 4;
  }, undefined, WAIT);
  for (const id of ids) {
    const d = await page.locator(`svg[data-chart="rate"] path[data-series="${id}"]`).getAttribute('d');
    assert.match(d ?? '', /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){2,}/, `rate line of ${id}`);
  }
  assert.match(await page.locator('#k-rate').innerText(), /^[\d.]+k?\/s$/);
  assert.notEqual(await page.locator('#k-rate').innerText(), '0/s', 'the KPI shows the traffic');
  await page.waitForSelector(`svg[data-backend="${ids[0]}"] rect[data-state="healthy"]`, WAIT);
  assert.equal(await page.locator('#rows tr').count(), 3);

  // A killed backend: its state pill turns red, then its timeline shows the unhealthy stretch.
  await backends[2]!.close();
  await page.waitForFunction((id) => document.querySelector(`tr[data-backend="${id}"] .pill`)?.textContent === 'unhealthy', ids[2], WAIT);
  assert.equal(await pillOf(page, ids[2]!).evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(220, 38, 38)');
  await page.waitForSelector(`svg[data-backend="${ids[2]}"] rect[data-state="unhealthy"]`, WAIT);

  // Drain: a wrong token is refused (shown on the page), the right one drains; enable brings it back.
  await page.fill('#token', 'wrong');
  await page.dispatchEvent('#token', 'change');
  await rowButton(page, ids[0]!).click();
  await page.waitForFunction(() => /401/.test(document.getElementById('err')?.textContent ?? ''), undefined, WAIT);
  await page.fill('#token', TOKEN);
  await page.dispatchEvent('#token', 'change');
  await rowButton(page, ids[0]!).click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-backend="${id}"] .pill`)?.textContent === 'drained', ids[0], WAIT);
  const status = await (await fetch(`${admin}api/status`)).json() as { backends: Array<{ id: string; state: string }> };
  assert.equal(status.backends.find((b) => b.id === ids[0])?.state, 'drained');
  await page.waitForSelector(`svg[data-backend="${ids[0]}"] rect[data-state="drained"]`, WAIT);
  assert.equal(await rowButton(page, ids[0]!).innerText(), 'enable');
  await rowButton(page, ids[0]!).click();
  await page.waitForFunction((id) => document.querySelector(`tr[data-backend="${id}"] .pill`)?.textContent === 'healthy', ids[0], WAIT);
  // Errors by kind: the resets of /close, as the clients' answers and as the backends' attempts.
  for (const series of ['upstream_reset', 'backend reset']) {
    await page.waitForSelector(`svg[data-chart="errors"] path[data-series="${series}"]`, { ...WAIT, state: 'attached' });
  }

  // The page polls only for the samples it lacks (?since=) and appends them: what it holds is the server's history.
  await page.waitForFunction(() => Number(document.querySelector('svg[data-chart="rate"] path[data-series="clients"]')?.getAttribute('data-points') ?? 0) >= 24, undefined, WAIT);
  const held = await page.evaluate('({ t: history.t, rate: history.requestsPerSecond, states: history.backends.map((b) => b.state) })') as { t: number[]; rate: Array<number | null>; states: Array<Array<string | null>> };
  const server = await (await fetch(`${admin}api/history`)).json() as HistoryJson;
  const from = server.t.indexOf(held.t[0]!);
  assert.ok(from >= 0, 'the page starts at a sample the server holds');
  const upto = from + held.t.length;
  assert.deepEqual(held.t, server.t.slice(from, upto));
  assert.deepEqual(held.rate, server.requestsPerSecond.slice(from, upto));
  assert.deepEqual(held.states, server.backends.map((b) => b.state.slice(from, upto)));
  // The page keeps at most `slots` samples, and a backend new to it has none before it came.
  const merged = await page.evaluate(`(() => {
    const h = (t, ids) => ({ intervalMs: 1, slots: 3, t, requestsPerSecond: t, latencyMs: { p50: t, p99: t }, errorsPerSecond: { proxy: { reset: t }, upstream: {} },
      retriesPerSecond: t, retryBudgetExhaustedPerSecond: t, retryBudgetUsedPercent: t, inFlight: t, backends: ids.map((id) => ({ id, requestsPerSecond: t, latencyMs: { p50: t, p99: t }, inFlight: t, state: t })) });
    const m = mergeHistory(h([1, 2], ['a']), Object.assign(h([3, 4], ['a', 'b']), { errorsPerSecond: { proxy: { reset: [3, 4], timeout: [3, 4] }, upstream: {} } }));
    return { t: m.t, p99: m.latencyMs.p99, timeout: m.errorsPerSecond.proxy.timeout, a: m.backends[0].state, b: m.backends[1].requestsPerSecond, ids: m.backends.map((x) => x.id) };
  })()`);
  assert.deepEqual(merged, { t: [2, 3, 4], p99: [2, 3, 4], timeout: [0, 3, 4], a: [2, 3, 4], b: [null, 3, 4], ids: ['a', 'b'] });

  assert.equal(await pageWidth(page), 1280, 'no horizontal overflow at 1280×800');
  mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
  await page.screenshot({ path: join(ROOT, 'docs/images/dashboard-desktop.png'), fullPage: true });

  const phone = await browser(t, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  small.on('pageerror', (e) => errors.push(String(e)));
  await small.goto(admin);
  await small.waitForFunction(() => Number(document.querySelector('svg[data-chart="rate"] path[data-series="clients"]')?.getAttribute('data-points') ?? 0) >= 4, undefined, WAIT);
  await small.waitForSelector(`svg[data-backend="${ids[2]}"] rect[data-state="unhealthy"]`, WAIT);
  await small.waitForSelector(`tr[data-backend="${ids[0]}"] .pill`, WAIT);
  assert.equal(await pageWidth(small), 390, 'no horizontal overflow at 390×844');
  const width = await small.locator('svg[data-chart="rate"]').evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(width > 300 && width <= 390, `the chart fits the phone (${width} px)`);
  await small.screenshot({ path: join(ROOT, 'docs/images/dashboard-phone.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no script errors in the page');
});
