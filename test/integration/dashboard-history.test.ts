import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend } from '../helpers/http.js';
import type { HistoryJson } from '../../src/admin/history.js';

test('GET /api/history: the sampled rates, latency and states of the real proxy; GET only', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, ADMIN_HISTORY_INTERVAL_MS: '100', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const url = `http://127.0.0.1:${lb.adminPort}/api/history`;
  let history: HistoryJson | undefined;
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 400 && Date.now() < deadline; i++) {
    await request(lb.proxyPort, '/delay?ms=20');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    history = await res.json() as HistoryJson;
    if (history.requestsPerSecond.some((v) => v !== null && v > 0) && history.latencyMs.p50.some((v) => v !== null)) break;
  }
  assert.ok(history !== undefined);
  assert.equal(history.intervalMs, 100);
  assert.equal(history.slots, 180);
  assert.ok(history.t.length >= 1 && history.t.length <= 180);
  assert.ok(history.requestsPerSecond.some((v) => v !== null && v > 0), 'a request rate was sampled');
  const p50 = history.latencyMs.p50.find((v) => v !== null)!;
  assert.ok(p50 >= 10 && p50 <= 1000, `p50 of /delay?ms=20 is ${p50} ms`);
  assert.deepEqual(history.backends.map((b) => b.id), [`127.0.0.1:${backend.port}`]);
  assert.equal(history.backends[0]!.state.at(-1), 'healthy');
  assert.ok(history.backends[0]!.requestsPerSecond.some((v) => v !== null && v > 0));
  // ?since=: only what came after (the page polls that way); a bad value is ignored.
  const last = history.t.at(-1)!;
  const newer = await (await fetch(`${url}?since=${last}`)).json() as HistoryJson;
  assert.ok(newer.t.every((t) => t > last));
  assert.equal(newer.backends.length, 1);
  assert.equal(newer.backends[0]!.requestsPerSecond.length, newer.t.length);
  const all = await (await fetch(`${url}?since=soon`)).json() as HistoryJson;
  assert.ok(all.t.length >= history.t.length);
  const post = await fetch(url, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});
