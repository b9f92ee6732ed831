/**
 * The HTTP/1.1 `Upgrade: h2c` offer (`curl --http2` on http://) is ignored,
 * as Envoy does (RFC 9113 §3.1 deprecated it): the request is proxied as a
 * plain HTTP/1.1 request, to HTTP/1.1 and h2c:// backends alike, and answered
 * in HTTP/1.1 (never 101) on a connection that stays usable. Beside another
 * protocol (`websocket, h2c`) only the h2c token goes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOutrigger } from '../helpers/outrigger.js';
import { startServer } from '../helpers/http.js';
import { startH2Backend } from '../helpers/h2-backend.js';

const run = promisify(execFile);
const OFFER = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

/** An HTTP/1.1 backend that records each request and answers `<name> <method> <url> <body>\\n`. */
async function recordingBackend(name: string) {
  const seen: Seen[] = [];
  const server = await startServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.end(`${name} ${req.method} ${req.url} ${body}\n`);
    });
  });
  return { ...server, seen };
}

function assertNoOffer(h: http.IncomingHttpHeaders | Record<string, unknown>, label: string): void {
  assert.equal(h.upgrade, undefined, `${label}: no Upgrade`);
  assert.equal(h['http2-settings'], undefined, `${label}: no HTTP2-Settings`);
  assert.doesNotMatch(String(h.connection ?? ''), /upgrade|http2-settings/i, `${label}: no Connection token naming them`);
}

/** Writes `parts` on one connection (one write each) and reads until the peer closes it. */
function converse(port: number, parts: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`not closed within 5 s: ${out}`)); }, 5000);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', () => { clearTimeout(timer); resolve(out); });
    let i = 0;
    const next = () => { if (i < parts.length) { socket.write(parts[i++]!); setImmediate(next); } };
    socket.once('connect', next);
  });
}

test('curl --http2 to an HTTP/1.1 backend: a plain HTTP/1.1 exchange, the offer never reaches the backend', async (t) => {
  const backend = await recordingBackend('b1');
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const url = `http://127.0.0.1:${lb.proxyPort}/ping`;
  const { stdout, stderr } = await run('curl', ['-sv', '--http2', '-w', '\n%{http_code} %{http_version}', url, url], { timeout: 10_000 });
  assert.match(stderr, /Upgrade: h2c/, 'curl made the offer');
  assert.doesNotMatch(stderr, /< HTTP\/1\.1 101/);
  assert.equal(stdout, 'b1 GET /ping \n\n200 1.1b1 GET /ping \n\n200 1.1');
  assert.match(stderr, /Re-using existing connection/, 'the connection stays usable after the ignored offer');
  assert.equal(backend.seen.length, 2);
  assertNoOffer(backend.seen[0]!.headers, 'first request');
  assert.equal(backend.seen[0]!.headers['x-forwarded-for'], '127.0.0.1', 'forwarded headers as on any request');
  const line = await lb.waitForLog((l) => l.msg === 'request');
  assert.equal(line.status, 200);
  assert.equal(line.upgrade, undefined, 'logged as a plain request');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_http_requests_total\{method="GET",code="200"\} 2$/m);
  assert.match(metrics, /^outrigger_tunnels 0$/m);
});

test('curl --http2 to an h2c:// backend: the request goes over HTTP/2 upstream, the client gets HTTP/1.1', async (t) => {
  const seen: Array<Record<string, unknown>> = [];
  const backend = await startH2Backend((stream, headers) => {
    seen.push({ ...headers });
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('from h2');
  });
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const { stdout, stderr } = await run('curl', ['-sv', '--http2', '-w', '\n%{http_code} %{http_version}', `http://127.0.0.1:${lb.proxyPort}/ping`], { timeout: 10_000 });
  assert.match(stderr, /Upgrade: h2c/);
  assert.equal(stdout, 'from h2\n200 1.1');
  assert.equal(seen.length, 1);
  assertNoOffer(seen[0]!, 'h2c backend');
  assert.equal(seen[0]![':path'], '/ping');
});

test('bodies after the offer (split Content-Length, chunked), pipelining and balancing work as on any HTTP/1.1 connection', async (t) => {
  const b1 = await recordingBackend('b1');
  const b2 = await recordingBackend('b2');
  t.after(() => b1.close());
  t.after(() => b2.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${b1.port},127.0.0.1:${b2.port}`, HEALTH_CHECK_TYPE: 'none', LB_ALGORITHM: 'round-robin' });
  t.after(() => lb.stop());
  const out = await converse(lb.proxyPort, [
    // A plain request still waiting for its answer when the offer behind it is read.
    `GET /first HTTP/1.1\r\nHost: app.test\r\n\r\nPOST /a HTTP/1.1\r\nHost: app.test\r\n${OFFER}Content-Length: 5\r\n\r\nhel`,
    'lo',
    `POST /b HTTP/1.1\r\nHost: app.test\r\n${OFFER}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`,
  ]);
  assert.doesNotMatch(out, /101/);
  const bodies = [...out.matchAll(/\r\n\r\n(b\d [^\n]*)\n/g)].map((m) => m[1]!.replace(/^b\d /, ''));
  assert.deepEqual(bodies, ['GET /first ', 'POST /a hello', 'POST /b abc', 'GET /c '], 'in order, each body whole');
  assert.equal((out.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 4);
  const seen = [...b1.seen, ...b2.seen];
  assert.equal(seen.length, 4);
  for (const s of seen) assertNoOffer(s.headers, s.url);
  assert.equal(b1.seen.length, 2, 'balanced per request over one client connection');
  assert.equal(b2.seen.length, 2);
});

test('an offer of websocket and h2c: the WebSocket upgrade goes on, without h2c and its settings', async (t) => {
  let seen: http.IncomingHttpHeaders | undefined;
  const backend = await startServer((_req, res) => res.end('no upgrade'));
  backend.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    seen = req.headers;
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const out = await converse(lb.proxyPort, [
    'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket, h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  ]);
  assert.match(out, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.equal(seen?.upgrade, 'websocket');
  assert.equal(seen?.connection, 'Upgrade');
  assert.equal(seen?.['http2-settings'], undefined);
});
