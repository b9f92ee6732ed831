/**
 * Issue 7, part D: a sweep of hostile clients, each test showing that one
 * bound holds: slow bodies are cut by IDLE_TIMEOUT_MS, a slow reader does
 * not make Outrigger buffer the backend's answer, a flood of pipelined
 * requests is cut at the pipelining cap, and WebSocket churn leaks neither
 * file descriptors nor memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, startServer } from '../helpers/http.js';
import { connectWatched, metricSum, mib, openFds, parseResponses, pollUntil, rssBytes, rssSampler, scrape, sleep, MiB } from '../helpers/hostile.js';

const OPTS = { timeout: 120_000 };
const RSS_BOUND = 64 * MiB;

test('D1: a slow request body is cut after IDLE_TIMEOUT_MS and the backend request is aborted', OPTS, async (t) => {
  const IDLE = 1000;
  const seen: Array<{ got: number; aborted: boolean }> = [];
  const origin = await startServer((req, res) => {
    const entry = { got: 0, aborted: false };
    seen.push(entry);
    req.on('data', (d: Buffer) => (entry.got += d.length));
    res.once('close', () => { if (!res.writableFinished) entry.aborted = true; });
    req.once('end', () => res.end('complete\n'));
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', IDLE_TIMEOUT_MS: String(IDLE), ACCESS_LOG: 'false' });
  t.after(() => lb.stop('SIGKILL'));
  const client = await connectWatched(lb.proxyPort, `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(10)}`);
  t.after(() => client.socket.destroy());
  const closed = await client.waitClosed(IDLE + 5000);
  const after = client.closedAfter();
  t.diagnostic(`D1: client cut after ${after} ms with ${JSON.stringify(client.received().split('\r\n')[0] ?? '')}`);
  assert.ok(closed, `the client is cut within IDLE_TIMEOUT_MS + 5 s; received ${JSON.stringify(client.received().slice(0, 80))}`);
  assert.ok(after! >= IDLE * 0.8, `cut after ${after} ms: not before IDLE_TIMEOUT_MS`);
  assert.ok(await pollUntil(() => seen[0]?.aborted === true, 3000), `the backend request is aborted (seen ${JSON.stringify(seen)})`);
  assert.equal(seen[0]!.got, 10, 'the backend got the 10 bytes that were sent');
});

test('D2: a slow reader of a 200 MiB answer does not make Outrigger buffer it', OPTS, async (t) => {
  const TOTAL = 200 * MiB;
  let written = 0;
  const origin = await startServer((_req, res) => {
    res.writeHead(200, { 'content-length': TOTAL });
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    const pump = () => {
      while (written < TOTAL && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop('SIGKILL'));
  const baseline = rssBytes(lb);
  const sampler = rssSampler(lb);
  const client = await connectWatched(lb.proxyPort, 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  t.after(() => client.socket.destroy());
  let read = 0;
  client.socket.on('data', (d: Buffer) => (read += d.length));
  client.socket.pause(); // a reader that has stopped
  await sleep(3000);
  const writtenWhilePaused = written;
  for (let i = 0; i < 30; i++) { // then reads 64 KiB every 100 ms (640 KiB/s)
    client.socket.read(64 * 1024);
    await sleep(100);
  }
  const peak = sampler.stop();
  t.diagnostic(`D2: baseline ${mib(baseline)}, peak ${mib(peak)} (+${mib(peak - baseline)}); backend wrote ${mib(writtenWhilePaused)} while the client was paused, ${mib(written)} in all; client read ${mib(read)}`);
  assert.ok(peak - baseline < RSS_BOUND, `Outrigger RSS grew by ${mib(peak - baseline)} (bound ${mib(RSS_BOUND)})`);
  assert.ok(writtenWhilePaused < 64 * MiB, `backpressure reached the backend: it wrote ${mib(writtenWhilePaused)} while the client read nothing`);
});

test('D3: 1000 pipelined requests in one write: the connection is cut at the pipelining cap; the process stays up and bounded; others are served', OPTS, async (t) => {
  let backendRequests = 0;
  const origin = await startServer((req, res) => { if (req.url === '/p') backendRequests += 1; res.end('ok\n'); });
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop('SIGKILL'));
  const flood = 'GET /p HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1000);
  const baseline = rssBytes(lb);
  const sampler = rssSampler(lb);
  let othersOk = 0;
  let othersBad = 0;
  let flooding = true;
  t.after(() => { flooding = false; });
  const othersUntil = Date.now() + 60_000;
  const others = (async () => {
    while (flooding && Date.now() < othersUntil) {
      const r = await request(lb.proxyPort, '/other', { timeoutMs: 5000 }).catch(() => undefined);
      if (r?.status === 200) othersOk += 1; else othersBad += 1;
    }
  })();
  const answers: number[] = [];
  const ROUNDS = 20;
  for (let round = 0; round < ROUNDS; round++) {
    const before = backendRequests;
    const c = await connectWatched(lb.proxyPort, flood);
    const closed = await c.waitClosed(10_000);
    c.socket.destroy();
    assert.ok(closed, `round ${round}: the flooding connection is closed by the proxy`);
    const { responses } = parseResponses(c.received());
    assert.ok(responses.every((r) => r.status === 200), `round ${round}: answers are the backend's`);
    answers.push(responses.length);
    await sleep(100);
    // Requests are read and answered one at a time until more than 32 wait; then the connection is cut and
    // what waited is dropped. So the backend sees the answered ones, plus at most the one in flight at the
    // cut and one whose answer was still unflushed: never the queued ones.
    const reached = backendRequests - before;
    assert.ok(reached <= responses.length + 2, `round ${round}: ${reached} requests reached the backend for ${responses.length} answers`);
  }
  flooding = false;
  await others;
  const peak = sampler.stop();
  const health = await fetch(`http://127.0.0.1:${lb.adminPort}/healthz`);
  t.diagnostic(`D3: answers per flooding connection ${JSON.stringify(answers)}; backend requests ${backendRequests} over ${ROUNDS} rounds; other client ${othersOk} ok / ${othersBad} failed; RSS baseline ${mib(baseline)}, peak ${mib(peak)} (+${mib(peak - baseline)})`);
  assert.equal(health.status, 200, 'the process is alive');
  assert.equal(lb.child.exitCode, null);
  assert.ok(answers.every((n) => n < 1000), 'no flooding connection is served in full (the cap cuts it)');
  assert.ok(othersOk > 0 && othersBad === 0, `other clients are served meanwhile: ${othersOk} ok, ${othersBad} failed`);
  // 20 000 requests are parsed here; their garbage shows in the peak (+50-60 MiB measured, flat from 20 to 80 rounds).
  assert.ok(peak - baseline < 2 * RSS_BOUND, `RSS grew by ${mib(peak - baseline)}`);
});

/** One WebSocket open/echo/close cycle with the `ws` client; a clean close handshake, or an abrupt terminate (RST-like). */
function wsCycle(port: number, abrupt: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    let echoed = false;
    const timer = setTimeout(() => ws.terminate(), 10_000);
    ws.on('error', () => undefined);
    ws.on('open', () => ws.send('hello'));
    ws.on('message', (data) => {
      echoed = String(data) === 'hello';
      if (abrupt) ws.terminate(); else ws.close(1000);
    });
    ws.on('close', () => { clearTimeout(timer); resolve(echoed); });
  });
}

test('D4: 2000 WebSocket open/close cycles (the ws package on both ends) leave no file descriptors or memory behind', OPTS, async (t) => {
  const backend = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  backend.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
  await new Promise((resolve) => backend.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => { for (const c of backend.clients) c.terminate(); backend.close(() => resolve()); }));
  const port = (backend.address() as net.AddressInfo).port;
  // Memory is compared after the idle collection (IDLE_GC_AFTER_MS) on both sides: what the churn
  // leaves behind for good, not how far V8 grew its young generation while it ran (that depends on
  // the machine's speed: 40 to 65 MiB measured on Node 24).
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', IDLE_GC_AFTER_MS: '300' });
  t.after(() => lb.stop('SIGKILL'));
  const idleCollections = async () => metricSum(await scrape(lb), 'outrigger_idle_gc_total');
  for (let i = 0; i < 20; i++) assert.ok(await wsCycle(lb.proxyPort, i % 2 === 1), 'warm-up cycle');
  assert.ok(await pollUntil(async () => (await idleCollections()) >= 1, 10_000, 100), 'an idle collection after the warm-up');
  const fds0 = openFds(lb);
  const rss0 = rssBytes(lb);
  const sampler = rssSampler(lb, 100);
  const CYCLES = 2000;
  const CONCURRENCY = 20;
  let ok = 0;
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < CYCLES) {
      const i = next++;
      if (await wsCycle(lb.proxyPort, i % 2 === 1)) ok += 1;
    }
  }));
  const took = Date.now() - started;
  const collectedAtEnd = await idleCollections(); // a stall mid-churn may have let one run: wait for the next
  const peak = sampler.stop();
  let fds = NaN;
  const settled = await pollUntil(() => (fds = openFds(lb)) <= fds0 + 10, 5000, 100);
  const collectedAfter = await pollUntil(async () => (await idleCollections()) > collectedAtEnd, 10_000, 100);
  const metrics = await scrape(lb);
  const rss = rssBytes(lb);
  t.diagnostic(`D4: ${ok}/${CYCLES} cycles ok in ${took} ms; fds ${fds0} before, ${fds} after; RSS ${mib(rss0)} before, peak ${mib(peak)}, ${mib(rss)} after`);
  assert.equal(ok, CYCLES, 'every cycle upgraded, echoed and closed');
  assert.ok(settled, `open fds back near baseline: ${fds} (baseline ${fds0})`);
  assert.equal(metricSum(metrics, 'outrigger_tunnels'), 0, 'no tunnel left open');
  assert.equal(metricSum(metrics, 'outrigger_upstream_in_flight'), 0, 'no backend slot left held');
  assert.equal(metricSum(metrics, 'outrigger_downstream_connections'), 0, 'no client connection left open');
  assert.ok(collectedAfter, 'an idle collection after the churn');
  // Even after it, V8 and the allocator keep some of what they grew: a bound, not a return to baseline.
  // Measured: +1 to +10 MiB on Node 22 and 24; +37 to +39 MiB on Node 20, whose collection gives little back.
  const bound = Number(process.versions.node.split('.')[0]) >= 22 ? 24 * MiB : RSS_BOUND;
  assert.ok(rss - rss0 < bound, `RSS after the churn ${mib(rss)} vs ${mib(rss0)} before (bound +${mib(bound)})`);
});
