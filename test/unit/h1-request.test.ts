/** transport/h1-request's requestHead: the bytes a bodiless request goes out as, or undefined when a part may not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestHead } from '../../src/transport/h1-request.js';

test('requestHead: fields in order and case, no field of its own for GET', () => {
  assert.equal(requestHead({ method: 'GET', path: '/a?b=1', headers: ['Host', 'x', 'x-Custom', 'v\tw'] }), 'GET /a?b=1 HTTP/1.1\r\nHost: x\r\nx-Custom: v\tw\r\n\r\n');
});

test('requestHead: a bodiless POST, PUT or PATCH says Content-Length: 0 unless it has one', () => {
  assert.equal(requestHead({ method: 'POST', path: '/', headers: ['Host', 'x'] }), 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  assert.equal(requestHead({ method: 'PATCH', path: '/', headers: ['Host', 'x', 'content-length', '0'] }), 'PATCH / HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\n\r\n');
  assert.equal(requestHead({ method: 'DELETE', path: '/', headers: ['Host', 'x'] }), 'DELETE / HTTP/1.1\r\nHost: x\r\n\r\n');
});

test('requestHead: nothing that could split the head goes out', () => {
  const bad: Array<[string, string, string[]]> = [
    ['GET', '/', ['Host', 'x', 'X-A', 'a\r\nInjected: 1']],
    ['GET', '/', ['Host', 'x', 'X-A', 'a\u010d\u010aInjected: 1']], // latin1 would write U+010D U+010A as CR LF
    ['GET', '/', ['Host', 'x', 'X-A', 'nul\u0000']],
    ['GET', '/', ['Bad Name', 'x']],
    ['GET', '/a b', ['Host', 'x']],
    ['GET', '*', ['Host', 'x']],
    ['G\rET', '/', ['Host', 'x']],
  ];
  for (const [method, path, headers] of bad) assert.equal(requestHead({ method, path, headers }), undefined, JSON.stringify([method, path, headers]));
  assert.ok(requestHead({ method: 'GET', path: '/', headers: ['X-A', 'caf\u00e9 obs-text'] }) !== undefined, 'obs-text (one latin1 byte) is allowed');
});
