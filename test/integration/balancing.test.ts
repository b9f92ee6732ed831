import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend } from '../helpers/http.js';

test('round-robin: 60 requests over weights 1:3:2 give exactly 10/30/20, interleaved', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const [a, b, c] = backends.map((x) => x.port);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${a};weight=1,127.0.0.1:${b};weight=3,127.0.0.1:${c};weight=2`, ACCESS_LOG: 'false' });
  t.after(() => lb.stop());

  const order: number[] = [];
  for (let i = 0; i < 60; i++) {
    const reply = await request(lb.proxyPort, '/ping');
    assert.equal(reply.status, 200);
    order.push(Number(reply.headers['x-backend']));
  }
  const count = (p: number) => order.filter((x) => x === p).length;
  assert.deepEqual([count(a!), count(b!), count(c!)], [10, 30, 20]);
  // NGINX smooth weighted round robin: B C A B C B, repeated; never three B in a row.
  assert.deepEqual(order.slice(0, 6), [b, c, a, b, c, b]);
  assert.deepEqual(order.slice(6, 12), order.slice(0, 6));
});

test('least-connections: a backend holding slow requests gets the next ones less', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend()]);
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const [slow, fast] = backends.map((x) => x.port);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${slow},127.0.0.1:${fast}`, LB_ALGORITHM: 'least-connections', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  // Occupy one backend: the first idle pick goes to `slow` (tie → smooth round robin picks the first).
  const pending = request(lb.proxyPort, '/delay?ms=800');
  await new Promise((r) => setTimeout(r, 100));
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) seen.push(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']));
  const held = Number((await pending).headers['x-backend']);
  assert.ok(seen.every((p) => p !== held), `requests went to the busy backend ${held}: ${seen.join(',')}`);
});
