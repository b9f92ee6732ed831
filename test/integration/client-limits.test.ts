import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, startServer } from '../helpers/http.js';

test('slowloris: a client that does not finish its head within CLIENT_HEADERS_TIMEOUT_MS gets 408 and is closed', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', CLIENT_HEADERS_TIMEOUT_MS: '300' });
  t.after(() => lb.stop());
  const started = Date.now();
  const out = await new Promise<string>((resolve) => {
    const s = net.connect(lb.proxyPort, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('close', () => resolve(text));
    s.on('error', () => undefined);
    setTimeout(() => s.destroy(), 5000);
  });
  assert.match(out, /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - started < 3000);
});

test('backend connections are pooled and reused across requests', async (t) => {
  let connections = 0;
  const origin = await startServer((_req, res) => res.end('ok'));
  origin.server.on('connection', () => (connections += 1));
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  for (let i = 0; i < 20; i++) assert.equal((await request(lb.proxyPort, '/')).status, 200);
  assert.equal(connections, 1, 'one pooled connection served 20 sequential requests');
});

test('MAX_REQUESTS_PER_BACKEND: when every backend is full, 503 overloaded at once', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', MAX_REQUESTS_PER_BACKEND: '1' });
  t.after(() => lb.stop());
  const slow = request(lb.proxyPort, '/delay?ms=500');
  await new Promise((r) => setTimeout(r, 100));
  const r = await request(lb.proxyPort, '/ping');
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-outrigger-error'], 'overloaded');
  assert.equal((await slow).status, 200);
});

test('hash on a header keeps a key on one backend', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const lb = await startOutrigger({ BACKENDS: backends.map((b) => `127.0.0.1:${b.port}`).join(','), LB_ALGORITHM: 'hash', HASH_KEY: 'header:x-user', HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const seenPerUser = new Map<string, Set<string>>();
  for (let i = 0; i < 40; i++) {
    const user = `user-${i % 8}`;
    const r = await request(lb.proxyPort, '/ping', { headers: { 'x-user': user } });
    if (!seenPerUser.has(user)) seenPerUser.set(user, new Set());
    seenPerUser.get(user)!.add(String(r.headers['x-backend']));
  }
  for (const [user, set] of seenPerUser) assert.equal(set.size, 1, `${user} stayed on one backend`);
  assert.ok(new Set([...seenPerUser.values()].map((s) => [...s][0])).size > 1, 'keys spread over backends');
});
