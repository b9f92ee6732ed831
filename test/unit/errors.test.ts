/** Every error class, its stable code and kind, and the one status mapping (proxy/error-response). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as errors from '../../src/errors.js';
import {
  ConfigError, ConnectFailedError, FileRejectedError, NoHealthyBackendError, OutriggerError, OverloadedError, ProxyError, UpstreamError,
  StreamRefusedError, TlsMaterialError, UpstreamResetError, UpstreamTimeoutError,
} from '../../src/errors.js';
import { errorStatus, parserRefusal, rawErrorResponse, refusalStatus, type RefusalKind } from '../../src/proxy/error-response.js';

interface Row {
  readonly make: () => Error;
  readonly cls: string;
  readonly code: string | undefined;
  readonly kind: string | undefined;
  readonly upstreamKind: string | undefined;
  readonly status: number;
  readonly answer: string;
}

const cause = new Error('ECONNREFUSED');
const ROWS: readonly Row[] = [
  { make: () => new NoHealthyBackendError(), cls: 'NoHealthyBackendError', code: 'ERR_NO_HEALTHY_BACKEND', kind: 'no_healthy_backend', upstreamKind: undefined, status: 503, answer: 'no_healthy_backend' },
  { make: () => new OverloadedError(), cls: 'OverloadedError', code: 'ERR_OVERLOADED', kind: 'overloaded', upstreamKind: undefined, status: 503, answer: 'overloaded' },
  { make: () => new ConnectFailedError('10.0.0.1:80', false, cause), cls: 'ConnectFailedError', code: 'ERR_CONNECT_FAILED', kind: 'connect_failed', upstreamKind: 'connect_refused', status: 502, answer: 'connect_failed' },
  { make: () => new ConnectFailedError('10.0.0.1:80', false, Object.assign(new Error('altnames'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), cls: 'ConnectFailedError', code: 'ERR_CONNECT_FAILED', kind: 'connect_failed', upstreamKind: 'protocol', status: 502, answer: 'connect_failed' },
  { make: () => new ConnectFailedError('10.0.0.1:80', true), cls: 'ConnectFailedError', code: 'ERR_CONNECT_FAILED', kind: 'connect_failed', upstreamKind: 'connect_timeout', status: 502, answer: 'connect_failed' },
  { make: () => new UpstreamResetError('10.0.0.1:80', false, cause), cls: 'UpstreamResetError', code: 'ERR_UPSTREAM_RESET', kind: 'upstream_reset', upstreamKind: 'reset', status: 502, answer: 'upstream_reset' },
  { make: () => new UpstreamResetError('10.0.0.1:80', true), cls: 'UpstreamResetError', code: 'ERR_UPSTREAM_RESET', kind: 'upstream_reset', upstreamKind: 'protocol', status: 502, answer: 'upstream_reset' },
  { make: () => new StreamRefusedError('10.0.0.1:80', false), cls: 'StreamRefusedError', code: 'ERR_STREAM_REFUSED', kind: 'upstream_reset', upstreamKind: 'reset', status: 502, answer: 'upstream_reset' },
  { make: () => new UpstreamTimeoutError('10.0.0.1:80', 'headers'), cls: 'UpstreamTimeoutError', code: 'ERR_UPSTREAM_TIMEOUT', kind: 'upstream_timeout', upstreamKind: 'timeout', status: 504, answer: 'upstream_timeout' },
  { make: () => new UpstreamTimeoutError('10.0.0.1:80', 'idle'), cls: 'UpstreamTimeoutError', code: 'ERR_UPSTREAM_TIMEOUT', kind: 'upstream_timeout', upstreamKind: 'timeout', status: 504, answer: 'upstream_timeout' },
  { make: () => new ConfigError(['PROXY_PORT: got "x", expected a port']), cls: 'ConfigError', code: 'ERR_INVALID_CONFIG', kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
  { make: () => new FileRejectedError('ERR_FILE_NOT_REGULAR', 'is a FIFO, expected a regular file'), cls: 'FileRejectedError', code: 'ERR_FILE_NOT_REGULAR', kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
  { make: () => new FileRejectedError('ERR_FILE_TOO_LARGE', 'is 2000000 bytes, larger than the 1 MiB limit'), cls: 'FileRejectedError', code: 'ERR_FILE_TOO_LARGE', kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
  { make: () => new TlsMaterialError('TLS_KEY_FILE', '"/k.pem" does not match the certificate'), cls: 'TlsMaterialError', code: 'ERR_TLS_MATERIAL', kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
  { make: () => new OutriggerError('ERR_SOMETHING', 'generic'), cls: 'OutriggerError', code: 'ERR_SOMETHING', kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
  { make: () => new Error('boom'), cls: 'Error', code: undefined, kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
  { make: () => new TypeError('x is undefined'), cls: 'TypeError', code: undefined, kind: undefined, upstreamKind: undefined, status: 500, answer: 'internal' },
];

/** Abstract bases: never thrown themselves, checked through their subclasses. */
const ABSTRACT = new Set(['ProxyError', 'UpstreamError']);

test('the table has a row for every concrete error class errors.ts exports', () => {
  const exported = Object.entries(errors).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error).map(([k]) => k);
  const covered = new Set(ROWS.map((r) => r.cls));
  for (const name of exported) assert.ok(ABSTRACT.has(name) || covered.has(name), `${name} has no row`);
});

test('codes are stable and unique per class', () => {
  const byCode = new Map<string, string>();
  for (const row of ROWS) {
    if (row.code === undefined || row.cls === 'OutriggerError') continue;
    const seen = byCode.get(row.code);
    assert.ok(seen === undefined || seen === row.cls, `${row.code} used by ${seen} and ${row.cls}`);
    byCode.set(row.code, row.cls);
  }
});

for (const row of ROWS) {
  const label = `${row.cls}${row.upstreamKind !== undefined ? ` (${row.upstreamKind})` : ''}`;
  test(`${label}: code ${row.code ?? '-'}, kind ${row.kind ?? '-'} → ${row.status} ${row.answer}`, () => {
    const err = row.make();
    assert.equal(err.name, row.cls);
    assert.equal((err as { code?: string }).code, row.code);
    assert.equal((err as { kind?: string }).kind, row.kind);
    assert.equal((err as { upstreamKind?: string }).upstreamKind, row.upstreamKind);
    assert.equal(err instanceof ProxyError, row.kind !== undefined);
    assert.equal(err instanceof UpstreamError, row.upstreamKind !== undefined);
    if (row.code !== undefined) assert.ok(err instanceof OutriggerError);
    assert.deepEqual(errorStatus(err), { status: row.status, kind: row.answer });
    if (err instanceof UpstreamError) {
      assert.equal(err.backend, '10.0.0.1:80');
      assert.ok(err.message.includes('10.0.0.1:80'), 'the message names the backend');
    }
  });
}

test('the cause is kept for diagnosis', () => {
  assert.equal(new ConnectFailedError('b:1', false, cause).cause, cause);
  assert.equal(new UpstreamResetError('b:1', false, cause).cause, cause);
});

test('non-Error throwables map to 500 internal and are logged', () => {
  const logged: unknown[] = [];
  const logger = { error: (obj: unknown) => logged.push(obj) } as never;
  assert.deepEqual(errorStatus('a string', logger), { status: 500, kind: 'internal' });
  assert.deepEqual(errorStatus(undefined, logger), { status: 500, kind: 'internal' });
  assert.equal(logged.length, 2);
});

test('proxy errors are expected and not logged as unexpected', () => {
  const logged: unknown[] = [];
  const logger = { error: (obj: unknown) => logged.push(obj) } as never;
  errorStatus(new NoHealthyBackendError(), logger);
  errorStatus(new UpstreamTimeoutError('b:1', 'headers'), logger);
  assert.equal(logged.length, 0);
});

test('TlsMaterialError names the variable whose file is at fault', () => {
  assert.equal(new TlsMaterialError('TLS_CLIENT_CA_FILE', 'x', { cause }).variable, 'TLS_CLIENT_CA_FILE');
});

test('ConfigError keeps one problem per line', () => {
  const err = new ConfigError(['A: bad', 'B: worse']);
  assert.deepEqual(err.problems, ['A: bad', 'B: worse']);
  assert.equal(err.message, 'invalid configuration:\nA: bad\nB: worse');
});

test('rawErrorResponse is a complete HTTP/1.1 answer with the kind header and a one-line body', () => {
  const text = rawErrorResponse(502, 'connect_failed');
  const [head, body] = text.split('\r\n\r\n');
  assert.equal(body, 'connect_failed\n');
  const lines = head!.split('\r\n');
  assert.equal(lines[0], 'HTTP/1.1 502 Bad Gateway');
  assert.ok(lines.includes('x-outrigger-error: connect_failed'));
  assert.ok(lines.includes(`Content-Length: ${Buffer.byteLength(body!)}`));
  assert.ok(lines.includes('Connection: close'));
});

test('refusals: every kind maps to its status in one table, and Node parser codes to their kind', () => {
  const table: Array<[RefusalKind, number]> = [
    ['bad_request', 400], ['method_not_allowed', 405], ['request_timeout', 408], ['expectation_failed', 417],
    ['request_header_too_large', 431], ['unsupported_transfer_coding', 501], ['http_version_not_supported', 505],
  ];
  for (const [kind, status] of table) {
    assert.equal(refusalStatus(kind), status, kind);
    assert.match(rawErrorResponse(status, kind), new RegExp(`^HTTP/1\\.1 ${status} [A-Z]`), kind);
  }
  assert.equal(parserRefusal('HPE_HEADER_OVERFLOW'), 'request_header_too_large');
  assert.equal(parserRefusal('ERR_HTTP_REQUEST_TIMEOUT'), 'request_timeout');
  assert.equal(parserRefusal('HPE_UNEXPECTED_CONTENT_LENGTH'), 'bad_request');
  assert.equal(parserRefusal(undefined), 'bad_request');
});
