/** The hand-encoded grpc.health.v1 messages, against known protobuf bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthRequest, healthStatus, probeStatusError } from '../../src/health/grpc-probe.js';
import { grpcTimeoutMs, grpcStatusIn } from '../../src/proxy/grpc.js';
import { grpcCodeName } from '../../src/grpc-codes.js';

test('HealthCheckRequest: empty service is an empty message; a name is field 1, length-delimited', () => {
  assert.deepEqual([...healthRequest('')], [0, 0, 0, 0, 0]);
  assert.deepEqual([...healthRequest('a.B')], [0, 0, 0, 0, 5, 0x0a, 3, 0x61, 0x2e, 0x42]);
  assert.equal(healthRequest('x'.repeat(200)).subarray(5, 8).toString('hex'), '0ac801', 'a two-byte varint length');
});

test('HealthCheckResponse: the status field, defaults and malformed input', () => {
  const frame = (bytes: number[]) => Buffer.from([0, 0, 0, 0, bytes.length, ...bytes]);
  assert.equal(healthStatus(frame([0x08, 0x01])), 1, 'SERVING');
  assert.equal(healthStatus(frame([0x08, 0x02])), 2, 'NOT_SERVING');
  assert.equal(healthStatus(frame([])), 0, 'all defaults: UNKNOWN');
  assert.equal(healthStatus(frame([0x12, 0x01, 0x7a, 0x08, 0x01])), 1, 'an unknown field before the status is skipped');
  assert.equal(healthStatus(Buffer.from([1, 0, 0, 0, 0])), undefined, 'compressed: not read');
  assert.equal(healthStatus(Buffer.from([0, 0, 0, 0, 9, 0x08])), undefined, 'truncated');
});

test('grpc-timeout parsing, grpc-status lookup and code names', () => {
  assert.equal(grpcTimeoutMs('100m'), 100);
  assert.equal(grpcTimeoutMs('2S'), 2000);
  assert.equal(grpcTimeoutMs('1H'), 3_600_000);
  assert.equal(grpcTimeoutMs('500u'), 1, 'sub-millisecond rounds up to 1 ms');
  assert.equal(grpcTimeoutMs('123456789S'), undefined, 'more than 8 digits');
  assert.equal(grpcTimeoutMs('5s'), undefined, 'unknown unit');
  assert.equal(grpcTimeoutMs(undefined), undefined);
  assert.equal(grpcStatusIn(['content-type', 'application/grpc', 'Grpc-Status', '14']), 14);
  assert.equal(grpcStatusIn(['grpc-message', 'x']), undefined);
  assert.equal(grpcCodeName(0), 'OK');
  assert.equal(grpcCodeName(16), 'UNAUTHENTICATED');
  assert.equal(grpcCodeName(99), 'UNKNOWN');
  assert.equal(grpcCodeName(undefined), 'UNKNOWN');
});

test('probeStatusError: a failed health call named by code and name; a value that is not a code shown as sent', () => {
  assert.equal(probeStatusError('12'), 'grpc-status 12 UNIMPLEMENTED');
  assert.equal(probeStatusError('5'), 'grpc-status 5 NOT_FOUND');
  assert.equal(probeStatusError('99'), 'grpc-status 99 UNKNOWN');
  assert.equal(probeStatusError(''), 'grpc-status ""');
  assert.equal(probeStatusError('x1'), 'grpc-status "x1"');
  assert.equal(probeStatusError(undefined), 'grpc-status missing');
});
