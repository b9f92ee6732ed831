/**
 * transport/h1-response: what the lean engine's reader makes of each answer,
 * fed whole and fed one byte at a time (the outcome must not depend on how
 * the bytes were split across reads).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseError, ResponseReader, type ResponseHead } from '../../src/transport/h1-response.js';

interface Read {
  informational: number[];
  status?: number;
  reason?: string;
  headers?: string[];
  body: string;
  trailers?: string[];
  error?: string;
  reusable: boolean;
  /** Complete only once the connection ended (read until close). */
  untilClose: boolean;
}

function read(wire: string, opts: { head?: boolean; split?: boolean; eof?: boolean } = {}): Read {
  const r: Read = { informational: [], body: '', reusable: false, untilClose: false };
  const reader = new ResponseReader({
    informational: (h: ResponseHead) => r.informational.push(h.statusCode),
    head: (h: ResponseHead) => Object.assign(r, { status: h.statusCode, reason: h.reason, headers: h.rawHeaders }),
    body: (b: Buffer) => (r.body += b.toString('latin1')),
    end: (t: string[]) => (r.trailers = t),
  }, opts.head ?? false, 1024);
  const bytes = Buffer.from(wire, 'latin1');
  try {
    if (opts.split) for (let i = 0; i < bytes.length; i++) reader.feed(bytes.subarray(i, i + 1));
    else reader.feed(bytes);
    r.untilClose = reader.untilClose;
    if (opts.eof) reader.eof();
  } catch (err) {
    assert.ok(err instanceof ResponseError, String(err));
    r.error = err.message;
  }
  r.reusable = reader.reusable;
  return r;
}

/** Reads `wire` whole and byte by byte; both must agree. */
function both(wire: string, opts: { head?: boolean; eof?: boolean } = {}): Read {
  const whole = read(wire, opts);
  const split = read(wire, { ...opts, split: true });
  // A refused answer may have passed on some body bytes first, depending on the reads: only the refusal must agree.
  if (whole.error !== undefined) assert.ok(split.error !== undefined, 'refused too, fed byte by byte');
  else assert.deepEqual(split, whole, 'the same outcome, fed byte by byte');
  return whole;
}

test('h1-response: Content-Length answer, reusable; fields kept as received, values trimmed', () => {
  const r = both('HTTP/1.1 200 OK\r\nX-A:  spaced \t\r\nContent-Length: 5\r\n\r\nhello');
  assert.deepEqual({ s: r.status, reason: r.reason, h: r.headers, b: r.body, t: r.trailers, reusable: r.reusable },
    { s: 200, reason: 'OK', h: ['X-A', 'spaced', 'Content-Length', '5'], b: 'hello', t: [], reusable: true });
});

test('h1-response: chunked with extensions and trailers; the last coding decides', () => {
  const r = both('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n3;x=y\r\nabc\r\nA \r\n0123456789\r\n0\r\nX-T: 1\r\nX-U: two\r\n\r\n');
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'abc0123456789');
  assert.deepEqual(r.trailers, ['X-T', '1', 'X-U', 'two']);
  assert.equal(r.reusable, true);
});

test('h1-response: 1xx answers before the final one; 204, 304 and HEAD have no body', () => {
  const r = both('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
  assert.deepEqual([r.informational, r.status, r.trailers, r.reusable], [[100, 103], 204, [], true]);
  const head = both('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', { head: true });
  assert.deepEqual([head.status, head.body, head.trailers, head.reusable], [200, '', [], true]);
  // A 304 that announces a body may send it anyway: relayed without one, its connection not reused.
  const announced = both('HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n');
  assert.deepEqual([announced.body, announced.trailers, announced.reusable], ['', [], false]);
});

test('h1-response: no framing reads until the close; HTTP/1.0 and Connection: close are not reused', () => {
  const r = both('HTTP/1.1 200 OK\r\n\r\nabc', { eof: true });
  assert.deepEqual([r.body, r.trailers, r.untilClose, r.reusable], ['abc', [], true, false]);
  assert.equal(both('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx').reusable, false);
  assert.equal(both('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx').reusable, true);
  assert.equal(both('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 1\r\n\r\nx').reusable, false);
});

test('h1-response: bytes after the answer make the connection unusable', () => {
  const r = both('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n');
  assert.deepEqual([r.body, r.reusable], ['x', false]);
});

test('h1-response: Keep-Alive timeout hint, the final answer\'s only', () => {
  const reader = new ResponseReader({ informational() {}, head() {}, body() {}, end() {} }, false, 1024);
  reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nKeep-Alive: max=100, timeout=5\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(reader.keepAliveHintS, 5);
  const after1xx = new ResponseReader({ informational() {}, head() {}, body() {}, end() {} }, false, 1024);
  after1xx.feed(Buffer.from('HTTP/1.1 103 Early Hints\r\nKeep-Alive: timeout=2\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(after1xx.keepAliveHintS, undefined);
});

test('h1-response: Transfer-Encoding lines are one list (an empty last line does not undo chunked)', () => {
  const r = both('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: ,\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
  assert.deepEqual([r.body, r.trailers, r.reusable], ['hello', [], true]);
});

test('h1-response: HTTP/1.0 with Transfer-Encoding is read, then its connection closed (RFC 9112 §6.1)', () => {
  const r = both('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
  assert.deepEqual([r.body, r.trailers, r.reusable], ['x', [], false]);
});

test('h1-response: the head size limit does not depend on where the reads split', () => {
  // A head whose text is exactly the limit (1024 bytes) is taken, fed whole or byte by byte; one byte more is refused either way.
  const filler = (n: number) => `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(n)}`;
  const base = filler(0).length;
  assert.equal(both(`${filler(1024 - base)}\r\n\r\n`).status, 200);
  assert.ok(both(`${filler(1025 - base)}\r\n\r\n`).error !== undefined);
});

const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ['not HTTP', 'SSH-2.0-OpenSSH_9\r\n\r\n'],
  ['HTTP/2.0 status line', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ['a status below 100', 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n'],
  ['a two-digit status', 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n'],
  ['101 to a request without Upgrade', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n'],
  ['space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n'],
  ['a field without a colon', 'HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n'],
  ['a bare CR in a value', 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n'],
  ['a bare LF in the head', 'HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n'],
  ['bare LF line ends only', 'HTTP/1.1 200 OK\nX-A: a\nContent-Length: 3\n\nabc'],
  ['NUL in a value', 'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n'],
  ['two Content-Length fields', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx'],
  ['a list in Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx'],
  ['a signed Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx'],
  ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ['a chunk size too large', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n'],
  ['chunk data without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n'],
  ['a bare LF after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n'],
  ['a head above the limit', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`],
  ['a trailer section above the limit', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`],
  ['an invalid trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Name: 1\r\n\r\n'],
];

for (const [name, wire] of REFUSED) {
  test(`h1-response refuses ${name}`, () => {
    const r = both(wire);
    assert.ok(r.error !== undefined, `refused (got status ${r.status}, body ${JSON.stringify(r.body)})`);
  });
}

test('h1-response: what cannot become a status line is refused at its first bytes, before any CRLF', () => {
  assert.ok(read('GARBAGE\r\nmore').error !== undefined);
  for (const wire of ['hello', '\u0000\u0000\u0012\u0004\u0000', 'HTTP/2', 'http/1.1 200']) {
    assert.ok(read(wire).error !== undefined, JSON.stringify(wire));
    assert.ok(read(wire, { split: true }).error !== undefined, `${JSON.stringify(wire)}, byte by byte`);
  }
  for (const wire of ['H', 'HTTP/1.', 'HTTP/1.1 2', '\r', '\r\n']) assert.equal(read(wire, { split: true }).error, undefined, `${JSON.stringify(wire)} may still become one`);
});

test('h1-response: empty lines before a status line are skipped (as llhttp does)', () => {
  const r = both('\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  assert.deepEqual([r.status, r.body, r.reusable], [200, 'ok', true]);
});

test('h1-response: a chunk-size line may carry long extensions (up to the head limit)', () => {
  const r = both(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=${'e'.repeat(900)}\r\nhello\r\n0\r\n\r\n`);
  assert.deepEqual([r.error, r.body], [undefined, 'hello']);
});

test('h1-response: eof() says whether the answer was whole', () => {
  const sink = { informational() {}, head() {}, body() {}, end() {} };
  const cut = new ResponseReader(sink, false, 1024);
  cut.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(cut.eof(), false);
  const none = new ResponseReader(sink, false, 1024);
  assert.equal(none.eof(), false);
  assert.equal(none.received, 0);
});
