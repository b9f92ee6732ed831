import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { makePkiSync } from '../helpers/certs.js';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, sleep } from '../helpers/http.js';

interface LoadResult { ok: number; okAfter: number; lost: string[]; movedAway: number }

/**
 * 20 keep-alive clients send requests back to back, each on its own
 * connection. Kubernetes removes the pod's endpoint some time after SIGTERM
 * (within SHUTDOWN_DELAY_MS, which exists for exactly this): from
 * `endpointRemoved()` on, a client whose connection was closed opens no new
 * one here (it would go to another pod), while open keep-alive connections go
 * on sending. A request is lost when it was sent and got an error or a non-2xx
 * answer. Bounded: at most `maxMs` and `maxRequests` per client.
 */
function load(port: number, clients: number, maxMs: number, maxRequests: number, endpointRemoved: () => boolean, signalled: () => boolean): { done: Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, okAfter: 0, lost: [], movedAway: 0 };
  const deadline = Date.now() + maxMs;
  const one = (agent: http.Agent) => new Promise<{ outcome: string; closed: boolean }>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/delay?ms=5', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ outcome: res.statusCode === 200 ? 'ok' : `status ${res.statusCode} ${res.headers['x-outrigger-error'] ?? ''}`, closed: res.headers.connection === 'close' }));
      res.on('error', (e) => resolve({ outcome: `response error ${e.message}`, closed: true }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ outcome: `request error ${e.code ?? e.message}`, closed: true }));
  });
  const client = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let connected = false;
    for (let i = 0; i < maxRequests && Date.now() < deadline; i++) {
      if (!connected && endpointRemoved()) { result.movedAway += 1; break; }
      const { outcome, closed } = await one(agent);
      connected = !closed;
      if (outcome === 'ok') {
        result.ok += 1;
        if (signalled()) result.okAfter += 1;
      } else {
        result.lost.push(outcome);
      }
    }
    agent.destroy();
  };
  return { done: Promise.all(Array.from({ length: clients }, client)).then(() => result) };
}

test('SIGTERM under load from 20 keep-alive clients: zero lost requests, readiness 503 at once, exit 0 in time', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend()]);
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const delayMs = 600;
  const drainMs = 3000;
  const lb = await startOutrigger({
    BACKENDS: backends.map((b) => `127.0.0.1:${b.port}`).join(','),
    SHUTDOWN_DELAY_MS: String(delayMs), DRAIN_TIMEOUT_MS: String(drainMs), ACCESS_LOG: 'false',
  });
  t.after(() => lb.stop('SIGKILL'));

  let signalledAt = Infinity;
  const traffic = load(lb.proxyPort, 20, 10_000, 5000, () => Date.now() >= signalledAt + delayMs / 2, () => Date.now() >= signalledAt);
  await sleep(300);
  // A long request that is still in flight when the listener closes must complete.
  const long = request(lb.proxyPort, `/delay?ms=${delayMs + 500}`, { timeoutMs: 8000 });
  await sleep(50);
  const signalled = Date.now();
  signalledAt = signalled;
  lb.child.kill('SIGTERM');

  await lb.waitForLog((l) => l.msg === 'shutdown: draining, readiness now 503', 1000);
  const ready = await fetch(`http://127.0.0.1:${lb.adminPort}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(JSON.stringify(await ready.json()), /draining/);
  const live = await fetch(`http://127.0.0.1:${lb.adminPort}/healthz`);
  assert.equal(live.status, 200);
  assert.match(await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text(), /^outrigger_draining 1$/m);
  // During the delay, answers are normal but carry Connection: close.
  const during = await request(lb.proxyPort, '/ping');
  assert.equal(during.status, 200);
  assert.equal(during.headers.connection, 'close');

  const code = await lb.exited;
  const tookMs = Date.now() - signalled;
  const result = await traffic.done;
  const longReply = await long;
  assert.equal(code, 0);
  assert.ok(tookMs < delayMs + drainMs + 1000, `exited after ${tookMs} ms`);
  assert.equal(longReply.status, 200, 'the in-flight request finished during the drain');
  assert.deepEqual(result.lost, [], `lost ${result.lost.length} of ${result.ok + result.lost.length}`);
  assert.ok(result.ok >= 20 && result.okAfter > 0, `load ran before and after SIGTERM (${result.ok} ok, ${result.okAfter} after the signal)`);
  assert.equal(result.movedAway, 20, 'every client was sent away by Connection: close');
  assert.ok(lb.logs.some((l) => l.msg === 'shutdown: complete'));
  // After the listener closed, a new connection is refused at once (no hang).
  await assert.rejects(request(lb.proxyPort, '/ping', { timeoutMs: 1000 }), /ECONNREFUSED/);
});

test('a second SIGTERM skips the waits', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, SHUTDOWN_DELAY_MS: '30000', DRAIN_TIMEOUT_MS: '30000' });
  t.after(() => lb.stop('SIGKILL'));
  const hanging = request(lb.proxyPort, '/hang', { timeoutMs: 10_000 }).catch((e: Error) => e);
  await sleep(100);
  const started = Date.now();
  lb.child.kill('SIGTERM');
  await lb.waitForLog((l) => l.msg === 'shutdown: draining, readiness now 503');
  lb.child.kill('SIGTERM');
  const code = await lb.exited;
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 3000, 'did not wait for SHUTDOWN_DELAY_MS or DRAIN_TIMEOUT_MS');
  assert.ok((await hanging) instanceof Error, 'the hanging request was cut');
});

test('drain timeout: work still running after DRAIN_TIMEOUT_MS is closed and the process exits 0', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, SHUTDOWN_DELAY_MS: '0', DRAIN_TIMEOUT_MS: '300', UPSTREAM_TIMEOUT_MS: '0' });
  t.after(() => lb.stop('SIGKILL'));
  const hanging = request(lb.proxyPort, '/hang', { timeoutMs: 10_000 }).catch((e: Error) => e);
  await sleep(100);
  const started = Date.now();
  lb.child.kill('SIGTERM');
  assert.equal(await lb.exited, 0);
  const took = Date.now() - started;
  assert.ok(took >= 280 && took < 3000, `exited after ${took} ms`);
  assert.ok((await hanging) instanceof Error);
  assert.ok(lb.logs.some((l) => l.msg === 'shutdown: closing what is still in flight'));
  // The request cut there still gets its access line, before the process exits.
  const line = lb.logs.find((l) => l.msg === 'request' && l.path === '/hang');
  assert.ok(line !== undefined, 'the cut request is logged');
  assert.deepEqual([line.status, line.aborted], [499, true]);
});

for (const mode of ['plain text', 'HTTP2=false', 'TLS, handshake after', 'TLS, handshake before'] as const) {
  test(`${mode}: a connection accepted before listening stops whose request comes after it: the request is served with Connection: close; it was counted once; exit 0`, async (t) => {
    const backend = await startBackend();
    t.after(() => backend.close());
    const pki = mode.startsWith('TLS') ? makePkiSync() : undefined;
    t.after(() => pki?.close());
    const lb = await startOutrigger({
      BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '200', DRAIN_TIMEOUT_MS: '10000',
      ...(mode === 'HTTP2=false' ? { HTTP2: 'false' } : {}),
      ...(pki === undefined ? {} : { TLS_CERT_FILE: pki.server.cert, TLS_KEY_FILE: pki.server.key }),
    });
    t.after(() => lb.stop('SIGKILL'));
    const raw = net.connect(lb.proxyPort, '127.0.0.1');
    raw.on('error', () => undefined);
    t.after(() => raw.destroy());
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    const secure = (): tls.TLSSocket => tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    const early = mode === 'TLS, handshake before' ? secure() : undefined;
    if (early !== undefined) await new Promise<void>((resolve) => early.once('secureConnect', () => resolve()));
    lb.child.kill('SIGTERM');
    const stopped = await lb.waitForLog((l) => l.msg === 'shutdown: stopped listening, waiting for in-flight work');
    assert.equal(stopped.inFlight, 1, 'the connection is counted once');
    await sleep(100);
    const socket = early ?? (pki === undefined ? raw : secure());
    socket.on('error', () => undefined);
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
    await Promise.race([closed, sleep(8000)]);
    assert.match(got, /^HTTP\/1\.1 200 /, `served; got ${JSON.stringify(got.slice(0, 80))}`);
    assert.match(got, /\r\nConnection: close\r\n/i);
    assert.equal(await lb.exited, 0);
    assert.equal(lb.logs.some((l) => l.msg === 'shutdown: closing what is still in flight'), false, 'the drain ended by itself');
  });
}
