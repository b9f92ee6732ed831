/**
 * The transport contract for the HTTP/2 engine: the rows of
 * transport-contract.test.ts that HTTP/2 can express, played by a Node
 * HTTP/2 backend on loopback, with the same expected outcomes, plus the
 * HTTP/2-only ones (a refused stream, a PROTOCOL_ERROR reset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { Backend } from '../../src/upstream/backend.js';
import { parseBackendEntry } from '../../src/upstream/backend-address.js';
import { UpstreamPool } from '../../src/transport/pool.js';
import { sendWithH2 } from '../../src/transport/engine-h2.js';
import { AttemptError, type UpstreamCall } from '../../src/transport/contract.js';
import { contractRequest as request, runExchange as run, type Outcome, type Timeouts } from '../helpers/contract-run.js';
import { startH2Backend } from '../helpers/h2-backend.js';
import { closedPort } from '../helpers/http.js';

const C = http2.constants;

interface Row {
  readonly name: string;
  readonly play: (stream: ServerHttp2Stream) => void;
  readonly expect: Outcome;
  readonly timeouts?: Timeouts;
}

const ROWS: Row[] = [
  { name: 'a plain answer', play: (s) => { s.respond({ ':status': 200 }); s.end('hello'); },
    expect: { answer: 200, body: 'hello', trailers: [], informational: [] } },
  { name: 'an answer with a trailer', play: (s) => {
    s.respond({ ':status': 200 }, { waitForTrailers: true });
    s.once('wantTrailers', () => s.sendTrailers({ 'x-t': '1' }));
    s.end('abc');
  }, expect: { answer: 200, body: 'abc', trailers: ['x-t', '1'], informational: [] } },
  { name: 'a 103 before the answer', play: (s) => {
    s.additionalHeaders({ ':status': 103, link: '</a.css>; rel=preload' });
    s.respond({ ':status': 204 }, { endStream: true });
  }, expect: { answer: 204, body: '', trailers: [], informational: [103] } },
  { name: 'a 503 is an answer, not an error', play: (s) => s.respond({ ':status': 503 }, { endStream: true }),
    expect: { answer: 503, body: '', trailers: [], informational: [] } },
  { name: 'reset before the head', play: (s) => s.close(C.NGHTTP2_INTERNAL_ERROR),
    expect: { error: 'UpstreamResetError', kind: 'reset', during: 'head' } },
  { name: 'a PROTOCOL_ERROR reset', play: (s) => s.close(C.NGHTTP2_PROTOCOL_ERROR),
    expect: { error: 'UpstreamResetError', kind: 'protocol', during: 'head' } },
  { name: 'a refused stream', play: (s) => s.close(C.NGHTTP2_REFUSED_STREAM),
    expect: { error: 'StreamRefusedError', kind: 'reset', during: 'head' } },
  { name: 'a flood of 1xx answers', play: (s) => { for (let i = 0; i < 20; i++) s.additionalHeaders({ ':status': 103, link: '</x>; rel=preload' }); },
    expect: { error: 'UpstreamResetError', kind: 'protocol', during: 'head' } },
  { name: 'no head within UPSTREAM_TIMEOUT_MS', play: () => undefined, timeouts: { upstreamTimeoutMs: 300, idleTimeoutMs: 0 },
    expect: { error: 'UpstreamTimeoutError', kind: 'timeout', during: 'head' } },
  { name: 'a body cut short by a reset', play: (s) => {
    s.respond({ ':status': 200, 'content-length': '10' });
    s.write('abc', () => setTimeout(() => s.destroy(new Error('cut')), 20));
  }, expect: { error: 'UpstreamResetError', kind: 'reset', during: 'body' } },
  { name: 'a slow body with no silence as long as IDLE_TIMEOUT_MS arrives whole', play: (s) => {
    s.respond({ ':status': 200 });
    let sent = 0;
    const timer = setInterval(() => {
      if (s.destroyed) return clearInterval(timer);
      if (++sent === 8) {
        clearInterval(timer);
        s.end('x');
      } else s.write('x');
    }, 100);
  }, timeouts: { idleTimeoutMs: 400, upstreamTimeoutMs: 400 }, expect: { answer: 200, body: 'xxxxxxxx', trailers: [], informational: [] } },
  { name: 'a body gone silent for IDLE_TIMEOUT_MS', play: (s) => { s.respond({ ':status': 200 }); s.write('abc'); },
    timeouts: { idleTimeoutMs: 300 }, expect: { error: 'UpstreamTimeoutError', kind: 'timeout', during: 'body' } },
  { name: 'the session torn down before the head', play: (s) => s.session?.destroy(),
    expect: { error: 'UpstreamResetError', kind: 'reset', during: 'head' } },
];

test('transport contract, HTTP/2 engine: every row gives the outcome the contract states', { timeout: 30_000 }, async (t) => {
  const seen = new Map<string, { authority: unknown; scheme: unknown; host: unknown }>();
  const server = await startH2Backend((stream, headers) => {
    const path = String(headers[':path']);
    seen.set(path, { authority: headers[':authority'], scheme: headers[':scheme'], host: headers.host });
    const row = ROWS[Number(path.slice(4))];
    if (row === undefined) stream.respond({ ':status': 404 }, { endStream: true });
    else row.play(stream);
  });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 5000, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = new Backend(parseBackendEntry(`h2c://127.0.0.1:${server.port}`), true, Date.now());
  for (const [i, row] of ROWS.entries()) {
    const informational: number[] = [];
    const outcome = await run(sendWithH2, backend, pool, request(`/row${i}`, row.timeouts, informational), informational);
    assert.deepEqual(outcome, row.expect, row.name);
    assert.deepEqual(seen.get(`/row${i}`), { authority: 'contract.test', scheme: 'http', host: undefined }, `${row.name}: sent as HTTP/2, Host as :authority`);
  }
  assert.equal(server.sessionsOpened(), 1, 'one session carried every row (the last one tore it down)');
  assert.deepEqual(await run(sendWithH2, backend, pool, request('/row0', undefined, []), []), ROWS[0]!.expect);
  assert.equal(server.sessionsOpened(), 2, 'the next exchange opened a new session');
});

test('transport contract, HTTP/2 engine: a refused connect or a peer that does not speak HTTP/2 is a ConnectFailedError', async (t) => {
  const pool = new UpstreamPool({ keepaliveMs: 1000, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const refused = new Backend(parseBackendEntry(`h2c://127.0.0.1:${await closedPort()}`), true, Date.now());
  assert.deepEqual(await run(sendWithH2, refused, pool, request('/', undefined, []), []), { error: 'ConnectFailedError', kind: 'connect_refused', during: 'head' });

  const http1 = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
  await new Promise<void>((resolve) => http1.listen(0, '127.0.0.1', resolve));
  t.after(() => http1.close());
  const notH2 = new Backend(parseBackendEntry(`h2c://127.0.0.1:${(http1.address() as net.AddressInfo).port}`), true, Date.now());
  const outcome = await run(sendWithH2, notH2, pool, request('/', undefined, []), []);
  assert.equal((outcome as { error: string }).error, 'ConnectFailedError', JSON.stringify(outcome));

  const silent = net.createServer(() => undefined); // accepts, never sends SETTINGS
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => silent.close());
  const mute = new Backend(parseBackendEntry(`h2c://127.0.0.1:${(silent.address() as net.AddressInfo).port}`), true, Date.now());
  assert.deepEqual(await run(sendWithH2, mute, pool, request('/', undefined, []), []), { error: 'ConnectFailedError', kind: 'connect_timeout', during: 'head' });
});

test('transport contract, HTTP/2 engine: abort() resets the stream with CANCEL and the session carries on', async (t) => {
  let hung: ServerHttp2Stream | undefined;
  let onClosed: (code: number | undefined) => void = () => undefined;
  const closed = new Promise<number | undefined>((resolve) => (onClosed = resolve));
  const server = await startH2Backend((stream, headers) => {
    if (headers[':path'] === '/hang') {
      hung = stream;
      stream.once('close', () => onClosed(stream.rstCode));
    } else {
      stream.respond({ ':status': 200 });
      stream.end('after');
    }
  });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 5000, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = new Backend(parseBackendEntry(`h2c://127.0.0.1:${server.port}`), true, Date.now());
  let call: UpstreamCall | undefined;
  const pending = sendWithH2(backend, pool, request('/hang', undefined, []), (c) => (call = c));
  const deadline = Date.now() + 3000;
  while (hung === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  call!.abort();
  await assert.rejects(pending, AttemptError);
  assert.equal(await closed, C.NGHTTP2_CANCEL, 'the backend saw RST_STREAM(CANCEL)');
  assert.deepEqual(await run(sendWithH2, backend, pool, request('/next', undefined, []), []), { answer: 200, body: 'after', trailers: [], informational: [] });
  assert.equal(server.sessionsOpened(), 1, 'the abort did not hurt the session');
});

test('transport contract, HTTP/2 engine: a slow sink holds the backend back (flow control), then gets every byte', { timeout: 20_000 }, async (t) => {
  const total = 8 * 1024 * 1024;
  let written = 0;
  const server = await startH2Backend((stream) => {
    stream.respond({ ':status': 200 });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (written < total) {
        written += chunk.length;
        if (!stream.write(chunk)) return void stream.once('drain', pump);
      }
      stream.end();
    };
    pump();
  });
  t.after(() => server.close());
  const pool = new UpstreamPool({ keepaliveMs: 5000, connectTimeoutMs: 1000 });
  t.after(() => pool.close());
  const backend = new Backend(parseBackendEntry(`h2c://127.0.0.1:${server.port}`), true, Date.now());
  const response = await sendWithH2(backend, pool, request('/big', undefined, []), () => undefined);
  let received = 0;
  let release: (() => void) | undefined;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      if (release === undefined) release = cb; // the first write stalls until released
      else cb();
    },
  });
  const finished = new Promise<string>((resolve) => response.relayBody(sink, (err) => resolve(err === undefined ? 'complete' : err.constructor.name)));
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(written < total / 4, `the backend could write only ${written} of ${total} bytes while the sink was stalled`);
  assert.ok(received < 1024 * 1024, `the sink was offered ${received} bytes while stalled`);
  release!();
  assert.equal(await finished, 'complete');
  assert.equal(received, total);
});
