/**
 * RFC 9113 §8.3.1: an HTTP/2 request whose `host` names another authority
 * than its `:authority` is malformed: 400 `bad_request`, never forwarded
 * (it used to reach the backend with `Host: evil.example`). The HTTP/1.1
 * twin, an absolute-form target naming another host than Host, gets the
 * same answer. Client: Node's http2 (curl folds Host into :authority).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange, startServer } from '../helpers/http.js';

function h2get(port: number, headers: http2.OutgoingHttpHeaders): Promise<{ status: number; error: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':path': '/who', ...headers });
    let status = 0;
    let error: string | undefined;
    let body = '';
    stream.on('response', (h) => { status = Number(h[':status']); error = h['x-outrigger-error'] as string | undefined; });
    stream.on('data', (d: Buffer) => (body += d.toString()));
    stream.on('end', () => { session.close(); resolve({ status, error, body }); });
    stream.on('error', reject);
  });
}

test('HTTP/2: host differing from :authority is refused 400; equal (any case, default port) or absent is served', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const backend = await startServer((req, res) => {
    seen.push(req.headers);
    res.end(`host=${req.headers.host}`);
  });
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());

  const evil = await h2get(lb.proxyPort, { ':authority': 'good.example', host: 'evil.example' });
  assert.equal(evil.status, 400);
  assert.equal(evil.error, 'bad_request');
  assert.equal(seen.length, 0, 'never reaches a backend');
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.status === 400);
  assert.equal(line.refused, 'bad_request');

  assert.deepEqual(await h2get(lb.proxyPort, { ':authority': 'good.example' }), { status: 200, error: undefined, body: 'host=good.example' });
  assert.equal((await h2get(lb.proxyPort, { ':authority': 'good.example', host: 'GOOD.example' })).status, 200);
  assert.equal((await h2get(lb.proxyPort, { ':authority': 'good.example', host: 'good.example:80' })).status, 200);
  assert.equal(seen.length, 3);
  for (const h of seen) assert.match(String(h['x-forwarded-host']), /^good\.example(:80)?$/i);
});

test('HTTP/1.1: an absolute-form target naming another host than Host is refused 400 too', async (t) => {
  let reached = 0;
  const backend = await startServer((_req, res) => { reached += 1; res.end('ok'); });
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const out = await rawExchange(lb.proxyPort, 'GET http://evil.example/who HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 400 [^]*x-outrigger-error: bad_request/i);
  const same = await rawExchange(lb.proxyPort, 'GET http://GOOD.example:80/who HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n');
  assert.match(same, /^HTTP\/1\.1 200 /);
  assert.equal(reached, 1);
});
