import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange, startBackend, startServer, request } from '../helpers/http.js';

interface Echo { rawHeaders: string[]; url: string; method: string; bodyBytes: number }

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

test('request: hop-by-hop and Connection-named headers removed, X-Forwarded-For appended, the rest byte-exact and in order', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const raw = [
    'GET /echo/%7Euser/a%2Fb?q=1&q=2&x=%20 HTTP/1.1',
    'Host: app.example.test:8443',
    'X-Custom-B: second',
    'Connection: keep-alive, X-Secret-Hop',
    'X-Secret-Hop: must-not-pass',
    'Keep-Alive: timeout=5',
    'Proxy-Connection: keep-alive',
    'TE: trailers',
    'X-Forwarded-For: 203.0.113.7',
    'x-custom-a: First  Value ',
    'X-Request-Id: req-123',
    'Connection: close',
    '', '',
  ].join('\r\n');
  const reply = await rawExchange(lb.proxyPort, raw);
  const echo = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Echo;
  assert.equal(echo.url, '/echo/%7Euser/a%2Fb?q=1&q=2&x=%20', 'raw path and query untouched');
  const got = pairs(echo.rawHeaders);
  const names = got.map(([n]) => n.toLowerCase());
  for (const hop of ['x-secret-hop', 'keep-alive', 'proxy-connection']) assert.ok(!names.includes(hop), `${hop} removed`);
  // This bodiless request goes through the lean engine (README, "How it proxies"), which writes the
  // fields as received, in order, and no Connection field (HTTP/1.1 keeps the connection by default).
  assert.deepEqual(got.slice(0, 2), [['Host', 'app.example.test:8443'], ['X-Custom-B', 'second']]);
  assert.equal(got.filter(([n]) => n.toLowerCase() === 'connection').length, 0);
  assert.deepEqual(got.find(([n]) => n === 'x-custom-a'), ['x-custom-a', 'First  Value'], 'case and inner spacing kept');
  assert.deepEqual(got.find(([n]) => n === 'TE'), ['TE', 'trailers'], 'TE: trailers kept');
  assert.deepEqual(got.find(([n]) => n === 'X-Forwarded-For'), ['X-Forwarded-For', '203.0.113.7, 127.0.0.1']);
  assert.deepEqual(got.find(([n]) => n === 'X-Forwarded-Proto'), ['X-Forwarded-Proto', 'http']);
  assert.deepEqual(got.find(([n]) => n === 'X-Forwarded-Host'), ['X-Forwarded-Host', 'app.example.test:8443']);
  assert.deepEqual(got.filter(([n]) => n.toLowerCase() === 'x-request-id'), [['X-Request-Id', 'req-123']], 'existing request id kept');
  const log = await lb.waitForLog((l) => l.msg === 'request');
  assert.equal(log.reqId, 'req-123');
  assert.equal(JSON.stringify(log).includes('First  Value'), false, 'header values are not logged');
});

test('Connection naming Host or Content-Length is ignored for those fields, on every upstream client', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  // The lean engine takes a bodiless GET (fields as received); undici a POST with a Content-Length, when Host comes
  // first (it names them `host` and `content-length`, and writes the length last); node:http the rest (here: Host not first).
  const cases = [
    { raw: 'GET /echo/ch HTTP/1.1\r\nHost: a\r\nConnection: Host, X-Hop\r\nX-Hop: 1\r\n\r\n', host: ['Host', 'a'], hostAt: 0, bodyBytes: 0, length: undefined },
    { raw: 'POST /echo/ch HTTP/1.1\r\nHost: a\r\nConnection: Host, Content-Length, X-Hop\r\nX-Hop: 1\r\nContent-Length: 5\r\n\r\nhello', host: ['host', 'a'], hostAt: 0, bodyBytes: 5, length: ['content-length', '5'] },
    { raw: 'POST /echo/ch HTTP/1.1\r\nX-First: 1\r\nHost: a\r\nConnection: Host, Content-Length, X-Hop\r\nX-Hop: 1\r\nContent-Length: 5\r\n\r\nhello', host: ['Host', 'a'], hostAt: 1, bodyBytes: 5, length: ['Content-Length', '5'] },
  ];
  for (const c of cases) {
    const reply = await rawExchange(lb.proxyPort, c.raw.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    assert.match(reply, /^HTTP\/1\.1 200 /, reply);
    const echo = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Echo;
    const got = pairs(echo.rawHeaders);
    assert.deepEqual(got[c.hostAt], c.host, `${c.raw.split(' ')[0]}: Host kept, in its place`);
    assert.equal(got.filter(([n]) => n.toLowerCase() === 'x-hop').length, 0, 'other named headers still removed');
    assert.equal(echo.bodyBytes, c.bodyBytes);
    if (c.length !== undefined) assert.deepEqual(got.find(([n]) => n.toLowerCase() === 'content-length'), c.length, 'the body keeps its length');
  }
});

test('a request id is generated when absent; FORWARDED_HEADERS=false adds nothing', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const on = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => on.stop());
  const echo = JSON.parse((await request(on.proxyPort, '/echo')).text) as Echo;
  const id = pairs(echo.rawHeaders).find(([n]) => n === 'X-Request-Id')?.[1];
  assert.match(id ?? '', /^[0-9a-f-]{36}$/);
  assert.equal((await on.waitForLog((l) => l.msg === 'request')).reqId, id);

  const off = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', FORWARDED_HEADERS: 'false' });
  t.after(() => off.stop());
  const plain = JSON.parse((await request(off.proxyPort, '/echo', { headers: { 'x-one': '1' } })).text) as Echo;
  assert.deepEqual(pairs(plain.rawHeaders).map(([n]) => n.toLowerCase()).filter((n) => n.startsWith('x-')), ['x-one']);
});

test('response: hop-by-hop removed, several Set-Cookie and odd headers relayed, status and reason kept', async (t) => {
  const origin = await startServer((_req, res) => {
    res.writeHead(299, 'Custom Reason', [
      'Set-Cookie', 'a=1', 'Connection', 'X-Hop-Resp', 'X-Hop-Resp', 'gone', 'Set-Cookie', 'b=2',
      'Keep-Alive', 'timeout=1', 'X-Kept', 'yes', 'Set-Cookie', 'c=3',
    ]);
    res.end('ok');
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const r = await request(lb.proxyPort, '/');
  assert.equal(r.status, 299);
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2', 'c=3']);
  assert.equal(r.headers['x-kept'], 'yes');
  assert.equal(r.headers['x-hop-resp'], undefined);
  assert.notEqual(r.headers['keep-alive'], 'timeout=1');
  const line = await rawExchange(lb.proxyPort, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(line, /^HTTP\/1\.1 299 Custom Reason\r\n/);
});

test('HEAD, 204 and 304 are relayed without a body; the connection stays usable', async (t) => {
  const origin = await startServer((req, res) => {
    if (req.url === '/204') { res.writeHead(204); return void res.end(); }
    if (req.url === '/304') { res.writeHead(304, { etag: '"v1"' }); return void res.end(); }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
    res.end(req.method === 'HEAD' ? undefined : 'hello world');
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const out = await rawExchange(lb.proxyPort,
    'HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ['200', '204', '304', '200'], out);
  assert.match(out, /^HTTP\/1\.1 200 OK\r\n[\s\S]*?content-length: 11\r\n[\s\S]*?\r\n\r\nHTTP\/1\.1 204/i, 'HEAD keeps Content-Length, sends no body');
  assert.ok(out.endsWith('hello world'));
});

test('an HTTP/1.0 request without Host reaches the backend with Host set to the backend address', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const reply = await rawExchange(lb.proxyPort, 'GET /echo HTTP/1.0\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.[01] 200 /);
  const echo = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Echo;
  assert.deepEqual(pairs(echo.rawHeaders).find(([n]) => n === 'Host'), ['Host', `127.0.0.1:${backend.port}`]);
});

test('FORWARDED_HEADERS=false, or Host not first: header names, case and order arrive exactly as sent', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const sent = ['HoSt', 'app.example.test', 'X-Custom-B', 'second', 'x-custom-a', 'First'];
  const expectFrom = (echo: Echo) => pairs(echo.rawHeaders).filter(([n]) => n.toLowerCase() !== 'connection');
  const rawHead = (headers: string[]) => `GET /echo HTTP/1.1\r\n${pairs(headers).map(([n, v]) => `${n}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`;
  const bodyOf = (reply: string) => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Echo;

  const exact = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', FORWARDED_HEADERS: 'false' });
  t.after(() => exact.stop());
  assert.deepEqual(expectFrom(bodyOf(await rawExchange(exact.proxyPort, rawHead(sent)))), pairs(sent));

  const usual = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => usual.stop());
  const hostLast = ['X-Custom-B', 'second', 'x-custom-a', 'First', 'HoSt', 'app.example.test'];
  const got = expectFrom(bodyOf(await rawExchange(usual.proxyPort, rawHead(hostLast))));
  assert.deepEqual(got.slice(0, 3), pairs(hostLast), 'the node:http client keeps names and order; X-Forwarded-* follow');
});
