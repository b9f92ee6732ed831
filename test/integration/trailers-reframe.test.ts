/**
 * Trailers across HTTP/2 ↔ HTTP/1.1 when the message has a Content-Length
 * (proxy/reframe): HTTP/1.1 carries trailers only in chunked framing. An
 * HTTP/2 request that may end with trailers (te: trailers, `trailer`, gRPC)
 * goes chunked to an HTTP/1.1 backend; an HTTP/2 backend's answer goes
 * chunked to an HTTP/1.1 client that sent `TE: trailers`. Otherwise the
 * Content-Length stays and trailers that cannot be carried are counted in
 * outrigger_trailers_dropped_total{direction}. HTTP/2 backends keep the
 * request's Content-Length.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { rawExchange, startServer } from '../helpers/http.js';
import { startH2Backend } from '../helpers/h2-backend.js';

interface Seen { headers: http.IncomingHttpHeaders; body: string; rawTrailers: string[] }

function h2post(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: string, trailers: http2.OutgoingHttpHeaders): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ...headers }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(trailers));
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.resume();
    stream.on('end', () => resolve(status));
    stream.on('error', reject);
    stream.end(body);
  });
}

async function dropped(lb: Outrigger, direction: 'request' | 'response'): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  const m = new RegExp(`^outrigger_trailers_dropped_total\\{direction="${direction}"\\} (\\d+)$`, 'm').exec(metrics);
  return Number(m?.[1]);
}

test('HTTP/2 client → HTTP/1.1 backend: a request with Content-Length that may end with trailers goes chunked; one that gives no sign keeps its length and its lost trailers are counted', async (t) => {
  const seen = new Map<string, Seen>();
  const origin = await startServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.set(req.url ?? '', { headers: req.headers, body, rawTrailers: req.rawTrailers });
      res.end('ok');
    });
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `http://127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());

  const signs: Array<[string, http2.OutgoingHttpHeaders]> = [
    ['/te', { te: 'trailers' }],
    ['/announced', { trailer: 'x-sum' }],
    ['/grpc', { 'content-type': 'application/grpc' }],
  ];
  for (const [path, extra] of signs) {
    assert.equal(await h2post(session, { ':path': path, 'content-length': '5', ...extra }, 'hello', { 'x-sum': 'abc' }), 200, path);
    const got = seen.get(path)!;
    assert.equal(got.body, 'hello', path);
    assert.equal(got.headers['transfer-encoding'], 'chunked', `${path}: re-framed as chunked`);
    assert.equal(got.headers['content-length'], undefined, `${path}: not both framings`);
    assert.deepEqual(got.rawTrailers, ['x-sum', 'abc'], `${path}: the trailer arrived`);
  }
  assert.equal(await dropped(lb, 'request'), 0);

  // No sign that trailers may come: the backend gets the Content-Length it may need; the trailers that came anyway are counted.
  assert.equal(await h2post(session, { ':path': '/plain', 'content-length': '5' }, 'hello', { 'x-sum': 'abc', 'x-more': '1' }), 200);
  const plain = seen.get('/plain')!;
  assert.equal(plain.headers['content-length'], '5');
  assert.equal(plain.headers['transfer-encoding'], undefined);
  assert.deepEqual(plain.rawTrailers, []);
  assert.equal(await dropped(lb, 'request'), 2);
});

test('HTTP/2 client → HTTP/2 backend: the request keeps its Content-Length and its trailers', async (t) => {
  let got: { headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders | undefined } | undefined;
  const server = await startH2Backend((stream: ServerHttp2Stream, headers) => {
    let trailers: IncomingHttpHeaders | undefined;
    stream.on('trailers', (tr: IncomingHttpHeaders) => (trailers = tr));
    stream.resume();
    stream.once('end', () => {
      got = { headers, trailers };
      stream.respond({ ':status': 200 }, { endStream: true });
    });
  });
  t.after(() => server.close());
  const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${server.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());
  assert.equal(await h2post(session, { ':path': '/h2', 'content-length': '5', te: 'trailers' }, 'hello', { 'x-sum': 'abc' }), 200);
  assert.equal(got?.headers['content-length'], '5');
  assert.equal(got?.headers['transfer-encoding'], undefined);
  assert.equal(got?.trailers?.['x-sum'], 'abc');
});

test('HTTP/2 backend → HTTP/1.1 client: an answer with Content-Length and trailers goes chunked with its trailers to a client that sent TE: trailers; otherwise the lost trailers are counted', async (t) => {
  const server = await startH2Backend((stream: ServerHttp2Stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '5' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123' }));
    stream.end('hello');
  });
  t.after(() => server.close());
  const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${server.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());

  const asked = await rawExchange(lb.proxyPort, 'GET /a HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n');
  const head = asked.slice(0, asked.indexOf('\r\n\r\n'));
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nTransfer-Encoding: chunked/i);
  assert.doesNotMatch(head, /content-length/i);
  assert.ok(asked.endsWith('\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc123\r\n\r\n'), JSON.stringify(asked));
  assert.equal(await dropped(lb, 'response'), 0);

  const plain = await rawExchange(lb.proxyPort, 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(plain, /\r\ncontent-length: 5\r\n/i, 'a client that did not ask keeps the Content-Length');
  assert.ok(plain.endsWith('\r\n\r\nhello'), JSON.stringify(plain));
  assert.equal(await dropped(lb, 'response'), 1);

  // HEAD: no body, so no chunked framing, and the head keeps its length.
  const headOnly = await rawExchange(lb.proxyPort, 'HEAD /c HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n');
  assert.match(headOnly, /\r\ncontent-length: 5\r\n/i);
  assert.doesNotMatch(headOnly, /transfer-encoding/i);
});
