import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import http from 'node:http';
import { request, startBackend, startServer, closedPort } from '../helpers/http.js';

test('a backend that never answers → 504 upstream_timeout after UPSTREAM_TIMEOUT_MS, not retried', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, UPSTREAM_TIMEOUT_MS: '300' });
  t.after(() => lb.stop());
  const started = performance.now();
  const r = await request(lb.proxyPort, '/hang');
  const elapsed = performance.now() - started;
  assert.equal(r.status, 504);
  assert.equal(r.headers['x-outrigger-error'], 'upstream_timeout');
  assert.ok(elapsed >= 290 && elapsed < 2000, `answered after ${elapsed.toFixed(0)} ms`);
  const log = await lb.waitForLog((l) => l.msg === 'request' && l.status === 504);
  assert.equal(log.attempts, 1);
});

test('connection refused → 502 connect_failed (health checks off, single backend)', async (t) => {
  const port = await closedPort();
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const r = await request(lb.proxyPort, '/ping');
  assert.equal(r.status, 502);
  assert.equal(r.headers['x-outrigger-error'], 'connect_failed');
  assert.match(r.text, /^connect_failed: /);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`outrigger_upstream_errors_total\\{backend="127.0.0.1:${port}",kind="connect_refused"\\} 1`));
});

test('a connect failure is retried on another backend, for any method', async (t) => {
  const port = await closedPort();
  const good = await startBackend();
  t.after(() => good.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port},127.0.0.1:${good.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  for (let i = 0; i < 4; i++) {
    const r = await request(lb.proxyPort, '/echo', { method: 'POST', body: 'hello' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).bodyBytes, 5);
  }
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /outrigger_retries_total\{reason="connect_failed"\} 2/);
});

test('a reset before the response: 502 upstream_reset for POST (not retried), retried for GET', async (t) => {
  // One backend that resets every connection after reading the head, one that works.
  const resetter = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
  await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', () => r()));
  const good = await startBackend();
  t.after(() => { resetter.close(); return good.close(); });
  const resetPort = (resetter.address() as net.AddressInfo).port;
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${resetPort},127.0.0.1:${good.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  t.after(() => lb.stop());
  // Round robin starts with the resetter.
  const post = await request(lb.proxyPort, '/echo', { method: 'POST', body: 'x' });
  assert.equal(post.status, 502);
  assert.equal(post.headers['x-outrigger-error'], 'upstream_reset');
  await request(lb.proxyPort, '/ping'); // the good one, to line round robin up with the resetter again
  const get = await request(lb.proxyPort, '/ping');
  assert.equal(get.status, 200);
  const log = await lb.waitForLog((l) => l.msg === 'request' && l.attempts === 2);
  assert.equal(log.backend, `127.0.0.1:${good.port}`);
});

test('a 503 answer is retried for GET on another backend; a backend 500 is relayed unchanged', async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.after(() => Promise.all([a.close(), b.close()]));
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  t.after(() => lb.stop());
  const r503 = await request(lb.proxyPort, '/status?code=503');
  // Both backends answer 503 to this path: after one retry the last answer is relayed as is.
  assert.equal(r503.status, 503);
  assert.equal(r503.headers['x-outrigger-error'], undefined);
  const log = await lb.waitForLog((l) => l.msg === 'request' && l.status === 503);
  assert.equal(log.attempts, 2);
  const r500 = await request(lb.proxyPort, '/status?code=500');
  assert.equal(r500.status, 500);
  assert.equal(r500.headers['x-outrigger-error'], undefined);
  assert.match(r500.text, /^status 500 from :/);
});

test('outlier detection ejects a backend after consecutive 5xx and logs it', async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.after(() => Promise.all([a.close(), b.close()]));
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none',
    OUTLIER_CONSECUTIVE_FAILURES: '3', OUTLIER_EJECTION_MS: '60000', RETRIES: '0', ACCESS_LOG: 'false',
  });
  t.after(() => lb.stop());
  for (let i = 0; i < 6; i++) await request(lb.proxyPort, '/status?code=500');
  const ejected = await lb.waitForLog((l) => l.msg === 'backend ejected');
  assert.equal(ejected.durationMs, 60000);
  // With 2 backends and the default 50 % cap, only one is ejected.
  assert.equal(lb.logs.filter((l) => l.msg === 'backend ejected').length, 1);
  const others = new Set<number>();
  for (let i = 0; i < 4; i++) others.add(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']));
  assert.equal(others.size, 1);
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { backends: Array<{ state: string }> };
  assert.deepEqual(status.backends.map((x) => x.state).sort(), ['ejected', 'healthy']);
});

test('a PUT answered 503 is retried on another backend with its whole body, replayed (undici carries it both times)', async (t) => {
  const body = Buffer.alloc(40 * 1024, 'b');
  const seen: Array<{ port: number; host: string; bytes: number }> = [];
  const answer = (status: number) => async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let bytes = 0;
    for await (const chunk of req) bytes += (chunk as Buffer).length;
    seen.push({ port: req.socket.localPort ?? 0, host: req.rawHeaders[0]!, bytes });
    res.writeHead(status).end(`${bytes}`);
  };
  const a = await startServer((req, res) => void answer(503)(req, res));
  const b = await startServer((req, res) => void answer(200)(req, res));
  t.after(() => Promise.all([a.close(), b.close()]));
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0', RETRIES: '1' });
  t.after(() => lb.stop());
  const r = await request(lb.proxyPort, '/put', { method: 'PUT', body });
  assert.equal(`${r.status} ${r.text}`, `200 ${body.length}`);
  assert.deepEqual(seen, [
    { port: a.port, host: 'host', bytes: body.length },
    { port: b.port, host: 'host', bytes: body.length },
  ], 'both backends got the whole body, through undici');
  const log = await lb.waitForLog((l) => l.msg === 'request' && l.status === 200);
  assert.equal(log.attempts, 2);
});
