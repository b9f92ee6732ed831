/**
 * The two upstream clients behind proxy/attempt (undici for requests without
 * a body, node:http for requests with one) keep the same contract: every
 * case below runs once per client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, sleep, startServer } from '../helpers/http.js';

const CLIENTS = [
  { name: 'undici (GET, no body)', method: 'GET', body: undefined },
  { name: 'node:http (POST with a body)', method: 'POST', body: 'payload' },
] as const;

async function metric(adminPort: number, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line));
  return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1));
}

/** GETs the path and resolves with what arrived before the connection ended, and whether it ended cleanly. */
function fetchRaw(port: number, method: string, body: string | undefined): Promise<{ bytes: number; complete: boolean; declared: number }> {
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
    req.end(body);
  });
}

for (const c of CLIENTS) {
  test(`${c.name}: a backend that breaks off mid-body cuts the client (truncation shows) and counts a reset`, async (t) => {
    const origin = await startServer((req, res) => {
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
    const got = await fetchRaw(lb.proxyPort, c.method, c.body);
    assert.equal(got.declared, 100_000, 'the head was relayed');
    assert.equal(got.complete, false, 'the client sees a cut, not a complete short body');
    assert.equal(got.bytes, 10_000);
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
    const got = await fetchRaw(lb.proxyPort, c.method, c.body);
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
    const head = c.body === undefined ? `${c.method} / HTTP/1.1\r\nHost: x\r\n\r\n` : `${c.method} / HTTP/1.1\r\nHost: x\r\nContent-Length: ${c.body.length}\r\n\r\n${c.body}`;
    client.write(head);
    client.pause(); // never reads
    await Promise.race([stalled, sleep(8000)]);
    assert.ok(written < total, 'the backend was held back');
    assert.ok(written < 32 * 1024 * 1024, `at most socket buffers in between, not the body (${written} bytes written)`);
  });
}

test('a GET whose pooled backend connection is reset before any answer is retried on another backend', async (t) => {
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
  const b = await startServer((_req, res) => res.end('b'));
  t.after(() => { a.close(); return b.close(); });
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${aPort},127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '0', LB_ALGORITHM: 'round-robin',
  });
  t.after(() => lb.stop());
  assert.equal((await request(lb.proxyPort, '/warm')).text, 'a');
  assert.equal((await request(lb.proxyPort, '/warm')).text, 'b');
  const r = await request(lb.proxyPort, '/again'); // A's reused connection resets: retried on B
  assert.equal(r.status, 200);
  assert.equal(r.text, 'b');
  assert.equal(aRequests, 2);
  assert.equal(await metric(lb.adminPort, 'outrigger_retries_total{reason="upstream_reset"}'), 1);
});
