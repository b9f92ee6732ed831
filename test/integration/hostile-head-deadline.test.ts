/**
 * Issue 7, part A: CLIENT_HEADERS_TIMEOUT_MS is a deadline for every request
 * head, measured from accept for the first one and from the first byte of
 * each later one on a keep-alive connection. Idle keep-alive time between
 * requests is CLIENT_KEEPALIVE_TIMEOUT_MS's business, not the head deadline's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend } from '../helpers/http.js';
import { connectWatched, parseResponses, sleep, type Watched } from '../helpers/hostile.js';

const DEADLINE_MS = 500;
/** Everything must be closed by then: the deadline plus a generous margin for a loaded machine. */
const CLOSED_BY_MS = 3000;
const PARTIAL_HEAD = 'GET / HTTP/1.1\r\nHost: x\r\nX-a: ';
const OPTS = { timeout: 60_000 };

async function start(t: { after(fn: () => unknown): void }, env: Record<string, string> = {}) {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false',
    CLIENT_HEADERS_TIMEOUT_MS: String(DEADLINE_MS), CLIENT_KEEPALIVE_TIMEOUT_MS: '10000', ...env,
  });
  t.after(() => lb.stop('SIGKILL'));
  return { backend, lb };
}

/** Opens `n` connections, `batch` at a time (the accept queue is finite). */
async function openMany(port: number, n: number, first?: string, batch = 25): Promise<Watched[]> {
  const out: Watched[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => connectWatched(port, first))));
  }
  return out;
}

function lateOnes(socks: readonly Watched[]): string {
  const open = socks.filter((s) => s.closedAfter() === undefined).length;
  const times = socks.map((s) => s.closedAfter() ?? Infinity);
  return `${open} of ${socks.length} still open; slowest close ${Math.max(...times)} ms`;
}

test('A1: 100 zero-byte connections are closed by the proxy, silently, within the head deadline', OPTS, async (t) => {
  const { lb } = await start(t);
  const socks = await openMany(lb.proxyPort, 100);
  t.after(() => socks.forEach((s) => s.socket.destroy()));
  await Promise.all(socks.map((s) => s.waitClosed(CLOSED_BY_MS - (Date.now() - s.openedAt))));
  assert.ok(socks.every((s) => s.closedAfter() !== undefined && s.closedAfter()! <= CLOSED_BY_MS), lateOnes(socks));
  const answered = socks.filter((s) => s.received() !== '');
  assert.equal(answered.length, 0, `a connection that never sent a byte gets no answer bytes; got ${JSON.stringify(answered[0]?.received().split('\r\n')[0])} on ${answered.length} of 100`);
});

test('A2: after a 400 (CL+TE), a 431 and a bad-byte 400, 200 partial heads are still answered 408 and closed on time', OPTS, async (t) => {
  const { lb } = await start(t);
  const bad: Array<[string, string, number]> = [
    ['CL+TE', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['oversized head', `GET / HTTP/1.1\r\nHost: x\r\nX-big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['control byte in target', 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ];
  for (const [name, bytes, status] of bad) {
    const s = await connectWatched(lb.proxyPort, bytes);
    assert.ok(await s.waitClosed(5000), `${name}: connection closed after the answer`);
    assert.match(s.received(), new RegExp(`^HTTP/1\\.1 ${status} `), name);
  }
  const socks = await openMany(lb.proxyPort, 200, PARTIAL_HEAD);
  t.after(() => socks.forEach((s) => s.socket.destroy()));
  await Promise.all(socks.map((s) => s.waitClosed(CLOSED_BY_MS - (Date.now() - s.openedAt))));
  assert.ok(socks.every((s) => s.closedAfter() !== undefined && s.closedAfter()! <= CLOSED_BY_MS), lateOnes(socks));
  const not408 = socks.filter((s) => !/^HTTP\/1\.1 408 /.test(s.received()));
  assert.equal(not408.length, 0, `every partial head gets 408; first other answer: ${JSON.stringify(not408[0]?.received().slice(0, 60))}`);
});

test('A3: MAX_CONNECTIONS filled with idle connections frees itself within the deadline; a normal client is then served', OPTS, async (t) => {
  const { lb } = await start(t, { MAX_CONNECTIONS: '50' });
  const socks = await openMany(lb.proxyPort, 50);
  t.after(() => socks.forEach((s) => s.socket.destroy()));
  await Promise.all(socks.map((s) => s.waitClosed(CLOSED_BY_MS - (Date.now() - s.openedAt))));
  assert.ok(socks.every((s) => s.closedAfter() !== undefined), lateOnes(socks));
  const r = await request(lb.proxyPort, '/ping', { timeoutMs: 5000 });
  assert.equal(r.status, 200);
  assert.match(r.text, /^pong from backend/);
});

test('A4: a keep-alive client pausing longer than the head deadline (but under the keep-alive timeout) is not cut', OPTS, async (t) => {
  const { lb } = await start(t);
  const s = await connectWatched(lb.proxyPort, 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
  t.after(() => s.socket.destroy());
  assert.ok(await s.waitFor(/pong from backend[^\n]*\n/, 5000), 'first answer');
  await sleep(DEADLINE_MS * 3);
  assert.equal(s.closedAfter(), undefined, `connection cut during an idle keep-alive pause of ${DEADLINE_MS * 3} ms: ${JSON.stringify(s.received().slice(-80))}`);
  s.socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
  await s.waitFor(/pong from backend[^\n]*\n[\s\S]*pong from backend[^\n]*\n/, 5000);
  const statuses = parseResponses(s.received()).responses.map((r) => r.status);
  assert.deepEqual(statuses, [200, 200], `second request on the same socket; received ${JSON.stringify(s.received().slice(-120))}`);
});

test('A5: a stalled second request head on a keep-alive connection gets 408 within the deadline from its first byte', OPTS, async (t) => {
  const { lb } = await start(t);
  const s = await connectWatched(lb.proxyPort, 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
  t.after(() => s.socket.destroy());
  assert.ok(await s.waitFor(/pong from backend[^\n]*\n/, 5000), 'first answer');
  await sleep(DEADLINE_MS * 0.6); // idle, under the deadline: must not count against the next head
  const firstByte = Date.now();
  s.socket.write(PARTIAL_HEAD);
  const got408 = await s.waitFor(/HTTP\/1\.1 408 /, CLOSED_BY_MS);
  const after = Date.now() - firstByte;
  assert.ok(got408, `no 408 within ${CLOSED_BY_MS} ms of the stalled head's first byte; received ${JSON.stringify(s.received().slice(-120))}`);
  assert.ok(after >= DEADLINE_MS * 0.8, `408 came ${after} ms after the head's first byte: the deadline must run from that byte, not from the previous answer`);
  assert.ok(await s.waitClosed(CLOSED_BY_MS), 'closed after the 408');
});
