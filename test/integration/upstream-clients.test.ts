/**
 * The three HTTP/1.1 engines behind transport/select (the lean engine for
 * requests without a body, undici for a Content-Length one, node:http for
 * the rest, here a chunked body) keep the same contract: every case below
 * runs once per engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange, request, sleep, startServer } from '../helpers/http.js';

/**
 * `hostName`: how the backend sees the Host header's name, and `connection`: whether a Connection
 * field came (undici and node:http send one, the lean engine does not); together they tell the engines apart.
 */
const CLIENTS = [
  { name: 'lean (GET, no body)', method: 'GET', body: undefined, chunked: false, hostName: 'Host', connection: false },
  { name: 'undici (POST with a Content-Length body)', method: 'POST', body: 'payload', chunked: false, hostName: 'host', connection: true },
  { name: 'node:http (POST with a chunked body)', method: 'POST', body: 'payload', chunked: true, hostName: 'Host', connection: true },
] as const;

/** The request's head and body as raw bytes, framed as the case says. */
function rawRequest(c: (typeof CLIENTS)[number]): string {
  if (c.body === undefined) return `${c.method} / HTTP/1.1\r\nHost: x\r\n\r\n`;
  if (c.chunked) return `${c.method} / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${c.body.length.toString(16)}\r\n${c.body}\r\n0\r\n\r\n`;
  return `${c.method} / HTTP/1.1\r\nHost: x\r\nContent-Length: ${c.body.length}\r\n\r\n${c.body}`;
}

async function metric(adminPort: number, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1));
}

/** GETs the path and resolves with what arrived before the connection ended, and whether it ended cleanly. */
function fetchRaw(port: number, method: string, body: string | undefined, chunked: boolean): Promise<{ bytes: number; complete: boolean; declared: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', method, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      const declared = Number(res.headers['content-length']);
      res.on('end', () => resolve({ bytes, complete: res.complete, declared }));
      res.on('error', () => resolve({ bytes, complete: false, declared }));
      res.on('aborted', () => resolve({ bytes, complete: false, declared }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    // Written before end(): Node sends it chunked; given to end(): with a Content-Length.
    if (chunked && body !== undefined) req.write(body);
    req.end(chunked ? undefined : body);
  });
}

for (const c of CLIENTS) {
  test(`${c.name}: a backend that breaks off mid-body cuts the client (truncation shows) and counts a reset`, async (t) => {
    let firstHeader = '';
    let connection = false;
    const origin = await startServer((req, res) => {
      firstHeader = req.rawHeaders[0]!;
      connection = req.headers.connection !== undefined;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': 100_000 });
        res.write(Buffer.alloc(10_000, 1));
        setTimeout(() => res.socket?.destroy(), 50);
      });
    });
    t.after(() => origin.close());
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
    t.after(() => lb.stop());
    const got = await fetchRaw(lb.proxyPort, c.method, c.body, c.chunked);
    assert.equal(got.declared, 100_000, 'the head was relayed');
    assert.equal(got.complete, false, 'the client sees a cut, not a complete short body');
    assert.equal(got.bytes, 10_000);
    assert.equal(firstHeader, c.hostName, 'served by the client this case is about');
    assert.equal(connection, c.connection, 'served by the client this case is about (its Connection field)');
    assert.equal(await metric(lb.adminPort, `outrigger_upstream_errors_total{backend="127.0.0.1:${origin.port}",kind="reset"}`), 1);
  });

  test(`${c.name}: a backend silent mid-body for IDLE_TIMEOUT_MS cuts the client and counts a timeout`, async (t) => {
    const origin = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': 100 });
        res.write('partial');
      });
    });
    t.after(() => origin.close());
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', IDLE_TIMEOUT_MS: '300' });
    t.after(() => lb.stop());
    const started = Date.now();
    const got = await fetchRaw(lb.proxyPort, c.method, c.body, c.chunked);
    assert.equal(got.complete, false);
    assert.equal(got.bytes, 7);
    assert.ok(Date.now() - started >= 250, 'not before IDLE_TIMEOUT_MS');
    assert.equal(await metric(lb.adminPort, `outrigger_upstream_errors_total{backend="127.0.0.1:${origin.port}",kind="timeout"}`), 1);
  });

  test(`${c.name}: a client that does not read holds the backend back (backpressure, no whole-body buffering)`, async (t) => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    let blocked: () => void = () => undefined;
    const stalled = new Promise<void>((r) => (blocked = r));
    const origin = await startServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': total });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (written < total) {
            written += chunk.length;
            if (!res.write(chunk)) {
              // Blocked: if no drain comes within 500 ms, the proxy is holding the backend back.
              const timer = setTimeout(blocked, 500);
              res.once('drain', () => { clearTimeout(timer); pump(); });
              return;
            }
          }
          res.end();
        };
        pump();
      });
    });
    t.after(() => origin.close());
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
    t.after(() => lb.stop());
    const client = net.connect(lb.proxyPort, '127.0.0.1');
    client.on('error', () => undefined);
    t.after(() => client.destroy());
    client.write(rawRequest(c));
    client.pause(); // never reads
    await Promise.race([stalled, sleep(8000)]);
    assert.ok(written < total, 'the backend was held back');
    assert.ok(written < 32 * 1024 * 1024, `at most socket buffers in between, not the body (${written} bytes written)`);
  });

  test(`${c.name}: a client that stops reading is cut after IDLE_TIMEOUT_MS, and so is its backend request`, async (t) => {
    let backendClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => (backendClosed = r));
    const origin = await startServer((req, res) => {
      req.resume();
      res.once('close', () => backendClosed());
      req.on('end', () => {
        res.writeHead(200, { 'content-length': 256 * 1024 * 1024 });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => { while (res.write(chunk)); res.once('drain', pump); };
        pump();
      });
    });
    t.after(() => origin.close());
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', IDLE_TIMEOUT_MS: '400' });
    t.after(() => lb.stop());
    const client = net.connect(lb.proxyPort, '127.0.0.1');
    client.on('error', () => undefined);
    t.after(() => client.destroy());
    client.write(rawRequest(c));
    client.pause();
    const started = Date.now();
    const outcome = await Promise.race([closed.then(() => 'closed'), sleep(5000).then(() => 'still open')]);
    assert.equal(outcome, 'closed', 'the backend request is not held forever');
    assert.ok(Date.now() - started >= 300, 'not before IDLE_TIMEOUT_MS');
    // The slot is freed as the proxy tears the exchange down; the backend may see its close first.
    let inFlight = -1;
    for (let i = 0; i < 20 && inFlight !== 0; i++) {
      inFlight = await metric(lb.adminPort, `outrigger_upstream_in_flight{backend="127.0.0.1:${origin.port}"}`);
      if (inFlight !== 0) await sleep(100);
    }
    assert.equal(inFlight, 0, 'its in-flight slot is free');
  });
}

test('a reason phrase in UTF-8 or not: relayed as its bytes by the lean engine; through undici one that is not valid UTF-8 becomes the standard phrase; nothing crashes', async (t) => {
  const origin = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      if (!text.includes('HTTP/1.1')) return; // a body's bytes
      const bad = / \/bad /.test(text);
      s.write(Buffer.concat([
        Buffer.from(bad ? 'HTTP/1.1 404 N' : 'HTTP/1.1 200 ', 'latin1'),
        bad ? Buffer.from([0xe3, 0x6f]) : Buffer.from('ok \u2713', 'utf8'),
        Buffer.from('\r\nContent-Length: 2\r\n\r\nhi', 'latin1'),
      ]));
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  t.after(() => origin.close());
  const port = (origin.address() as net.AddressInfo).port;
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const utf8Ok = Buffer.from('HTTP/1.1 200 ok \u2713\r\n', 'utf8').toString('latin1');
  for (const method of ['GET', 'POST']) {
    const body = method === 'POST' ? 'Content-Length: 1\r\n\r\nx' : '\r\n';
    const good = await rawExchange(lb.proxyPort, `${method} /good HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${body}`);
    assert.ok(good.startsWith(utf8Ok), `${method}: ${good}`);
    const bad = await rawExchange(lb.proxyPort, `${method} /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${body}`);
    if (method === 'GET') assert.match(bad, /^HTTP\/1\.1 404 N\xe3o\r\n[\s\S]*\r\n\r\nhi$/);
    else assert.match(bad, /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*\r\n\r\nhi$/);
  }
  assert.equal((await request(lb.proxyPort, '/good')).status, 200, 'still serving');
});

test('a 304 (or 204) that announces a Content-Length is relayed at once, without a body', async (t) => {
  const origin = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      const status = d.toString('latin1').startsWith('GET /204') ? '204 No Content' : '304 Not Modified';
      s.write(`HTTP/1.1 ${status}\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n`);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  t.after(() => origin.close());
  const port = (origin.address() as net.AddressInfo).port;
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  for (const path of ['/304', '/204']) {
    const started = Date.now();
    const r = await request(lb.proxyPort, path, { headers: { 'if-none-match': '"v1"' }, timeoutMs: 3000 });
    assert.equal(r.status, path === '/304' ? 304 : 204);
    assert.equal(r.body.length, 0);
    assert.ok(Date.now() - started < 2000, 'not held until a timeout');
  }
  assert.equal(await metric(lb.adminPort, `outrigger_upstream_errors_total{backend="127.0.0.1:${port}",kind="reset"}`), 0);
});

test('a request undici will not send as received (a bodiless GET with an Expect list) goes by node:http and reaches the backend', async (t) => {
  let seen: string[] = [];
  const origin = await startServer((req, res) => { seen = req.rawHeaders; res.end('ok'); });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const reply = await rawExchange(lb.proxyPort, 'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, x-custom\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.ok(seen.includes('Expect') && seen.includes('100-continue, x-custom'), `backend saw ${JSON.stringify(seen)}`);
});

test('a pooled backend connection reset before any answer: a GET goes once more on a new connection, a bodiless POST is not sent again', async (t) => {
  let aRequests = 0;
  // Backend A answers the first request on a connection, then resets it on the next one.
  const a = net.createServer((s) => {
    s.on('error', () => undefined);
    let n = 0;
    s.on('data', () => {
      n += 1;
      aRequests += 1;
      if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
      else s.resetAndDestroy();
    });
  });
  await new Promise<void>((r) => a.listen(0, '127.0.0.1', () => r()));
  const aPort = (a.address() as net.AddressInfo).port;
  t.after(() => a.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${aPort}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '1' });
  t.after(() => lb.stop());
  assert.equal((await request(lb.proxyPort, '/warm')).text, 'a');
  // The reused connection resets: most likely the backend's idle close racing the request (Go's http.Transport resends alike).
  const r = await request(lb.proxyPort, '/again');
  assert.equal(`${r.status} ${r.text}`, '200 a');
  assert.equal(aRequests, 3, 'sent on the reused connection, then on a new one');
  const post = await request(lb.proxyPort, '/post', { method: 'POST' });
  assert.equal(post.status, 502, 'a POST may have been acted on: not sent again');
  assert.equal(aRequests, 4);
  assert.equal(await metric(lb.adminPort, `outrigger_outlier_ejections_total{backend="127.0.0.1:${aPort}"}`), 0, 'no verdict on the backend');
  assert.equal((await request(lb.proxyPort, '/after')).text, 'a', 'still in rotation');
});

test('a backend that closes an idle pooled connection costs nothing: the next request takes a new one', async (t) => {
  let connections = 0;
  // Answers one request per connection with keep-alive, then closes it 50 ms later (a short keep-alive timeout).
  const a = net.createServer((s) => {
    connections += 1;
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
      setTimeout(() => s.end(), 50);
    });
  });
  await new Promise<void>((r) => a.listen(0, '127.0.0.1', () => r()));
  t.after(() => a.close());
  const aPort = (a.address() as net.AddressInfo).port;
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${aPort}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '1' });
  t.after(() => lb.stop());
  for (let i = 0; i < 3; i++) {
    assert.equal((await request(lb.proxyPort, `/r${i}`)).text, 'a');
    await sleep(150);
  }
  assert.equal(connections, 3);
  assert.equal(await metric(lb.adminPort, `outrigger_upstream_errors_total{backend="127.0.0.1:${aPort}",kind="reset"}`), 0);
  assert.equal(await metric(lb.adminPort, `outrigger_outlier_ejections_total{backend="127.0.0.1:${aPort}"}`), 0);
});
