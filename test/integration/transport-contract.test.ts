/**
 * The transport contract, engine by engine: the same table of backend
 * behaviours runs against the undici, node:http and lean engines,
 * called directly (no proxy in between), with a scripted backend on
 * loopback. Each row states the one outcome every engine must give: an
 * answer (status, body, trailers, 1xx seen) or a typed error. The HTTP/2
 * engine runs the rows HTTP/2 can express in transport-contract-h2.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { Backend } from '../../src/upstream/backend.js';
import { parseBackendEntry } from '../../src/upstream/backend-address.js';
import { UpstreamPool } from '../../src/transport/pool.js';
import { sendWithNodeHttp } from '../../src/transport/engine-node.js';
import { sendWithUndici } from '../../src/transport/engine-undici.js';
import { sendLean } from '../../src/transport/engine-lean.js';
import { AttemptError, type UpstreamCall } from '../../src/transport/contract.js';
import { contractRequest as request, runExchange as run, type ContractEngine, type Outcome, type Timeouts } from '../helpers/contract-run.js';
import { startScriptedBackend, type Play } from '../helpers/scripted-backend.js';
import { closedPort } from '../helpers/http.js';

const ENGINES: Record<string, ContractEngine> = {
  undici: (b, pool, r, onCall) => sendWithUndici(b, pool, r, onCall, () => Promise.reject(new Error('undici refused the request'))),
  'node:http': sendWithNodeHttp,
  lean: (b, pool, r, onCall) => sendLean(b, pool.lean, r, onCall, () => Promise.reject(new Error('the lean engine refused the request'))),
};

interface Row {
  readonly name: string;
  readonly play: Play;
  readonly expect: Outcome;
  readonly timeouts?: Timeouts;
}

const hang = (bytes = '') => (socket: net.Socket) => { if (bytes !== '') socket.write(bytes); };

/** A head, then one body byte every `gapMs` (`n` of them): never silent for long, slow in total. */
const drip = (n: number, gapMs: number) => (socket: net.Socket) => {
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n`);
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent === n) return clearInterval(timer);
    socket.write('x');
    sent += 1;
  }, gapMs);
  socket.once('close', () => clearInterval(timer));
};

const ROWS: Row[] = [
  { name: 'a plain answer', play: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
    expect: { answer: 200, body: 'hello', trailers: [], informational: [] } },
  { name: 'a chunked answer with a trailer', play: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n',
    expect: { answer: 200, body: 'abc', trailers: ['X-T', '1'], informational: [] } },
  { name: 'a 103 before the answer', play: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
    expect: { answer: 204, body: '', trailers: [], informational: [103] } },
  { name: 'a 503 is an answer, not an error', play: 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n',
    expect: { answer: 503, body: '', trailers: [], informational: [] } },
  { name: 'closed before the head', play: { bytes: '', close: true },
    expect: { error: 'UpstreamResetError', kind: 'reset', during: 'head' } },
  { name: 'garbage instead of a status line', play: { bytes: 'SSH-2.0-OpenSSH_9\r\n\r\n', close: true },
    expect: { error: 'UpstreamResetError', kind: 'protocol', during: 'head' } },
  { name: 'a transfer coding other than chunked', play: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    expect: { error: 'UpstreamResetError', kind: 'protocol', during: 'head' } },
  { name: 'a flood of 1xx answers', play: 'HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n'.repeat(20),
    expect: { error: 'UpstreamResetError', kind: 'protocol', during: 'head' } },
  { name: 'no head within UPSTREAM_TIMEOUT_MS', play: hang(), timeouts: { upstreamTimeoutMs: 300, idleTimeoutMs: 0 },
    expect: { error: 'UpstreamTimeoutError', kind: 'timeout', during: 'head' } },
  { name: 'a body cut short by a reset', play: { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', close: true },
    expect: { error: 'UpstreamResetError', kind: 'reset', during: 'body' } },
  { name: 'a slow body with no silence as long as IDLE_TIMEOUT_MS arrives whole', play: drip(8, 100), timeouts: { idleTimeoutMs: 400 },
    expect: { answer: 200, body: 'xxxxxxxx', trailers: [], informational: [] } },
  { name: 'a body gone silent for IDLE_TIMEOUT_MS', play: hang('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), timeouts: { idleTimeoutMs: 300 },
    expect: { error: 'UpstreamTimeoutError', kind: 'timeout', during: 'body' } },
];

for (const [engineName, engine] of Object.entries(ENGINES)) {
  test(`transport contract, ${engineName} engine: every row gives the outcome the contract states`, { timeout: 30_000 }, async (t) => {
    const plays = new Map(ROWS.map((r, i) => [`/row${i}`, r.play]));
    const server = await startScriptedBackend((path) => plays.get(path) ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    t.after(() => server.close());
    const pool = new UpstreamPool({ keepaliveMs: 1000, connectTimeoutMs: 1000 });
    t.after(() => pool.close());
    const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
    for (const [i, row] of ROWS.entries()) {
      const informational: number[] = [];
      const outcome = await run(engine, backend, pool, request(`/row${i}`, row.timeouts, informational), informational);
      assert.deepEqual(outcome, row.expect, row.name);
      if (engineName === 'undici') assert.equal(server.firstHeader.get(`/row${i}`), 'host', `${row.name}: undici served it`);
      else assert.equal(server.firstHeader.get(`/row${i}`), 'Host', `${row.name}: ${engineName} served it, with the header as given`);
    }
  });

  test(`transport contract, ${engineName} engine: a refused connect is a ConnectFailedError, and abort() ends a call before its head`, async (t) => {
    const pool = new UpstreamPool({ keepaliveMs: 1000, connectTimeoutMs: 1000 });
    t.after(() => pool.close());
    const refused = new Backend(parseBackendEntry(`127.0.0.1:${await closedPort()}`), true, Date.now());
    assert.deepEqual(await run(engine, refused, pool, request('/', undefined, []), []), { error: 'ConnectFailedError', kind: 'connect_refused', during: 'head' });

    let closed = false;
    const server = await startScriptedBackend(() => (socket) => socket.once('close', () => (closed = true)));
    t.after(() => server.close());
    const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
    let call: UpstreamCall | undefined;
    const pending = engine(backend, pool, request('/hang', undefined, []), (c) => (call = c));
    const deadline = Date.now() + 3000;
    while (server.firstHeader.get('/hang') === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    call!.abort();
    await assert.rejects(pending, AttemptError);
    while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(closed, 'the backend connection was closed by the abort');
  });
}
