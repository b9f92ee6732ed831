/**
 * Issue 7, part B: a client that leaves takes its work with it. Requests it
 * pipelined behind the one in flight never reach a backend, the one in
 * flight is aborted at the backend, and the per-backend in-flight slots
 * (MAX_REQUESTS_PER_BACKEND) are free again at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, startServer } from '../helpers/http.js';
import { connectWatched, metricSum, pollUntil, scrape, sleep, MiB } from '../helpers/hostile.js';

const OPTS = { timeout: 60_000 };
const SLOW_MS = 1000;

interface Seen { url: string; aborted: boolean; finished: boolean }

/** A backend that records every request it receives; /slow answers after SLOW_MS. */
async function recordingBackend(t: { after(fn: () => unknown): void }) {
  const seen: Seen[] = [];
  const origin = await startServer((req, res) => {
    const entry: Seen = { url: req.url ?? '', aborted: false, finished: false };
    seen.push(entry);
    res.once('finish', () => (entry.finished = true));
    res.once('close', () => { if (!entry.finished) entry.aborted = true; });
    const answer = () => { if (!res.destroyed) res.end(`answer for ${entry.url}\n`); };
    if (entry.url === '/slow') setTimeout(answer, SLOW_MS);
    else answer();
  });
  t.after(() => origin.close());
  return { port: origin.port, seen };
}

const PIPELINE = ['/a', '/slow', '/c'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');

for (const how of ['FIN', 'RST'] as const) {
  test(`B1 (${how}): a client that leaves while /slow is in flight: /c never reaches the backend and /slow is aborted`, OPTS, async (t) => {
    const backend = await recordingBackend(t);
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', MAX_REQUESTS_PER_BACKEND: '10', ACCESS_LOG: 'false' });
    t.after(() => lb.stop('SIGKILL'));
    const client = await connectWatched(lb.proxyPort, PIPELINE);
    t.after(() => client.socket.destroy());
    assert.ok(await pollUntil(() => backend.seen.some((s) => s.url === '/slow'), 5000), `/slow reached the backend; seen ${JSON.stringify(backend.seen.map((s) => s.url))}`);
    await sleep(100);
    if (how === 'FIN') client.socket.end();
    else client.socket.resetAndDestroy();
    await sleep(SLOW_MS + 500);
    const urls = backend.seen.map((s) => s.url);
    const slow = backend.seen.find((s) => s.url === '/slow')!;
    const state = `backend received ${JSON.stringify(urls)}; /slow ${slow.aborted ? 'aborted' : slow.finished ? 'answered in full' : 'still open'}`;
    assert.ok(!urls.includes('/c'), `the backend must never receive /c after the client left (${state})`);
    assert.ok(slow.aborted, `the /slow backend request is aborted when the client leaves (${state})`);
  });
}

test('B2: ten clients leave with 8 MiB answers unread and requests pipelined: in-flight back to 0 within 2 s, a new client gets 200', OPTS, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', MAX_REQUESTS_PER_BACKEND: '10', ACCESS_LOG: 'false' });
  t.after(() => lb.stop('SIGKILL'));
  const big = `GET /bytes?n=${8 * MiB} HTTP/1.1\r\nHost: x\r\n\r\n`;
  // Pipelined behind it: two requests a backend would hold (if they were ever sent, they would keep their slots).
  const more = 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\nGET /delay?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n';
  const clients = await Promise.all(Array.from({ length: 10 }, () => connectWatched(lb.proxyPort, big + more)));
  t.after(() => clients.forEach((c) => c.socket.destroy()));
  for (const c of clients) c.socket.pause(); // never read the answer
  const full = await pollUntil(async () => metricSum(await scrape(lb), 'outrigger_upstream_in_flight') >= 10, 5000);
  assert.ok(full, 'the ten 8 MiB answers are in flight');
  await sleep(300); // let the relays block on the clients' full receive windows
  for (const c of clients) c.socket.destroy(); // leave (unread data: the kernel sends RST)
  const left = Date.now();
  let inFlight = NaN;
  const drained = await pollUntil(async () => (inFlight = metricSum(await scrape(lb), 'outrigger_upstream_in_flight')) === 0, 2000);
  assert.ok(drained, `outrigger_upstream_in_flight is ${inFlight} ${Date.now() - left} ms after the clients left (want 0 within 2 s)`);
  const r = await request(lb.proxyPort, '/ping', { timeoutMs: 5000 });
  assert.equal(r.status, 200, `a new client is served, not refused: ${r.status} ${r.headers['x-outrigger-error'] ?? ''}`);
});

test('B2 control: the backend really is full while the ten answers are unread (the cap is what B2 exercises)', OPTS, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', MAX_REQUESTS_PER_BACKEND: '10', ACCESS_LOG: 'false' });
  t.after(() => lb.stop('SIGKILL'));
  const clients = await Promise.all(Array.from({ length: 10 }, () => connectWatched(lb.proxyPort, `GET /bytes?n=${8 * MiB} HTTP/1.1\r\nHost: x\r\n\r\n`)));
  t.after(() => clients.forEach((c) => c.socket.destroy()));
  for (const c of clients) c.socket.pause();
  assert.ok(await pollUntil(async () => metricSum(await scrape(lb), 'outrigger_upstream_in_flight') >= 10, 5000));
  await sleep(300);
  const r = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: lb.proxyPort, path: '/ping', agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
  });
  assert.equal(r, 503, 'the eleventh request is refused while ten slots are held');
});
