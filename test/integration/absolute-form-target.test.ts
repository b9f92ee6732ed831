/**
 * RFC 9112 §3.2.1: an origin server gets origin-form. An absolute-form
 * target that names the same authority as Host (which the request guard
 * accepts) reaches the backend as its path and query, byte for byte (an
 * empty path as `/`; OPTIONS with neither as `*`, §3.2.4), on each backend
 * protocol: both HTTP/1.1 engines, the upgrade tunnel, and HTTP/2's `:path`.
 * Backends are real servers recording the request line (or `:path`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange } from '../helpers/http.js';
import { startCaptureBackend } from '../helpers/capture-backend.js';
import { startH2Backend } from '../helpers/h2-backend.js';

const ENV = { HEALTH_CHECK_TYPE: 'none', RETRIES: '0', OUTLIER_CONSECUTIVE_FAILURES: '0' };

/** [request line sent, head fields after Host, target the backend must get] */
const CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['GET http://a.example/echo?x HTTP/1.1', '', '/echo?x'], // undici
  ['GET HTTP://A.example:80/p/%7E%2f;m?q=1&q=%20 HTTP/1.1', '', '/p/%7E%2f;m?q=1&q=%20'],
  ['GET http://a.example?x=1 HTTP/1.1', '', '/?x=1'],
  ['GET http://a.example HTTP/1.1', '', '/'],
  ['OPTIONS http://a.example HTTP/1.1', '', '*'],
  ['OPTIONS http://a.example/o HTTP/1.1', '', '/o'],
  ['POST http://a.example/echo?x HTTP/1.1', 'Content-Length: 2\r\n', '/echo?x'], // node:http (a body)
  ['HEAD http://a.example/h HTTP/1.1', '', '/h'],
  ['GET /plain?x HTTP/1.1', '', '/plain?x'], // origin-form: as received
  ['OPTIONS * HTTP/1.1', '', '*'],
];

const send = (port: number, line: string, fields: string): Promise<string> =>
  rawExchange(port, `${line}\r\nHost: a.example\r\n${fields}Connection: close\r\n\r\n${fields === '' ? '' : 'hi'}`);

test('HTTP/1.1 backend: an absolute-form target is forwarded in origin-form, path and query byte for byte', async (t) => {
  const backend = await startCaptureBackend(20);
  t.after(() => backend.close());
  const lb = await startOutrigger({ ...ENV, BACKENDS: `127.0.0.1:${backend.port}` });
  t.after(() => lb.stop());
  for (const [line, fields, target] of CASES) {
    const answer = await send(lb.proxyPort, line, fields);
    assert.match(answer, /^HTTP\/1\.1 200 /, line);
    const forwarded = backend.take().map((c) => c.data.split('\r\n')[0]);
    assert.deepEqual(forwarded, [`${line.split(' ')[0]} ${target} HTTP/1.1`], line);
  }
  // An upgrade request goes through the tunnel's own path to the backend.
  const answer = await rawExchange(lb.proxyPort, 'GET http://a.example/ws?t=1 HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.deepEqual(backend.take().map((c) => c.data.split('\r\n')[0]), ['GET /ws?t=1 HTTP/1.1']);
});

test('HTTP/2 backend: an absolute-form target becomes the :path', async (t) => {
  const paths: string[] = [];
  const backend = await startH2Backend((stream, headers) => {
    paths.push(String(headers[':path']));
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  t.after(() => backend.close());
  const lb = await startOutrigger({ ...ENV, BACKENDS: `h2c://127.0.0.1:${backend.port}` });
  t.after(() => lb.stop());
  for (const [line, fields, target] of CASES) {
    paths.length = 0;
    const answer = await send(lb.proxyPort, line, fields);
    assert.match(answer, /^HTTP\/1\.1 200 /, line);
    assert.deepEqual(paths, [target], line);
  }
});
