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
import { echoClient, startEchoServer, unary } from '../helpers/grpc.js';

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

test('HEALTH_CHECK_TYPE=grpc: grpc.health.v1 SERVING keeps a backend in rotation, NOT_SERVING takes it out, a named service is asked for', async (t) => {
  const server = await startEchoServer();
  t.after(() => server.close());
  server.health.set('orders.v1.Orders', 'SERVING');
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${server.port}`, HEALTH_CHECK_TYPE: 'grpc', HEALTH_CHECK_GRPC_SERVICE: 'orders.v1.Orders',
    HEALTH_CHECK_INTERVAL_MS: '100', HEALTHY_THRESHOLD: '1', UNHEALTHY_THRESHOLD: '1',
  });
  t.after(() => lb.stop());
  const state = async () => ((await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json()) as { backends: Array<{ state: string }> }).backends[0]!.state;
  const waitState = async (want: string) => {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (await state() === want) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`backend never became ${want}`);
  };
  await waitState('healthy');
  server.health.set('orders.v1.Orders', 'NOT_SERVING');
  await waitState('unhealthy');
  const line = await lb.waitForLog((l) => l.msg === 'backend unhealthy');
  assert.equal(line.probeError, 'NOT_SERVING');
  server.health.set('orders.v1.Orders', 'SERVING');
  await waitState('healthy');
  server.health.delete('orders.v1.Orders'); // the server answers NOT_FOUND: a failure too
  await waitState('unhealthy');
});
