import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, startServer, rawExchange } from '../helpers/http.js';
import { patternBytes } from '../../src/demo/backend.js';

const TEN_MIB = 10 * 1024 * 1024;

test('10 MiB upload and download arrive byte-exact', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());

  const down = await request(lb.proxyPort, `/bytes?n=${TEN_MIB}`, { timeoutMs: 20_000 });
  assert.equal(down.body.length, TEN_MIB);
  assert.equal(createHash('sha256').update(down.body).digest('hex'), down.headers['x-sha256']);

  // Upload streamed in chunks (chunked transfer coding), and again with Content-Length.
  for (const framing of ['chunked', 'length'] as const) {
    const hash = createHash('sha256');
    const reply = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: lb.proxyPort, method: 'PUT', path: '/echo', agent: false,
        headers: framing === 'length' ? { 'content-length': String(TEN_MIB) } : {} }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      let off = 0;
      const pump = () => {
        while (off < TEN_MIB) {
          const chunk = patternBytes(off, Math.min(256 * 1024, TEN_MIB - off));
          hash.update(chunk);
          off += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    const echo = JSON.parse(reply) as { bodyBytes: number; bodySha256: string };
    assert.equal(echo.bodyBytes, TEN_MIB, framing);
    assert.equal(echo.bodySha256, hash.digest('hex'), framing);
  }
});

test('text/event-stream: each event reaches the client as it is sent', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const arrivals: number[] = [];
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: lb.proxyPort, path: '/sse?events=3&gap=300', agent: false }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      res.on('data', (d: Buffer) => { if (d.toString().includes('data:')) arrivals.push(Date.now() - started); });
      res.on('end', resolve);
    }).on('error', reject);
  });
  assert.equal(arrivals.length, 3, 'three separate deliveries');
  assert.ok(arrivals[0]! < 250, `first event after ${arrivals[0]} ms, not held until the end`);
  assert.ok(arrivals[2]! - arrivals[0]! >= 450, 'events spaced as sent');
});

test('trailers are relayed in both directions; request trailers RFC 9110 forbids (Host, Authorization, Cookie) are dropped and counted', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const down = await request(lb.proxyPort, '/trailers');
  assert.equal(down.trailers['x-checksum'], 'abc123');
  const trailers = 'Host: evil.example\r\nX-Req-Trailer: t1\r\nAuthorization: Basic eDp5\r\nCookie: session=stolen\r\n';
  const out = await rawExchange(lb.proxyPort, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n${trailers}\r\n`);
  const echo = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { bodyBytes: number; rawTrailers: string[] };
  assert.equal(echo.bodyBytes, 5);
  assert.deepEqual(echo.rawTrailers, ['X-Req-Trailer', 't1']);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_trailers_dropped_total\{direction="request"\} 3$/m);
});

test('1xx: 103 Early Hints relayed; 100 Continue comes from the backend, then the body flows', async (t) => {
  let sawExpect = '';
  const origin = await startServer((req, res) => {
    if (req.url === '/early') {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
      return void setTimeout(() => res.end('done'), 20);
    }
    req.resume();
    req.on('end', () => res.end('got body'));
  });
  origin.server.on('checkContinue', (req, res) => {
    sawExpect = String(req.headers.expect);
    res.writeContinue();
    req.resume();
    req.on('end', () => res.end('continued'));
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const early = await rawExchange(lb.proxyPort, 'GET /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(early, /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/a\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 /i);

  const body = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: lb.proxyPort, method: 'POST', path: '/upload', agent: false, headers: { expect: '100-continue', 'content-length': '4' } });
    req.on('continue', () => req.end('data'));
    req.on('response', (res) => { let s = ''; res.on('data', (d) => (s += d)); res.on('end', () => resolve(s)); });
    req.on('error', reject);
  });
  assert.equal(body, 'continued');
  assert.equal(sawExpect, '100-continue');

  // HTTP/1.0 has no 1xx (RFC 9110 §15.2): the hint and the 100 stay with Outrigger, the final answer comes alone.
  const early10 = await rawExchange(lb.proxyPort, 'GET /early HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(early10, /^HTTP\/1\.1 200 /, `an HTTP/1.0 client got: ${JSON.stringify(early10.slice(0, 60))}`);
  const continued10 = await rawExchange(lb.proxyPort, 'POST /upload HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata');
  assert.match(continued10, /^HTTP\/1\.1 200 /, `an HTTP/1.0 client with Expect got: ${JSON.stringify(continued10.slice(0, 60))}`);
  assert.match(continued10, /continued$/);
});

test('a 103 with fields named constructor and __proto__: relayed as fields, nothing of JavaScript leaks', async (t) => {
  const origin = net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nconstructor: 1\r\n__proto__: 2\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${(origin.address() as net.AddressInfo).port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const reply = await rawExchange(lb.proxyPort, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const hint = reply.slice(0, reply.indexOf('\r\n\r\n'));
  assert.match(hint, /^HTTP\/1\.1 103 /);
  assert.doesNotMatch(reply, /native code|function/);
  assert.match(hint, /\r\nconstructor: 1(\r\n|$)/);
  assert.match(reply, /\r\n\r\nok$/);
});

test('a client that leaves before any answer is counted and logged as 499 (nginx\'s "client closed request"), not as status 0', async (t) => {
  const origin = await startServer((_req, res) => void setTimeout(() => res.end('late'), 1000));
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const socket = net.connect(lb.proxyPort, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 200));
  socket.destroy();
  const log = await lb.waitForLog((l) => l.msg === 'request');
  assert.deepEqual([log.status, log.aborted], [499, true]);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_http_requests_total\{method="GET",code="499"\} 1$/m);
  assert.doesNotMatch(metrics, /code="0"|code_class="other"/);
});

test('a client that disconnects aborts its backend request', async (t) => {
  let backendClosed: () => void;
  const closed = new Promise<void>((r) => (backendClosed = r));
  const origin = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    req.socket.once('close', () => backendClosed());
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const socket = net.connect(lb.proxyPort, '127.0.0.1');
  socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise<void>((r) => socket.once('data', () => r()));
  socket.destroy();
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('backend connection still open 2 s after the client left')), 2000))]);
  const log = await lb.waitForLog((l) => l.msg === 'request');
  assert.equal(log.aborted, true);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /outrigger_upstream_in_flight\{backend="[^"]+"\} 0/);
});
