/** HTTP/1.1-shaped heads to HTTP/2 and back (RFC 9113 §8.2.2, §8.3): pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { receivedFields, toH2RequestHeaders, toH2Trailers, withoutPseudoHeaders } from '../../src/transport/h2-headers.js';

const head = (rawHeaders: string[], scheme: 'http' | 'https' = 'http') =>
  toH2RequestHeaders({ method: 'POST', path: '/a?b=1', scheme, rawHeaders, defaultAuthority: '10.0.0.5:8081' });

test('pseudo-headers come from the method, target, scheme and Host; Host itself does not cross', () => {
  assert.deepEqual(head(['Host', 'api.example', 'Accept', '*/*']), {
    ':method': 'POST', ':path': '/a?b=1', ':scheme': 'http', ':authority': 'api.example', accept: '*/*',
  });
  assert.equal(head([], 'https')[':scheme'], 'https');
  assert.equal(head(['Accept', '*/*'])[':authority'], '10.0.0.5:8081', 'no Host: the backend id');
});

test('connection-specific fields are dropped; TE only as exactly trailers', () => {
  const out = head([
    'Connection', 'close', 'Keep-Alive', 'timeout=5', 'Proxy-Connection', 'keep-alive', 'Transfer-Encoding', 'chunked',
    'Upgrade', 'h2c', 'HTTP2-Settings', 'AAA', 'TE', 'gzip', 'X-Kept', 'yes',
  ]);
  assert.deepEqual(Object.keys(out).filter((k) => !k.startsWith(':')), ['x-kept']);
  assert.equal(head(['TE', ' Trailers '])['te'], 'trailers');
  assert.equal(head(['TE', 'trailers', 'TE', 'trailers'])['te'], 'trailers', 'never a list');
});

test('names are lower-cased; repeated fields are combined in order (Cookie with "; ")', () => {
  const out = head(['X-A', '1', 'Cookie', 'a=1', 'x-a', '2', 'cookie', 'b=2', 'Content-Type', 'text/plain']);
  assert.equal(out['x-a'], '1, 2');
  assert.equal(out['cookie'], 'a=1; b=2');
  assert.equal(out['content-type'], 'text/plain');
});

test('a field that looks like a pseudo-header never crosses', () => {
  assert.equal(head([':path', '/evil', 'Host', 'h'])[':path'], '/a?b=1');
});

test('answers lose their pseudo-headers; names, values and order stay', () => {
  assert.deepEqual(withoutPseudoHeaders([':status', '200', 'set-cookie', 'a=1', 'x', 'y', 'set-cookie', 'b=2']), ['set-cookie', 'a=1', 'x', 'y', 'set-cookie', 'b=2']);
});

test('a received block: Node\'s raw list when given; else the header object flattened, repeated values one by one; pseudo-headers gone', () => {
  assert.deepEqual(receivedFields({ ':status': '200', 'x-a': '1' }, [':status', '200', 'X-A', '1', 'x-a', '2']), ['X-A', '1', 'x-a', '2']);
  assert.deepEqual(receivedFields({ ':status': '200', 'set-cookie': ['a=1', 'b=2'], 'content-length': '3' }, undefined), ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'content-length', '3']);
});

test('request trailers: lower-cased, repeated ones combined, connection-specific ones dropped', () => {
  assert.deepEqual(toH2Trailers([['X-Sum', 'a'], ['x-sum', 'b'], ['Connection', 'close'], ['grpc-status', '0']]), { 'x-sum': 'a, b', 'grpc-status': '0' });
});
