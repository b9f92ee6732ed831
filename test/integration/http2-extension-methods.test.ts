/**
 * Both listeners forward the same methods: those Node's HTTP/1.1 parser
 * (llhttp, `http.METHODS`) knows. A method that is a valid token but unknown
 * to llhttp gets 400 `bad_request` over HTTP/1.1 from the parser, and the
 * same answer over HTTP/2 (it used to be forwarded); a known extension
 * method (PROPFIND) is forwarded by both. Clients: Node's http2, raw sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import http2 from 'node:http2';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange, startServer } from '../helpers/http.js';

function h2request(port: number, method: string, path = '/m'): Promise<{ status: number; error: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':method': method, ':path': path }, { endStream: true });
    let status = 0;
    let error: string | undefined;
    stream.on('response', (h) => { status = Number(h[':status']); error = h['x-outrigger-error'] as string | undefined; });
    stream.resume();
    stream.on('end', () => { session.close(); resolve({ status, error }); });
    stream.on('error', reject);
  });
}

/** Outrigger in front of a backend that records `what` of every request it gets. */
async function throughOutrigger(t: { after(fn: () => unknown): void }, what: (req: http.IncomingMessage) => string, env: Record<string, string> = {}) {
  const seen: string[] = [];
  const backend = await startServer((req, res) => {
    seen.push(what(req));
    res.end('ok');
  });
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ...env });
  t.after(() => lb.stop());
  return { seen, lb };
}

test('HTTP/2 refuses the methods HTTP/1.1 refuses (400 bad_request), and forwards the ones it forwards', async (t) => {
  const { seen, lb } = await throughOutrigger(t, (req) => req.method ?? '');

  for (const method of ['FOOBAR', 'DESCRIBE', 'PRI']) {
    const h1 = await rawExchange(lb.proxyPort, `${method} /m HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.match(h1, /^HTTP\/1\.1 400 /, `HTTP/1.1 ${method}`);
    assert.match(h1, /x-outrigger-error: bad_request/i, `HTTP/1.1 ${method}`);
    assert.deepEqual(await h2request(lb.proxyPort, method), { status: 400, error: 'bad_request' }, `HTTP/2 ${method}`);
  }
  assert.deepEqual(seen, [], 'never forwarded');

  assert.match(await rawExchange(lb.proxyPort, 'PROPFIND /m HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
  assert.deepEqual(await h2request(lb.proxyPort, 'PROPFIND'), { status: 200, error: undefined });
  assert.deepEqual(seen, ['PROPFIND', 'PROPFIND']);
});

test('an HTTP/2 :path HTTP/1.1 could not carry (bytes above 0x7E, no leading slash) is 400 bad_request, never forwarded, and blames no backend', async (t) => {
  const { seen, lb } = await throughOutrigger(t, (req) => req.url ?? '', { OUTLIER_CONSECUTIVE_FAILURES: '2' });
  for (const path of ['/echo\u0080', '/caf\u00e9', '/\u00ff']) {
    assert.deepEqual(await h2request(lb.proxyPort, 'GET', path), { status: 400, error: 'bad_request' }, JSON.stringify(path));
  }
  // Without a leading slash nghttp2 itself resets the stream (PROTOCOL_ERROR) before Outrigger sees it.
  await assert.rejects(h2request(lb.proxyPort, 'GET', 'echo'), /PROTOCOL_ERROR/);
  assert.match(await rawExchange(lb.proxyPort, 'GET /echo\x80 HTTP/1.1\r\nHost: a\r\n\r\n'), /^HTTP\/1\.1 400 /, 'HTTP/1.1 refuses the same byte');
  assert.deepEqual(seen, [], 'never forwarded');
  assert.deepEqual(await h2request(lb.proxyPort, 'OPTIONS', '*'), { status: 200, error: undefined }, 'OPTIONS * is a request-target');
  assert.deepEqual(await h2request(lb.proxyPort, 'GET', '/ok?q=a%20b'), { status: 200, error: undefined });
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.doesNotMatch(metrics, /outrigger_upstream_errors_total\{[^}]*\} [1-9]/);
  assert.doesNotMatch(metrics, /outrigger_outlier_ejections_total\{[^}]*\} [1-9]/);
});
