/** Re-framing for trailers (proxy/reframe) and the HTTP/1.1 engine's one framing per message (transport/engine-node). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { chunksForTrailers, dropContentLength, sendsChunked } from '../../src/proxy/reframe.js';
import { framed } from '../../src/transport/engine-node.js';
import type { RequestHead } from '../../src/proxy/downstream.js';

function head(protocol: RequestHead['protocol'], headers: IncomingHttpHeaders, method = 'POST', httpVersion = '1.1'): RequestHead {
  return { method, url: '/', httpVersion, rawHeaders: [], headers, protocol };
}

test('sendsChunked: unknown length always; an HTTP/2 body with a length only when trailers may follow', () => {
  const table: Array<[RequestHead, boolean]> = [
    [head('HTTP/1.1', { 'transfer-encoding': 'chunked' }), true],
    [head('HTTP/1.1', { 'content-length': '5', te: 'trailers' }), false],
    [head('HTTP/2', {}), true],
    [head('HTTP/2', { 'content-length': '5' }), false],
    [head('HTTP/2', { 'content-length': '5', te: 'trailers' }), true],
    [head('HTTP/2', { 'content-length': '5', trailer: 'x-sum' }), true],
    [head('HTTP/2', { 'content-length': '5', 'content-type': 'application/grpc+proto' }), true],
    [head('HTTP/2', { 'content-length': '5', 'content-type': 'text/plain' }), false],
  ];
  for (const [h, want] of table) assert.equal(sendsChunked(h), want, JSON.stringify(h));
});

test('chunksForTrailers: an HTTP/1.1 client that sent TE: trailers, not HEAD, not HTTP/1.0, not HTTP/2', () => {
  assert.equal(chunksForTrailers(head('HTTP/1.1', { te: 'trailers' }, 'GET')), true);
  assert.equal(chunksForTrailers(head('HTTP/1.1', { te: 'gzip;q=0.5, Trailers' }, 'GET')), true);
  assert.equal(chunksForTrailers(head('HTTP/1.1', {}, 'GET')), false);
  assert.equal(chunksForTrailers(head('HTTP/1.1', { te: 'gzip' }, 'GET')), false);
  assert.equal(chunksForTrailers(head('HTTP/1.1', { te: 'trailers' }, 'HEAD')), false);
  assert.equal(chunksForTrailers(head('HTTP/1.1', { te: 'trailers' }, 'GET', '1.0')), false);
  assert.equal(chunksForTrailers(head('HTTP/2', { te: 'trailers' }, 'GET')), false);
});

test('dropContentLength removes every Content-Length, whatever its case, and keeps the rest in order', () => {
  const raw = ['content-type', 'text/plain', 'Content-Length', '5', 'x-a', '1', 'content-length', '5'];
  dropContentLength(raw);
  assert.deepEqual(raw, ['content-type', 'text/plain', 'x-a', '1']);
});

test('framed: with Transfer-Encoding, a Content-Length does not go to an HTTP/1.1 backend too; otherwise the list is untouched', () => {
  const both = ['Host', 'x', 'content-length', '5', 'Transfer-Encoding', 'chunked'];
  assert.deepEqual(framed(both), ['Host', 'x', 'Transfer-Encoding', 'chunked']);
  const lengthOnly = ['Host', 'x', 'content-length', '5'];
  assert.equal(framed(lengthOnly), lengthOnly);
});
