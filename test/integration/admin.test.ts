import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, closedPort } from '../helpers/http.js';

const SPEC_METRICS = [
  'outrigger_http_requests_total', 'outrigger_http_request_duration_seconds', 'outrigger_upstream_requests_total',
  'outrigger_upstream_response_seconds', 'outrigger_upstream_in_flight', 'outrigger_backend_up', 'outrigger_backends',
  'outrigger_health_checks_total', 'outrigger_downstream_connections', 'outrigger_downstream_connections_total',
  'outrigger_tunnels', 'outrigger_draining', 'outrigger_build_info', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds',
];

test('/metrics: SPEC metrics in Prometheus text format, seconds, bounded labels', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}` });
  t.after(() => lb.stop());
  await request(lb.proxyPort, '/ping');
  await request(lb.proxyPort, '/ping', { method: 'PROPFIND' });
  const res = await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  for (const name of SPEC_METRICS) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  assert.match(text, /^outrigger_http_requests_total\{method="GET",code="200"\} 1$/m);
  assert.match(text, /^outrigger_http_requests_total\{method="OTHER",code="200"\} 1$/m, 'unknown methods are OTHER');
  assert.match(text, new RegExp(`^outrigger_upstream_requests_total\\{backend="127.0.0.1:${backend.port}",code_class="2xx"\\} 2$`, 'm'));
  assert.match(text, /^outrigger_http_request_duration_seconds_bucket\{le="0.005",method="GET",code_class="2xx"\} /m);
  assert.match(text, /^outrigger_build_info\{version="[^"]+",node_version="v\d+/m);
  assert.match(text, /^outrigger_backends\{state="healthy"\} 1$/m);
});

test('/readyz waits for the first probe round and honours READY_MIN_HEALTHY_BACKENDS; /healthz never depends on backends', async (t) => {
  const dead = await closedPort();
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${dead}`, READY_MIN_HEALTHY_BACKENDS: '1' }, { waitReady: false });
  t.after(() => lb.stop());
  await lb.waitForLog((l) => l.msg === 'first health-check round done');
  const ready = await fetch(`http://127.0.0.1:${lb.adminPort}/readyz`);
  assert.equal(ready.status, 503);
  const body = await ready.json() as { reasons: string[] };
  assert.match(body.reasons.join(), /0 eligible backends, READY_MIN_HEALTHY_BACKENDS needs 1/);
  const live = await fetch(`http://127.0.0.1:${lb.adminPort}/healthz`);
  assert.equal(live.status, 200);
  assert.deepEqual(await live.json(), { status: 'ok' });
});

test('/api/status and drain/enable: 403 without ADMIN_TOKEN, 401 with a wrong token, 404 unknown, drained gets no traffic', async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.after(() => Promise.all([a.close(), b.close()]));
  const off = await startOutrigger({ BACKENDS: `127.0.0.1:${a.port}` });
  t.after(() => off.stop());
  const forbidden = await fetch(`http://127.0.0.1:${off.adminPort}/api/backends/127.0.0.1%3A${a.port}/drain`, { method: 'POST', headers: { authorization: 'Bearer x' } });
  assert.equal(forbidden.status, 403);

  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, ADMIN_TOKEN: 's3cret' });
  t.after(() => lb.stop());
  const url = (id: string, action: string) => `http://127.0.0.1:${lb.adminPort}/api/backends/${encodeURIComponent(id)}/${action}`;
  assert.equal((await fetch(url(`127.0.0.1:${a.port}`, 'drain'), { method: 'POST' })).status, 401);
  assert.equal((await fetch(url(`127.0.0.1:${a.port}`, 'drain'), { method: 'POST', headers: { authorization: 'Bearer nope' } })).status, 401);
  assert.equal((await fetch(url('10.9.9.9:1', 'drain'), { method: 'POST', headers: { authorization: 'Bearer s3cret' } })).status, 404);
  const drained = await fetch(url(`127.0.0.1:${a.port}`, 'drain'), { method: 'POST', headers: { authorization: 'Bearer s3cret' } });
  assert.equal(drained.status, 200);
  assert.equal((await drained.json() as { state: string }).state, 'drained');
  for (let i = 0; i < 6; i++) assert.equal(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']), b.port);
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { config: Record<string, unknown>; backends: Array<{ id: string; state: string; requests: number }> };
  assert.equal(status.config.adminToken, 'set', 'no secrets in status');
  assert.equal(JSON.stringify(status).includes('s3cret'), false);
  assert.deepEqual(status.backends.map((x) => [x.id, x.state]), [[`127.0.0.1:${a.port}`, 'drained'], [`127.0.0.1:${b.port}`, 'healthy']]);
  await lb.waitForLog((l) => l.msg === 'backend drained');
  assert.equal((await fetch(url(`127.0.0.1:${a.port}`, 'enable'), { method: 'POST', headers: { authorization: 'Bearer s3cret' } })).status, 200);
  const seen = new Set<number>();
  for (let i = 0; i < 4; i++) seen.add(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']));
  assert.ok(seen.has(a.port));
});

test('the dashboard is one self-contained page', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}` });
  t.after(() => lb.stop());
  const res = await fetch(`http://127.0.0.1:${lb.adminPort}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<title>Outrigger<\/title>/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external assets');
  assert.match(html, /\/api\/status/);
});

test('a malformed request is answered 400, counted, and never reaches the backend', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const { rawExchange } = await import('../helpers/http.js');
  const out = await rawExchange(lb.proxyPort, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(out, /x-outrigger-error: bad_request/);
  const big = await rawExchange(lb.proxyPort, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(big, /^HTTP\/1\.1 431 /);
  const text = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(text, /^outrigger_http_requests_total\{method="OTHER",code="400"\} 1$/m);
  assert.match(text, /^outrigger_http_requests_total\{method="OTHER",code="431"\} 1$/m);
  assert.doesNotMatch(text, /outrigger_upstream_requests_total\{/, 'nothing reached the backend');
});
