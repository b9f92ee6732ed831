/**
 * Issue 7, part C: what a client sends is never buffered without bound, and
 * answers on one connection leave in request order even when a later
 * pipelined request is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { startServer } from '../helpers/http.js';
import { connectWatched, mib, parseResponses, rssBytes, rssSampler, sleep, MiB } from '../helpers/hostile.js';

const OPTS = { timeout: 90_000 };
/** Outrigger's RSS may grow by at most this much under one hostile client (docs/security.md). */
const RSS_BOUND = 64 * MiB;

const UPGRADE = 'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

test('C1: data streamed after an upgrade request, before the backend answers, is not buffered without bound', OPTS, async (t) => {
  // A backend that accepts the connection, reads the handshake and never answers.
  const held = new Set<net.Socket>();
  const silent = net.createServer((s) => { held.add(s); s.on('error', () => undefined); s.resume(); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of held) s.destroy(); silent.close(); });
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${(silent.address() as AddressInfo).port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false',
    UPSTREAM_TIMEOUT_MS: '60000', IDLE_TIMEOUT_MS: '60000',
  });
  t.after(() => lb.stop('SIGKILL'));
  const baseline = rssBytes(lb);
  const sampler = rssSampler(lb);
  const client = await connectWatched(lb.proxyPort, UPGRADE);
  t.after(() => client.socket.destroy());
  await sleep(200); // the handshake is on its way to the backend
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const TOTAL = 200 * MiB;
  const started = Date.now();
  let sent = 0;
  let stalled = false;
  while (sent < TOTAL && !client.ended() && Date.now() - started < 20_000) {
    const flushed = client.socket.write(chunk);
    sent += chunk.length;
    if (!flushed) {
      // TCP backpressure: wait (bounded) for the proxy to read on.
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        client.socket.once('drain', () => { clearTimeout(timer); resolve(true); });
      });
      if (!drained) { stalled = true; break; }
    }
  }
  await sleep(500); // let the proxy take in whatever was still in the kernel buffers
  const peak = sampler.stop();
  const outcome = stalled ? `writes stalled after ${mib(sent)}` : client.ended() ? `closed after ${mib(sent)}: ${JSON.stringify(client.received().split('\r\n')[0])}` : `all ${mib(sent)} accepted`;
  t.diagnostic(`C1: baseline ${mib(baseline)}, peak ${mib(peak)} (+${mib(peak - baseline)}); ${outcome}; ${Date.now() - started} ms`);
  assert.ok(peak - baseline < RSS_BOUND, `Outrigger RSS grew by ${mib(peak - baseline)} (baseline ${mib(baseline)}, peak ${mib(peak)}); ${outcome}`);
  if (client.ended()) assert.match(client.received(), /^(?:$|HTTP\/1\.1 400 )/, 'a close may carry a 400, nothing else');
});

test('C2: a refused pipelined request waits for the answer before it: 200 for the POST, then 400, then close', OPTS, async (t) => {
  let arrived = 0;
  const origin = await startServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      arrived += 1;
      setTimeout(() => res.end(`moved ${body}\n`), 200);
    });
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop('SIGKILL'));
  const client = await connectWatched(lb.proxyPort, 'POST /transfer HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\namount=10');
  t.after(() => client.socket.destroy());
  // The bad bytes must come in a later read than the POST (bytes read together are one invalid stream):
  // they are sent once the POST has reached the backend.
  for (let i = 0; i < 500 && arrived === 0; i++) await sleep(10);
  assert.equal(arrived, 1, 'the POST reached the backend');
  client.socket.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.ok(await client.waitClosed(10_000), 'the connection is closed after the refusal');
  const { responses, rest } = parseResponses(client.received());
  const summary = responses.map((r) => `${r.status} ${JSON.stringify(r.body)}`).join(', ');
  assert.deepEqual(responses.map((r) => r.status), [200, 400], `answers in request order; got [${summary}] + ${JSON.stringify(rest.slice(0, 60))}`);
  assert.equal(responses[0]!.body, 'moved amount=10\n', 'the POST answer is the backend\'s');
  assert.equal(rest, '', 'nothing after the 400');
});
