/**
 * gRPC through Outrigger, with @grpc/grpc-js on both sides (SPEC §8): the
 * client speaks h2c to Outrigger's traffic port; backends are gRPC servers
 * reached over h2c.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startOutrigger } from '../helpers/outrigger.js';
import { closedPort } from '../helpers/http.js';
import { echoClient, unary } from '../helpers/grpc.js';

test('no eligible backend: the call fails UNAVAILABLE with grpc-message no_healthy_backend, counted by grpc_code', async (t) => {
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${await closedPort()}`, HEALTH_CHECK_TYPE: 'tcp' });
  t.after(() => lb.stop());
  const client = echoClient(lb.proxyPort);
  t.after(() => client.close());
  await assert.rejects(unary(client, { message: 'hi' }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.equal(err.details, 'no_healthy_backend');
    assert.equal(err.metadata.get('x-outrigger-error')[0], 'no_healthy_backend');
    return true;
  });
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/2');
  assert.equal(line.grpcStatus, 14);
  assert.equal(line.aborted, undefined, 'a complete answer');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_grpc_requests_total\{grpc_code="UNAVAILABLE"\} 1$/m);
});
