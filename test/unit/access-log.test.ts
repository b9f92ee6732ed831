/** The hand-built access line is byte for byte the line pino writes for the same fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { accessLine, type AccessEntry } from '../../src/proxy/access-log.js';

function pinoLine(e: AccessEntry, now: number): string {
  let out = '';
  const logger = pino(
    { level: 'info', base: { name: 'outrigger' }, timestamp: () => `,"time":${now}` },
    { write: (s: string) => void (out += s) },
  );
  logger.info({
    reqId: e.reqId, ...(e.traceId === undefined ? {} : { traceId: e.traceId, spanId: e.spanId }), client: e.client, method: e.method, path: e.path, backend: e.backend, status: e.status,
    durationMs: Math.round(e.durationMs * 100) / 100, attempts: e.attempts, ...(e.aborted ? { aborted: true } : {}),
    ...(e.upstreamError === undefined ? {} : { upstreamError: e.upstreamError }),
    ...(e.protocol === undefined ? {} : { protocol: e.protocol }), ...(e.grpc === true ? { grpcStatus: e.grpcStatus ?? null } : {}),
  }, 'request');
  return out;
}

const base: AccessEntry = {
  reqId: '0b1d0c5e-7f2a-4c34-9b1e-0e7d6f1a2b3c', client: '127.0.0.1', method: 'GET', path: '/ping',
  backend: '127.0.0.1:8081', status: 200, durationMs: 1.23456, attempts: 1, aborted: false,
};

const cases: Array<[string, Partial<AccessEntry>]> = [
  ['a plain request', {}],
  ['no backend (503 before any attempt), status 0, aborted', { backend: null, status: 0, aborted: true }],
  ['an IPv6 client and backend', { client: '::1', backend: '[::1]:8081' }],
  ['a client-given request id with quotes, backslashes and control characters', { reqId: 'a"b\\c\u0001\n' }],
  ['a path with quotes and bytes above 0x7f', { path: '/a"b/\u00e9\u00ff/%22' }],
  ['a long path', { path: `/${'x'.repeat(300)}` }],
  ['a whole-number duration', { durationMs: 12, attempts: 3 }],
  ['an HTTP/2 request', { protocol: 'HTTP/2' }],
  ['a gRPC call with its status', { protocol: 'HTTP/2', grpc: true, grpcStatus: 14 }],
  ['with its trace and SERVER span', { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }],
  ['a gRPC call that got no status', { protocol: 'HTTP/2', grpc: true, grpcStatus: undefined, aborted: true }],
  ['an answer the backend broke off after its head', { aborted: true, upstreamError: 'reset', protocol: 'HTTP/1.1' }],
];

for (const [name, change] of cases) {
  test(`access line equals pino's: ${name}`, () => {
    const e = { ...base, ...change };
    const line = accessLine(e, 1795330000123);
    assert.equal(line, pinoLine(e, 1795330000123));
    assert.equal(JSON.parse(line).path, e.path);
  });
}
