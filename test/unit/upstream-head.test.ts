/** proxy/upstream-head: what a backend receives, with FORWARDED_HEADERS on and off. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTrace, upstreamHead } from '../../src/proxy/upstream-head.js';
import { Tracing } from '../../src/tracing/tracing.js';
import type { RequestHead } from '../../src/proxy/downstream.js';

function head(raw: string[]): RequestHead {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] ??= raw[i + 1]!;
  return { method: 'GET', url: '/a', httpVersion: '1.1', rawHeaders: raw, headers, protocol: 'HTTP/1.1' };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('forwarded headers on: hop-by-hop fields go, X-Forwarded-* and a new X-Request-Id are added, a client\'s XFCC never crosses', () => {
  const h = head(['Host', 'svc', 'Connection', 'keep-alive', 'X-Forwarded-Client-Cert', 'Hash=forged', 'Accept', '*/*']);
  const { headers, requestId } = upstreamHead(h, '10.0.0.7', undefined, true);
  assert.match(requestId, UUID);
  assert.deepEqual(headers, ['Host', 'svc', 'Accept', '*/*', 'X-Forwarded-For', '10.0.0.7', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'svc', 'X-Request-Id', requestId]);
});

test('forwarded headers on: the client\'s X-Request-Id is kept and reported', () => {
  const { headers, requestId } = upstreamHead(head(['Host', 'svc', 'X-Request-Id', 'abc']), '10.0.0.7', undefined, true);
  assert.equal(requestId, 'abc');
  assert.equal(headers.filter((n) => n.toLowerCase() === 'x-request-id').length, 1);
});

test('forwarded headers off: the fields stay as received (hop-by-hop and XFCC aside); the request id is the client\'s or a new one, not added', () => {
  const given = upstreamHead(head(['Host', 'svc', 'X-Request-Id', 'abc', 'X-Forwarded-Client-Cert', 'Hash=forged']), '10.0.0.7', undefined, false);
  assert.deepEqual(given, { headers: ['Host', 'svc', 'X-Request-Id', 'abc'], requestId: 'abc' });
  const fresh = upstreamHead(head(['Host', 'svc']), '10.0.0.7', undefined, false);
  assert.match(fresh.requestId, UUID);
  assert.deepEqual(fresh.headers, ['Host', 'svc']);
});

test('startTrace: no tracing, no span; with forwarded headers a traceparent slot is made, without them none (-1)', () => {
  const h = head(['Host', 'svc']);
  assert.equal(startTrace(undefined, h, 0, 'http', ['Host', 'svc'], true), undefined);
  const tracing = new Tracing(() => true);
  const headers = ['Host', 'svc'];
  const on = startTrace(tracing, h, 0, 'http', headers, true)!;
  assert.equal(headers[on.at - 1]!.toLowerCase(), 'traceparent');
  assert.match(on.span.traceId, /^[0-9a-f]{32}$/);
  const untouched = ['Host', 'svc'];
  assert.equal(startTrace(tracing, h, 0, 'http', untouched, false)!.at, -1);
  assert.deepEqual(untouched, ['Host', 'svc']);
});
