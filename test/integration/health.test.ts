import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, sleep } from '../helpers/http.js';

test('a killed backend gets nothing after UNHEALTHY_THRESHOLD × interval and returns after restart', async (t) => {
  const keep = await startBackend();
  let victim = await startBackend();
  const victimPort = victim.port;
  t.after(async () => {
    await keep.close();
    await victim.close();
  });
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${keep.port},127.0.0.1:${victimPort}`,
    HEALTH_CHECK_INTERVAL_MS: '100', UNHEALTHY_THRESHOLD: '2', HEALTHY_THRESHOLD: '2', ACCESS_LOG: 'false',
    OUTLIER_CONSECUTIVE_FAILURES: '0', RETRIES: '0',
  });
  t.after(() => lb.stop());

  await victim.close();
  const down = await lb.waitForLog((l) => l.msg === 'backend unhealthy' && l.backend === `127.0.0.1:${victimPort}`, 2000);
  const after: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await request(lb.proxyPort, '/ping');
    assert.equal(r.status, 200, 'the healthy backend answers every request');
    after.push(Number(r.headers['x-backend']));
  }
  assert.ok(after.every((p) => p === keep.port), 'the dead backend receives nothing');

  victim = await startBackend(victimPort);
  await lb.waitForLog((l) => l.msg === 'backend healthy' && l.backend === `127.0.0.1:${victimPort}` && lb.logs.indexOf(l) > lb.logs.indexOf(down), 3000);
  const back: number[] = [];
  for (let i = 0; i < 10; i++) back.push(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']));
  assert.ok(back.includes(victimPort), 'the restarted backend gets traffic again');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`outrigger_health_checks_total\\{backend="127.0.0.1:${victimPort}",result="failure"\\} [1-9]`));
  assert.match(metrics, new RegExp(`outrigger_backend_up\\{backend="127.0.0.1:${victimPort}"\\} 1`));
});

test('no healthy backend: 503 no_healthy_backend at once', async (t) => {
  const backend = await startBackend();
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_INTERVAL_MS: '100', UNHEALTHY_THRESHOLD: '1' });
  t.after(() => lb.stop());
  await backend.close();
  await lb.waitForLog((l) => l.msg === 'backend unhealthy', 2000);
  const started = performance.now();
  const r = await request(lb.proxyPort, '/ping');
  const elapsed = performance.now() - started;
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-outrigger-error'], 'no_healthy_backend');
  assert.ok(elapsed < 100, `answered in ${elapsed.toFixed(1)} ms`);
  await sleep(10);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /outrigger_proxy_errors_total\{kind="no_healthy_backend"\} 1/);
});

test('http health checks: a backend whose /health fails is taken out, and put back when it passes', async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.after(() => Promise.all([a.close(), b.close()]));
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'http', HEALTH_CHECK_PATH: '/health',
    HEALTH_CHECK_INTERVAL_MS: '100', UNHEALTHY_THRESHOLD: '2', HEALTHY_THRESHOLD: '2', ACCESS_LOG: 'false',
  });
  t.after(() => lb.stop());
  await request(b.port, '/health/fail', { method: 'POST' });
  await lb.waitForLog((l) => l.msg === 'backend unhealthy' && l.backend === `127.0.0.1:${b.port}`, 2000);
  for (let i = 0; i < 6; i++) assert.equal(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']), a.port);
  await request(b.port, '/health/ok', { method: 'POST' });
  await lb.waitForLog((l) => l.msg === 'backend healthy' && l.backend === `127.0.0.1:${b.port}` && lb.logs.indexOf(l) > lb.logs.findIndex((x) => x.msg === 'backend unhealthy'), 2000);
  const seen = new Set<number>();
  for (let i = 0; i < 6; i++) seen.add(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']));
  assert.ok(seen.has(b.port));
});
