/**
 * TLS on the traffic port (SPEC §9): curl, node:https and Node's HTTP/2
 * client through the listener; ALPN choosing h2 or http/1.1;
 * X-Forwarded-Proto https; the handshake bounded by
 * CLIENT_HEADERS_TIMEOUT_MS (a silent client, a trickled ClientHello) and
 * closed without a plain-text answer; failures counted. Certificates are
 * made with openssl for the run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { startBackend, type TestBackend } from '../helpers/http.js';
import { TestPki, type CertFiles } from '../helpers/certs.js';
import { echoedHeaders, h2Connect, h2Get, httpsGet, metricValue } from '../helpers/tls-client.js';

const run = promisify(execFile);
const pki = new TestPki();
let ca: CertFiles;
let server: CertFiles;
let caPem: string;
let backend: TestBackend;

before(async () => {
  ca = await pki.ca('Listener Test CA');
  server = await pki.server(ca, '1001');
  caPem = pki.read(ca.cert);
  backend = await startBackend();
});
after(async () => {
  await backend.close();
  pki.close();
});

async function tlsOutrigger(env: Record<string, string> = {}): Promise<Outrigger> {
  return startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key, ...env });
}

const HANDSHAKE_ERRORS = /^outrigger_tls_handshake_errors_total (\d+)/m;

test('curl over TLS: HTTP/2 by ALPN by default, HTTP/1.1 when asked; X-Forwarded-Proto is https', async (t) => {
  const lb = await tlsOutrigger();
  t.after(() => lb.stop());
  const url = `https://localhost:${lb.proxyPort}/echo`;
  const resolve = ['--resolve', `localhost:${lb.proxyPort}:127.0.0.1`, '--cacert', ca.cert];
  const h2 = await run('curl', ['-s', ...resolve, '-w', '\\n%{http_version} %{http_code}', url]);
  assert.match(h2.stdout, /\n2 200$/);
  assert.ok(echoedHeaders(h2.stdout.split('\n')[0]!).some(([n, v]) => n === 'x-forwarded-proto' && v === 'https'));
  const h1 = await run('curl', ['-s', '--http1.1', ...resolve, '-w', '\\n%{http_version} %{http_code}', url]);
  assert.match(h1.stdout, /\n1\.1 200$/);
  assert.ok(echoedHeaders(h1.stdout.split('\n')[0]!).some(([n, v]) => n === 'x-forwarded-proto' && v === 'https'));
  await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/2');
  await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/1.1');
  // Plain text on the TLS port is no HTTP request: the connection ends without an answer.
  const plain = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${lb.proxyPort}/ping`]).catch((err: { stdout: string }) => err);
  assert.equal(plain.stdout, '000');
  assert.equal(await metricValue(lb.adminPort, HANDSHAKE_ERRORS), 1, 'the plain-text request counts as a failed handshake');
});

test('node:https (ALPN http/1.1) and Node\'s http2 client (ALPN h2) through the listener; the listener shows its chain', async (t) => {
  const lb = await tlsOutrigger();
  t.after(() => lb.stop());
  const h1 = await httpsGet(lb.proxyPort, '/echo', { ca: caPem, ALPNProtocols: ['http/1.1'] });
  assert.equal(h1.status, 200);
  assert.equal(h1.alpn, 'http/1.1');
  assert.equal(h1.serial, '1001');
  const noAlpn = await httpsGet(lb.proxyPort, '/ping', { ca: caPem });
  assert.equal(noAlpn.alpn, false, 'a client that offers no ALPN gets HTTP/1.1');
  assert.equal(noAlpn.status, 200);
  const session = await h2Connect(lb.proxyPort, { ca: caPem });
  t.after(() => session.close());
  assert.equal(session.alpnProtocol, 'h2');
  const replies = await Promise.all([h2Get(session, '/echo'), h2Get(session, '/ping')]);
  assert.deepEqual(replies.map((r) => r.status), [200, 200]);
  assert.ok(echoedHeaders(replies[0].body).some(([n, v]) => n === 'x-forwarded-proto' && v === 'https'));
  assert.equal(await metricValue(lb.adminPort, /^outrigger_tls_certificate_expiry_timestamp_seconds\{cert="listener"\} (\d+)/m) > Date.now() / 1000, true);
});

test('HTTP2=false: ALPN offers only http/1.1; an HTTP/2 client falls back', async (t) => {
  const lb = await tlsOutrigger({ HTTP2: 'false' });
  t.after(() => lb.stop());
  const { stdout } = await run('curl', ['-s', '--resolve', `localhost:${lb.proxyPort}:127.0.0.1`, '--cacert', ca.cert, '-o', '/dev/null',
    '-w', '%{http_version} %{http_code}', `https://localhost:${lb.proxyPort}/ping`]);
  assert.equal(stdout, '1.1 200');
});

test('an HTTP/2 session over TLS outlives CLIENT_HEADERS_TIMEOUT_MS (its head clock stops at SETTINGS)', async (t) => {
  const lb = await tlsOutrigger({ CLIENT_HEADERS_TIMEOUT_MS: '300' });
  t.after(() => lb.stop());
  const session = await h2Connect(lb.proxyPort, { ca: caPem });
  t.after(() => session.close());
  let closed = false;
  session.once('close', () => (closed = true));
  for (let i = 0; i < 6; i++) {
    assert.equal((await h2Get(session, '/ping')).status, 200);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(closed, false, 'the session was cut');
});

/** Connects, sends `bytes` (one per `gapMs` when gapMs > 0), and resolves with when the server closed and what it sent. */
function watchClose(port: number, bytes: Buffer, gapMs: number): Promise<{ ms: number; received: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let received = 0;
    let sent = 0;
    const s = net.connect(port, '127.0.0.1');
    const trickle = gapMs > 0 ? setInterval(() => { if (sent < bytes.length - 1) s.write(bytes.subarray(sent, ++sent)); }, gapMs) : undefined;
    if (gapMs === 0 && bytes.length > 0) s.write(bytes);
    const giveUp = setTimeout(() => s.destroy(), 8000);
    s.on('data', (d: Buffer) => (received += d.length));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearInterval(trickle);
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - started, received });
    });
  });
}

/** A real ClientHello, captured from Node's TLS client. */
function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const capture = net.createServer((s) => s.once('data', (hello: Buffer) => {
      s.destroy();
      capture.close();
      resolve(hello);
    }));
    capture.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: (capture.address() as net.AddressInfo).port, host: '127.0.0.1', servername: 'localhost', ca: caPem });
      c.on('error', () => undefined);
    });
  });
}

test('CLIENT_HEADERS_TIMEOUT_MS bounds the handshake: silent and trickling clients are closed on time, with no answer', async (t) => {
  const lb = await tlsOutrigger({ CLIENT_HEADERS_TIMEOUT_MS: '1000' });
  t.after(() => lb.stop());
  const hello = await clientHello();
  const [silent, trickled] = await Promise.all([
    watchClose(lb.proxyPort, Buffer.alloc(0), 0),
    // One byte every 50 ms keeps the connection busy past the deadline: activity must not extend it.
    watchClose(lb.proxyPort, hello, 50),
  ]);
  for (const [what, r] of [['silent', silent], ['trickled', trickled]] as const) {
    assert.ok(r.ms >= 900 && r.ms < 3000, `${what} client closed after ${r.ms} ms`);
    assert.equal(r.received, 0, `${what} client got ${r.received} bytes: no plain-text 408 on a TLS port`);
  }
  assert.ok(hello.length > 100, 'at 20 bytes a second the ClientHello cannot be complete before the deadline');
  assert.equal(await metricValue(lb.adminPort, HANDSHAKE_ERRORS), 2, 'both count as failed handshakes');
  // Still serving.
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { ca: caPem })).status, 200);
  // Failures are logged at debug level only: nothing at info.
  assert.equal(lb.logs.filter((l) => l.msg === 'TLS handshake failed').length, 0);
});

test('after the handshake the head clock runs: a partial head gets an encrypted 408, silence a close', async (t) => {
  const lb = await tlsOutrigger({ CLIENT_HEADERS_TIMEOUT_MS: '600', LOG_LEVEL: 'debug' });
  t.after(() => lb.stop());
  const exchange = (bytes: string) => new Promise<{ text: string; ms: number }>((resolve) => {
    const started = Date.now();
    let text = '';
    const s = tls.connect({ port: lb.proxyPort, host: '127.0.0.1', servername: 'localhost', ca: caPem, ALPNProtocols: ['http/1.1'] }, () => {
      if (bytes !== '') s.write(bytes);
    });
    const giveUp = setTimeout(() => s.destroy(), 6000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(giveUp);
      resolve({ text, ms: Date.now() - started });
    });
  });
  const [partial, silent] = await Promise.all([exchange('GET /ping HTTP/1.1\r\nHost: a\r\n'), exchange('')]);
  assert.match(partial.text, /^HTTP\/1\.1 408 /);
  assert.equal(silent.text, '');
  assert.ok(silent.ms < 3000, `silent TLS connection closed after ${silent.ms} ms`);
  // LOG_LEVEL=debug: the failure line is there, at debug.
  await run('curl', ['-s', `http://127.0.0.1:${lb.proxyPort}/`]).catch(() => undefined);
  const line = await lb.waitForLog((l) => l.msg === 'TLS handshake failed');
  assert.equal(line.level, 20);
});

test('WebSocket over TLS: the backend sees X-Forwarded-Proto https', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const ws = http.createServer();
  ws.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    seen.push(req.headers);
    socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  });
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => { ws.closeAllConnections(); ws.close(() => r()); }));
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${(ws.address() as net.AddressInfo).port}`, HEALTH_CHECK_TYPE: 'none', TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key,
  });
  t.after(() => lb.stop());
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const s = tls.connect({ port: lb.proxyPort, host: '127.0.0.1', servername: 'localhost', ca: caPem, ALPNProtocols: ['http/1.1'] }, () => {
      s.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Forwarded-Client-Cert: Hash=spoof\r\n\r\n');
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
    setTimeout(() => s.destroy(), 5000);
  });
  assert.match(answer, /^HTTP\/1\.1 101 /);
  assert.equal(seen[0]?.['x-forwarded-proto'], 'https');
  assert.equal(seen[0]?.['x-forwarded-client-cert'], undefined, 'a client\'s XFCC never reaches the backend');
});
