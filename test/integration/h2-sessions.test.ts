/**
 * HTTP/2 sessions to a backend (transport/h2-sessions through the HTTP/2
 * engine), against Node HTTP/2 servers on loopback: streams share one session
 * up to the backend's SETTINGS_MAX_CONCURRENT_STREAMS; a GOAWAY drains a
 * session (streams above its last-stream-id are refused, the others finish);
 * an unanswered PING ends a dead session; idle and forgotten sessions close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { ServerHttp2Stream } from 'node:http2';
import { Backend } from '../../src/upstream/backend.js';
import { parseBackendEntry } from '../../src/upstream/backend-address.js';
import { UpstreamPool } from '../../src/transport/pool.js';
import { sendWithH2 } from '../../src/transport/engine-h2.js';
import { contractRequest, runExchange, type Outcome } from '../helpers/contract-run.js';
import { startH2Backend } from '../helpers/h2-backend.js';
import { pollUntil } from '../helpers/hostile.js';

const backendAt = (port: number) => new Backend(parseBackendEntry(`h2c://127.0.0.1:${port}`), true, Date.now());
const exchange = (backend: Backend, pool: UpstreamPool, path: string, timeoutMs = 5000): Promise<Outcome> =>
  runExchange(sendWithH2, backend, pool, contractRequest(path, { upstreamTimeoutMs: timeoutMs, idleTimeoutMs: timeoutMs }, []), []);
const ok = (body: string): Outcome => ({ answer: 200, body, trailers: [], informational: [] });

/** A backend that holds every stream until `count` are open at once, then answers them all. */
async function holdingBackend(count: number, settings: { maxConcurrentStreams?: number } = {}) {
  const held: ServerHttp2Stream[] = [];
  let most = 0;
  const server = await startH2Backend((stream) => {
    held.push(stream);
    most = Math.max(most, held.filter((s) => !s.closed).length);
    if (held.length < count) return;
    for (const s of held) {
      s.respond({ ':status': 200 });
      s.end(`s${s.id}`);
    }
  }, { settings });
  return { server, mostOpen: () => most };
}

test('50 concurrent exchanges to one backend share one session', { timeout: 20_000 }, async (t) => {
  const { server } = await holdingBackend(50);
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 5000, connectTimeoutMs: 2000 });
  t.after(() => pool.close());
  const backend = backendAt(server.port);
  const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => exchange(backend, pool, `/m${i}`)));
  for (const o of outcomes) assert.equal((o as { answer?: number }).answer, 200, JSON.stringify(o));
  assert.equal(server.sessionsOpened(), 1);
  assert.equal(pool.h2.sessionCount(backend.id), 1);
});

test('with SETTINGS_MAX_CONCURRENT_STREAMS 10, 25 concurrent exchanges open exactly 3 sessions', { timeout: 20_000 }, async (t) => {
  const { server } = await holdingBackend(25, { maxConcurrentStreams: 10 });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 5000, connectTimeoutMs: 2000 });
  t.after(() => pool.close());
  const backend = backendAt(server.port);
  const outcomes = await Promise.all(Array.from({ length: 25 }, (_, i) => exchange(backend, pool, `/c${i}`)));
  for (const o of outcomes) assert.equal((o as { answer?: number }).answer, 200, JSON.stringify(o));
  assert.equal(server.sessionsOpened(), 3);
});

test('GOAWAY: streams up to its last-stream-id finish, later ones are refused, the next exchange opens a new session', { timeout: 20_000 }, async (t) => {
  const held: ServerHttp2Stream[] = [];
  const server = await startH2Backend((stream, headers) => {
    if (String(headers[':path']).startsWith('/after')) {
      stream.respond({ ':status': 200 });
      stream.end('after');
      return;
    }
    held.push(stream);
    if (held.length < 4) return;
    // Streams 1 and 3 were processed; 5 and 7 were not.
    stream.session!.goaway(0, 3);
    setTimeout(() => {
      for (const s of held) {
        if (s.destroyed) continue;
        s.respond({ ':status': 200 });
        s.end(`s${s.id}`);
      }
    }, 50);
  });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 5000, connectTimeoutMs: 2000 });
  t.after(() => pool.close());
  const backend = backendAt(server.port);
  const outcomes = await Promise.all([0, 1, 2, 3].map((i) => exchange(backend, pool, `/g${i}`)));
  const refused: Outcome = { error: 'StreamRefusedError', kind: 'reset', during: 'head' };
  assert.deepEqual(outcomes, [ok('s1'), ok('s3'), refused, refused]);
  assert.deepEqual(await exchange(backend, pool, '/after'), ok('after'));
  assert.equal(server.sessionsOpened(), 2, 'the drained session took no new stream');
});

test('PING keepalive: a backend that stops answering loses its session (a stream in flight: once the PING waited the dead time)', { timeout: 20_000 }, async (t) => {
  const server = await startH2Backend(() => undefined); // holds every stream
  t.after(() => server.close());
  // A relay on the path that goes silent on demand: the backend then answers nothing, not even PINGs.
  let silent = false;
  const pairs: net.Socket[] = [];
  const relay = net.createServer((client) => {
    const upstream = net.connect(server.port, '127.0.0.1');
    pairs.push(client, upstream);
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.on('data', (d) => { if (!silent) upstream.write(d); });
    upstream.on('data', (d) => { if (!silent) client.write(d); });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const s of pairs) s.destroy(); relay.close(); });
  const pool = new UpstreamPool({ keepaliveMs: 300, connectTimeoutMs: 300, pingDeadMs: 1000 });
  t.after(() => pool.close());
  const backend = backendAt((relay.address() as net.AddressInfo).port);
  const started = Date.now();
  const pending = exchange(backend, pool, '/hang', 10_000);
  assert.ok(await pollUntil(() => server.open.size === 1 && pool.h2.sessionCount(backend.id) === 1, 3000), 'a session is up');
  silent = true;
  assert.deepEqual(await pending, { error: 'UpstreamResetError', kind: 'reset', during: 'head' }, 'cut by the dead session, not by the 10 s timeouts');
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  assert.ok(await pollUntil(() => pool.h2.sessionCount(backend.id) === 0, 2000), 'the dead session left the pool');
});

/**
 * An h2c backend answering each stream with its id, behind a relay whose first connection stalls
 * on demand, both ways (a backend whose event loop is busy): bytes wait, none are lost. `wake()`
 * passes on what waited. Later connections (fresh sessions) pass at once.
 */
async function stallingBackend(t: { after(fn: () => unknown): void }) {
  const server = await startH2Backend((stream) => {
    stream.respond({ ':status': 200 });
    stream.end(String(stream.id));
  });
  t.after(() => server.close());
  let stalled = false;
  const queued: Array<() => void> = [];
  let first = true;
  const pairs: net.Socket[] = [];
  const relay = net.createServer((client) => {
    const upstream = net.connect(server.port, '127.0.0.1');
    pairs.push(client, upstream);
    const stalls = first;
    first = false;
    for (const s of [client, upstream]) s.on('error', () => undefined);
    const pass = (to: net.Socket) => (d: Buffer) => (stalls && stalled ? queued.push(() => to.write(d)) : to.write(d));
    client.on('data', pass(upstream));
    upstream.on('data', pass(client));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const s of pairs) s.destroy(); relay.close(); });
  const pool = new UpstreamPool({ keepaliveMs: 300, connectTimeoutMs: 300, pingDeadMs: 10_000 });
  t.after(() => pool.close());
  return {
    server, pool, backend: backendAt((relay.address() as net.AddressInfo).port),
    stall: () => (stalled = true),
    wake: () => {
      stalled = false;
      for (const flush of queued.splice(0)) flush();
    },
  };
}

test('PING keepalive: a backend busy longer than CONNECT_TIMEOUT_MS keeps its stream in flight (answered once it wakes); new streams meanwhile go to a fresh session', { timeout: 20_000 }, async (t) => {
  const { pool, backend, stall, wake } = await stallingBackend(t);
  assert.deepEqual(await exchange(backend, pool, '/warm'), ok('1'));
  stall();
  const inFlight = exchange(backend, pool, '/busy', 10_000);
  await new Promise((r) => setTimeout(r, 1500)); // a PING sent and unanswered past CONNECT_TIMEOUT_MS
  assert.deepEqual(await exchange(backend, pool, '/meanwhile', 3000), ok('1'), 'a new stream went to a fresh session (its first stream)');
  wake();
  assert.deepEqual(await inFlight, ok('3'), 'the stream in flight was answered, not reset');
});

test('PING keepalive: a session drained for a late PING takes streams again once the answer comes (no new session)', { timeout: 20_000 }, async (t) => {
  const { server, pool, backend, stall, wake } = await stallingBackend(t);
  assert.deepEqual(await exchange(backend, pool, '/warm'), ok('1'));
  stall();
  const inFlight = exchange(backend, pool, '/busy', 10_000);
  await new Promise((r) => setTimeout(r, 1200)); // the PING unanswered: drained
  wake();
  assert.deepEqual(await inFlight, ok('3'));
  await new Promise((r) => setTimeout(r, 100)); // the PING's answer is in
  assert.deepEqual(await exchange(backend, pool, '/after'), ok('5'), 'the next stream on the same session');
  assert.equal(server.sessionsOpened(), 1);
});

test('a session idle for UPSTREAM_KEEPALIVE_MS closes; forget() closes a backend\'s sessions', { timeout: 20_000 }, async (t) => {
  const server = await startH2Backend((stream) => {
    stream.respond({ ':status': 200 });
    stream.end('x');
  });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 300, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = backendAt(server.port);
  assert.deepEqual(await exchange(backend, pool, '/1'), ok('x'));
  assert.equal(server.open.size, 1);
  // Closed on both ends: the pool counts a session until its own side has seen the close.
  assert.ok(await pollUntil(() => server.open.size === 0 && pool.h2.sessionCount(backend.id) === 0, 3000), 'the idle session was closed');

  const longPool = new UpstreamPool({ keepaliveMs: 60_000, connectTimeoutMs: 1000 });
  t.after(() => longPool.close());
  assert.deepEqual(await exchange(backend, longPool, '/2'), ok('x'));
  assert.equal(server.open.size, 1);
  longPool.forget(backend.id);
  assert.ok(await pollUntil(() => server.open.size === 0, 3000), 'forget() closed the session');
});
