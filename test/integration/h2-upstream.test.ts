/**
 * HTTP/2 backends end to end: the real Outrigger process with
 * `BACKENDS=h2c://…` or `h2://…` in front of a Node HTTP/2 server, and a plain
 * HTTP/1.1 client. The request arrives as HTTP/2 (pseudo-headers, no
 * connection-specific fields, body and request trailers); the answer comes
 * back as HTTP/1.1 with its trailers; `http` health checks speak HTTP/2; the
 * `h2` backend's certificate is verified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange, request } from '../helpers/http.js';
import { selfSigned, startH2Backend } from '../helpers/h2-backend.js';

interface Seen { headers: IncomingHttpHeaders; raw: string[]; body: string; trailers: IncomingHttpHeaders | undefined }

/** An HTTP/2 backend that records each request and answers with a trailer. */
async function recordingBackend(tls?: { key: string; cert: string }) {
  const seen = new Map<string, Seen>();
  const server = await startH2Backend((stream: ServerHttp2Stream, headers, raw) => {
    const path = String(headers[':path']);
    const record: Seen = { headers, raw, body: '', trailers: undefined };
    seen.set(path, record);
    stream.on('trailers', (t: IncomingHttpHeaders) => (record.trailers = t));
    stream.on('data', (d: Buffer) => (record.body += d.toString()));
    stream.once('end', () => {
      if (path === '/health') return stream.respond({ ':status': 200 }, { endStream: true });
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'x-resp-trailer': 'done' }));
      stream.end(`echo:${record.body}`);
    });
  }, tls ?? {}, tls !== undefined);
  return { server, seen };
}

test('h2c backend: GET and POST with a body and request trailers arrive as HTTP/2; the answer and its trailers come back', { timeout: 30_000 }, async (t) => {
  const { server, seen } = await recordingBackend();
  t.after(() => server.close());
  const lb = await startOutrigger({
    BACKENDS: `h2c://127.0.0.1:${server.port}`, HEALTH_CHECK_TYPE: 'http', READY_MIN_HEALTHY_BACKENDS: '1',
  }, { waitReady: false });
  t.after(() => lb.stop());
  await lb.waitForReady();
  assert.equal(seen.get('/health')?.headers[':scheme'], 'http', 'the http health check spoke HTTP/2');

  const got = await request(lb.proxyPort, '/get?x=1', { headers: { Host: 'shop.example', Connection: 'keep-alive', 'X-Custom': 'v' } });
  assert.equal(got.status, 200);
  assert.equal(got.text, 'echo:');
  const raw = await rawExchange(lb.proxyPort, 'GET /get?x=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/, 'an HTTP/1.1 client gets the standard reason phrase');
  assert.deepEqual(got.headers['set-cookie'], ['a=1', 'b=2']);
  assert.deepEqual(got.trailers, { 'x-resp-trailer': 'done' }, 'the response trailer came back');
  const g = seen.get('/get?x=1')!;
  assert.equal(g.headers[':method'], 'GET');
  assert.equal(g.headers[':authority'], 'shop.example', 'Host became :authority');
  assert.equal(g.headers[':scheme'], 'http');
  assert.equal(g.headers['x-custom'], 'v');
  assert.equal(g.headers['x-forwarded-for'], '127.0.0.1');
  const names = g.raw.filter((_, i) => i % 2 === 0);
  for (const forbidden of ['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade']) assert.ok(!names.includes(forbidden), `${forbidden} did not cross`);

  const posted = await new Promise<{ status: number; text: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: lb.proxyPort, method: 'POST', path: '/post', headers: { 'Transfer-Encoding': 'chunked', Trailer: 'X-Checksum' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text, trailers: res.trailers }));
    });
    req.once('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.write('part one, ');
    req.addTrailers({ 'X-Checksum': 'abc123' });
    req.end('part two');
  });
  assert.deepEqual(posted, { status: 200, text: 'echo:part one, part two', trailers: { 'x-resp-trailer': 'done' } });
  const p = seen.get('/post')!;
  assert.equal(p.headers[':method'], 'POST');
  assert.equal(p.body, 'part one, part two');
  assert.equal(p.trailers?.['x-checksum'], 'abc123', 'the request trailer arrived');
  assert.equal(p.headers['transfer-encoding'], undefined);
  assert.equal(server.sessionsOpened() >= 2, true, 'the health check uses a session of its own');
});

test('h2 backend: TLS with ALPN h2 and a verified certificate (trusted through NODE_EXTRA_CA_CERTS), refused when untrusted', { timeout: 40_000 }, async (t) => {
  const cert = await selfSigned();
  t.after(() => cert.remove());
  const { server, seen } = await recordingBackend({ key: cert.key, cert: cert.cert });
  t.after(() => server.close());
  const backends = `h2://127.0.0.1:${server.port}`;

  const trusting = await startOutrigger({ BACKENDS: backends, NODE_EXTRA_CA_CERTS: cert.certFile, HEALTH_CHECK_TYPE: 'http', READY_MIN_HEALTHY_BACKENDS: '1' }, { waitReady: false });
  t.after(() => trusting.stop());
  await trusting.waitForReady();
  const got = await request(trusting.proxyPort, '/tls', { headers: { Host: 'secure.example' } });
  assert.equal(got.status, 200);
  assert.equal(got.text, 'echo:');
  assert.deepEqual(got.trailers, { 'x-resp-trailer': 'done' });
  assert.equal(seen.get('/tls')?.headers[':scheme'], 'https');
  assert.equal(seen.get('/tls')?.headers[':authority'], 'secure.example');

  const untrusting = await startOutrigger({ BACKENDS: backends });
  t.after(() => untrusting.stop());
  const refused = await request(untrusting.proxyPort, '/untrusted');
  assert.equal(refused.status, 502);
  assert.equal(refused.headers['x-outrigger-error'], 'connect_failed');
  assert.equal(seen.has('/untrusted'), false, 'nothing reached the backend');
});
