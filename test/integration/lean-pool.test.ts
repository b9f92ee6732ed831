/**
 * The lean engine's keep-alive pool (transport/lean-pool), called directly
 * against a raw backend on loopback that counts its connections: a
 * connection is reused unless the answer closes it, the backend's
 * `Keep-Alive: timeout` leaves too little of it, or the backend is
 * forgotten; an idle connection past UPSTREAM_KEEPALIVE_MS is not written
 * to; `close()` ends connections in flight too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Backend } from '../../src/upstream/backend.js';
import { parseBackendEntry } from '../../src/upstream/backend-address.js';
import { UpstreamPool } from '../../src/transport/pool.js';
import { sendLean } from '../../src/transport/engine-lean.js';
import { contractRequest, runExchange } from '../helpers/contract-run.js';
import { sleep } from '../helpers/http.js';

/** A backend answering every request with `answer(path)`; counts connections and open sockets. */
async function countingBackend(answer: (path: string) => string): Promise<{ port: number; connections: () => number; open: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buffered = '';
    s.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.slice(0, end).split(' ')[1]!;
        buffered = buffered.slice(end + 4);
        s.write(answer(path));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    open: () => sockets.size,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const lean = (b: Backend, pool: UpstreamPool, path: string) =>
  runExchange((bb, p, r, onCall) => sendLean(bb, p.lean, r, onCall, () => Promise.reject(new Error('refused'))), b, pool, contractRequest(path, undefined, []), []);

test('lean pool: reuse, Connection: close, a Keep-Alive timeout too short to use, forget() and close()', async (t) => {
  const server = await countingBackend((path) => {
    if (path === '/close') return 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok';
    if (path === '/short') return 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok';
    if (path === '/hint') return 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2, max=100\r\nContent-Length: 2\r\n\r\nok';
    return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 10_000, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
  const ok = { answer: 200, body: 'ok', trailers: [], informational: [] };

  for (let i = 0; i < 3; i++) assert.deepEqual(await lean(backend, pool, '/plain'), ok);
  assert.equal(server.connections(), 1, 'one connection carried three exchanges');

  assert.deepEqual(await lean(backend, pool, '/close'), ok);
  assert.deepEqual(await lean(backend, pool, '/plain'), ok);
  assert.equal(server.connections(), 2, 'Connection: close: the next exchange opened a new connection');

  assert.deepEqual(await lean(backend, pool, '/short'), ok);
  assert.deepEqual(await lean(backend, pool, '/plain'), ok);
  assert.equal(server.connections(), 3, 'Keep-Alive: timeout=1 leaves nothing after the one-second margin: not reused');

  // timeout=2 leaves one second: reused at once, not after it.
  assert.deepEqual(await lean(backend, pool, '/hint'), ok);
  assert.deepEqual(await lean(backend, pool, '/hint'), ok);
  assert.equal(server.connections(), 3, 'reused within the hint');
  await sleep(1200);
  assert.deepEqual(await lean(backend, pool, '/plain'), ok);
  assert.equal(server.connections(), 4, 'not written to once the hint ran out');

  pool.lean.forget(backend.id);
  for (let i = 0; i < 50 && server.open() > 0; i++) await sleep(20);
  assert.equal(server.open(), 0, 'forget() closed the idle connection');
});

test('lean pool: an idle connection older than UPSTREAM_KEEPALIVE_MS is not written to, and is closed', async (t) => {
  const server = await countingBackend(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 300, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
  await lean(backend, pool, '/a');
  await lean(backend, pool, '/b');
  assert.equal(server.connections(), 1);
  for (let i = 0; i < 100 && server.open() > 0; i++) await sleep(20);
  assert.equal(server.open(), 0, 'the sweeper closed it');
  await lean(backend, pool, '/c');
  assert.equal(server.connections(), 2);
});

test('lean pool: close() ends a connection in flight; the exchange fails', async (t) => {
  const server = await countingBackend(() => 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 10_000, connectTimeoutMs: 1000 });
  const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
  const pending = lean(backend, pool, '/hang');
  for (let i = 0; i < 100 && server.open() === 0; i++) await sleep(10);
  await sleep(50);
  pool.close();
  assert.deepEqual(await pending, { error: 'UpstreamResetError', kind: 'reset', during: 'body' });
  for (let i = 0; i < 100 && server.open() > 0; i++) await sleep(20);
  assert.equal(server.open(), 0);
});

test('lean pool: a reused connection that fails long after the request was written is not sent on again (the backend may have acted)', async (t) => {
  let requests = 0;
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    let n = 0;
    s.on('data', () => {
      requests += 1;
      n += 1;
      if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else setTimeout(() => s.resetAndDestroy(), 400); // a crash while processing
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 10_000, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = new Backend(parseBackendEntry(`127.0.0.1:${(server.address() as net.AddressInfo).port}`), true, Date.now());
  assert.deepEqual(await lean(backend, pool, '/a'), { answer: 200, body: 'ok', trailers: [], informational: [] });
  assert.deepEqual(await lean(backend, pool, '/b'), { error: 'UpstreamResetError', kind: 'reset', during: 'head' });
  assert.equal(requests, 2, 'sent once');
});
