/**
 * Review findings (data plane). Each test states the behaviour SPEC asks for
 * and fails on the current code; they are marked `todo` so the suite stays
 * green until the defect is fixed. Remove the `todo` with the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, startServer, sleep } from '../helpers/http.js';

const metricsOf = async (adminPort: number) => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
/** The value of one sample line (`name{labels}`), or undefined; keeps assertion messages short. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/** A raw TCP backend on 127.0.0.1:0 whose every accepted socket goes to `onSocket`. */
async function rawBackend(onSocket: (s: net.Socket) => void): Promise<{ port: number; sockets: Set<net.Socket>; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('review: a backend 103 whose Link header lists two links (RFC 8288 comma list) does not crash the proxy', async (t) => {
  const origin = await rawBackend((s) => s.once('data', () => {
    s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload, </b.js>; rel=preload\r\n\r\n');
    setTimeout(() => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 20);
  }));
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop('SIGKILL'));
  const r = await request(lb.proxyPort, '/').catch((err: Error) => err);
  await sleep(100);
  assert.equal(lb.child.exitCode, null, `outrigger exited with ${lb.child.exitCode}: ${lb.logs.find((l) => l.level === 60)?.msg ?? ''}`);
  assert.ok(!(r instanceof Error), `request failed: ${String(r)}`);
  assert.equal(r.status, 200);
});

test('review: IDLE_TIMEOUT_MS=0 (none) does not cut a slow backend at UPSTREAM_KEEPALIVE_MS', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', IDLE_TIMEOUT_MS: '0', UPSTREAM_KEEPALIVE_MS: '300', UPSTREAM_TIMEOUT_MS: '5000',
  });
  t.after(() => lb.stop());
  const r = await request(lb.proxyPort, '/delay?ms=1000');
  assert.equal(r.status, 200, `got ${r.status} ${r.headers['x-outrigger-error'] ?? ''} for a backend within UPSTREAM_TIMEOUT_MS`);
});

test('review: an upgrade to a backend that never answers is bounded (504) and the backend connection is not leaked', async (t) => {
  // Accepts, reads (so that it sees the proxy close its side), never answers.
  const origin = await rawBackend((s) => s.resume());
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', UPSTREAM_TIMEOUT_MS: '300', IDLE_TIMEOUT_MS: '500' });
  t.after(() => lb.stop());
  const client = net.connect(lb.proxyPort, '127.0.0.1');
  client.on('error', () => undefined);
  let answer = '';
  client.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  client.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await sleep(1500);
  const hung = answer === '';
  client.destroy();
  await sleep(700);
  const leaked = origin.sockets.size;
  const metrics = await metricsOf(lb.adminPort);
  assert.ok(!hung, 'no answer after 1.5 s with UPSTREAM_TIMEOUT_MS=300 and IDLE_TIMEOUT_MS=500');
  assert.equal(leaked, 0, `${leaked} backend connection(s) still open 0.7 s after the client left`);
  assert.equal(sample(metrics, 'outrigger_downstream_connections'), 0);
});

test('review: a pending upgrade (backend slow to answer 101) is in-flight work the drain waits for', async (t) => {
  const origin = await rawBackend((s) => s.once('data', () => setTimeout(() => {
    s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
    s.pipe(s);
  }, 600)));
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '0', DRAIN_TIMEOUT_MS: '3000' });
  t.after(() => lb.stop('SIGKILL'));
  const client = net.connect(lb.proxyPort, '127.0.0.1');
  client.on('error', () => undefined);
  let answer = '';
  client.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  client.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await sleep(150);
  lb.child.kill('SIGTERM');
  await Promise.race([closed, sleep(5000)]);
  assert.match(answer, /^HTTP\/1\.1 101 /, `the handshake was cut by the shutdown; client got ${JSON.stringify(answer)}`);
});

test('review: a POST whose reused backend connection is reset after the backend read it is not replayed on another backend', async (t) => {
  let seenByA = 0;
  // Backend A: first request on a connection answered normally (keep-alive); the next one is read in full, then the connection is reset.
  const a = await rawBackend((s) => {
    let n = 0;
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        const end = buf.indexOf('\r\n\r\n') + 4;
        const head = buf.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + length) return;
        buf = buf.slice(end + length);
        n += 1;
        if (head.startsWith('POST')) seenByA += 1;
        if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
        else return void setTimeout(() => s.resetAndDestroy(), 50); // "processed", then crashed
      }
    });
  });
  let seenByB = 0;
  const b = await startServer((req, res) => {
    if (req.method === 'POST') seenByB += 1;
    req.resume();
    req.on('end', () => res.end('b'));
  });
  t.after(() => { a.close(); return b.close(); });
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0', LB_ALGORITHM: 'round-robin',
  });
  t.after(() => lb.stop());
  // Requests with a body share one client pool (bodiless ones use the other): warm that one.
  await request(lb.proxyPort, '/warm', { method: 'PUT', body: 'w' }); // A, leaves a pooled connection
  await request(lb.proxyPort, '/warm', { method: 'PUT', body: 'w' }); // B
  const r = await request(lb.proxyPort, '/order', { method: 'POST', body: 'buy 1' }); // A again, on the reused socket
  assert.equal(seenByA, 1, 'A read the POST');
  assert.equal(seenByB, 0, `the POST was replayed to B (answer ${r.status})`);
  assert.equal(r.status, 502);
});

test('review: a client that aborts is not counted as a backend reset or a proxy error', async (t) => {
  const origin = await startServer((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    } // '/hang': never answers
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  for (const path of ['/stream', '/hang']) {
    const socket = net.connect(lb.proxyPort, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (path === '/stream') await new Promise<void>((r) => socket.once('data', () => r()));
    else await sleep(200);
    socket.destroy();
    await lb.waitForLog((l) => l.msg === 'request' && l.path === path);
  }
  const metrics = await metricsOf(lb.adminPort);
  const backend = `127.0.0.1:${origin.port}`;
  assert.equal(sample(metrics, `outrigger_upstream_errors_total{backend="${backend}",kind="reset"}`), undefined, 'client aborts counted as backend resets');
  assert.equal(sample(metrics, 'outrigger_proxy_errors_total{kind="upstream_reset"}'), undefined, 'client aborts counted as proxy errors');
});

test('review: a 503 that is retried releases its backend in-flight slot even if its body never ends', async (t) => {
  const a = await startServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => res.write(': still here\n'), 100);
    res.once('close', () => clearInterval(timer));
  });
  const b = await startBackend();
  t.after(() => Promise.all([a.close(), b.close()]));
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0', IDLE_TIMEOUT_MS: '1000' });
  t.after(() => lb.stop());
  const r = await request(lb.proxyPort, '/ping');
  assert.equal(r.status, 200);
  await sleep(1500);
  const metrics = await metricsOf(lb.adminPort);
  assert.equal(sample(metrics, `outrigger_upstream_in_flight{backend="127.0.0.1:${a.port}"}`), 0, 'the 503 backend still counts the retried request in flight');
});

test('review: a connection whose TLS handshake stalls fails within CONNECT_TIMEOUT_MS as connect_failed', async (t) => {
  const stall = await rawBackend(() => undefined); // accepts TCP, never answers the ClientHello
  t.after(() => stall.close());
  const lb = await startOutrigger({
    BACKENDS: `https://127.0.0.1:${stall.port}`, HEALTH_CHECK_TYPE: 'none', CONNECT_TIMEOUT_MS: '200', UPSTREAM_TIMEOUT_MS: '300', IDLE_TIMEOUT_MS: '1500',
  });
  t.after(() => lb.stop());
  const started = performance.now();
  // Observed: no answer for ~2 × IDLE_TIMEOUT_MS (with the default 60 s: two minutes), then 504 upstream_timeout.
  const r = await request(lb.proxyPort, '/ping', { timeoutMs: 5000 }).catch((err: Error) => err);
  if (r instanceof Error) assert.fail(`no answer within 5 s: ${r.message}`);
  const ms = performance.now() - started;
  assert.equal(r.headers['x-outrigger-error'], 'connect_failed', `got ${r.status} ${r.headers['x-outrigger-error']} after ${ms.toFixed(0)} ms`);
  assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
});


const WS_HANDSHAKE = 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** Sends `data` and resolves with what arrives until `until` matches, the peer closes, or `ms` pass. */
function exchange(port: number, data: string, ms: number, until?: RegExp): Promise<{ text: string; socket: net.Socket }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const done = () => { clearTimeout(timer); resolve({ text, socket }); };
    const timer = setTimeout(done, ms);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); if (until?.test(text)) done(); });
    socket.on('close', done);
    socket.write(data);
  });
}

test('review: an upgrade whose connect fails is retried on another backend, like any request (SPEC §3)', async (t) => {
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  const deadPort = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const good = await startBackend();
  t.after(() => good.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${deadPort},127.0.0.1:${good.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  t.after(() => lb.stop());
  const statuses: string[] = [];
  for (let i = 0; i < 2; i++) { // round robin: one of the two goes to the dead backend first
    const { text, socket } = await exchange(lb.proxyPort, WS_HANDSHAKE, 2000, /\r\n\r\n/);
    socket.destroy();
    statuses.push(text.split('\r\n')[0] ?? '');
  }
  assert.deepEqual(statuses, ['HTTP/1.1 101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols']);
});

test('review: an open tunnel counts as in flight on its backend (least-connections, MAX_REQUESTS_PER_BACKEND, upstream_in_flight)', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', LB_ALGORITHM: 'least-connections' });
  t.after(() => lb.stop());
  const { text, socket } = await exchange(lb.proxyPort, WS_HANDSHAKE, 2000, /\r\n\r\n/);
  t.after(() => socket.destroy());
  assert.match(text, /^HTTP\/1\.1 101 /);
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { backends: Array<{ inFlight: number; requests: number }> };
  assert.equal(status.backends[0]!.inFlight, 1, 'the open tunnel is not counted on its backend');
});

// Decision (README "Answers Outrigger makes itself"): bad bytes that arrive in the same read as a request
// make the whole stream invalid: one 400, and that request is dropped (the conformance bar: no request of
// an invalid stream answered 2xx). A request from an earlier read may already be executing at the backend:
// its answer comes first, then the 400 and the close. The malformed request never reaches the backend.
test('review: a malformed request pipelined behind a valid one: one 400 for a single invalid read; an earlier request answered first, then the 400', async (t) => {
  const seen: string[] = [];
  const origin = await startServer((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    if (req.url === '/early') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('partial '); }
    req.on('end', () => setTimeout(() => res.end(`done ${req.url}`), 200));
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const bad = 'GET /bad HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n';
  const before = await exchange(lb.proxyPort, 'POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' + bad, 2000);
  assert.deepEqual([...before.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]), ['400']);
  const client = net.connect(lb.proxyPort, '127.0.0.1');
  client.on('error', () => undefined);
  t.after(() => client.destroy());
  let text = '';
  client.on('data', (d) => (text += d));
  client.write('POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
  await waitFor(() => text.includes('partial'));
  client.write(bad);
  await new Promise((r) => client.once('close', r));
  // RFC 9112 §9.3.2 (issue 7): answers in request order; the refusal of the bad bytes follows the answer owed.
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*partial [\s\S]*done \/early[\s\S]*HTTP\/1\.1 400 Bad Request/, 'the started answer is finished, then the 400');
  assert.ok(seen.includes('/early') && !seen.includes('/bad'), `the malformed request never reached the backend: ${seen.join()}`);
});

test('review: pipelined requests on one client connection are forwarded one at a time, not all at once', async (t) => {
  let open = 0;
  let peak = 0;
  const origin = await startServer((_req, res) => {
    open += 1;
    peak = Math.max(peak, open);
    setTimeout(() => { open -= 1; res.end('ok'); }, 500);
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', MAX_CONNECTIONS: '10' });
  t.after(() => lb.stop());
  const client = net.connect(lb.proxyPort, '127.0.0.1');
  client.on('error', () => undefined);
  t.after(() => client.destroy());
  client.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
  await sleep(400);
  assert.ok(peak <= 2, `one client connection drove ${peak} concurrent backend requests`);
});

async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
