/**
 * A gRPC backend that fails after its answer began (HEADERS sent, then the
 * stream is reset or the connection dies before the trailers): the
 * @grpc/grpc-js client must get UNAVAILABLE upstream_reset in the trailers,
 * as it would for a failure before the answer, and not a bare stream reset
 * (which it reports as INTERNAL "Call ended without gRPC status").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startOutrigger } from '../helpers/outrigger.js';
import { echoClient, unary } from '../helpers/grpc.js';
import { startH2Backend } from '../helpers/h2-backend.js';

/** Five bytes of a length-prefixed message that announces 100 bytes: the answer breaks off mid-message. */
const PARTIAL_MESSAGE = Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]);

for (const how of ['the stream is reset', 'the connection dies'] as const) {
  test(`answer begun, then ${how}: the client gets UNAVAILABLE upstream_reset, counted and logged`, async (t) => {
    const backend = await startH2Backend((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(PARTIAL_MESSAGE, () => {
        if (how === 'the stream is reset') stream.destroy(new Error('backend failure')); // RST_STREAM INTERNAL_ERROR, no END_STREAM
        else stream.session?.destroy();
      });
    });
    t.after(() => backend.close());
    const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
    t.after(() => lb.stop());
    const client = echoClient(lb.proxyPort);
    t.after(() => client.close());

    await assert.rejects(unary(client, { message: 'hi' }), (err: grpc.ServiceError) => {
      assert.equal(`${err.code} ${err.details}`, `${grpc.status.UNAVAILABLE} upstream_reset`);
      return true;
    });
    const line = await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/2');
    assert.equal(line.grpcStatus, 14);
    const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
    assert.match(metrics, /^outrigger_grpc_requests_total\{grpc_code="UNAVAILABLE"\} 1$/m);
    assert.match(metrics, /^outrigger_upstream_in_flight\{backend="[^"]+"\} 0$/m);
  });
}

test('an HTTP error page instead of a gRPC answer (503, 404, no grpc-status): counted and logged as the code the client reads from it', async (t) => {
  const backend = await startH2Backend((stream, headers) => {
    stream.respond({ ':status': String(headers[':path']).endsWith('Unary') ? 503 : 404, 'content-type': 'text/plain' });
    stream.end('not a gRPC server');
  });
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
  t.after(() => lb.stop());
  const client = echoClient(lb.proxyPort);
  t.after(() => client.close());
  await assert.rejects(unary(client, { message: 'hi' }), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/2');
  assert.deepEqual([line.status, line.grpcStatus], [503, 14]);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_grpc_requests_total\{grpc_code="UNAVAILABLE"\} 1$/m);
  assert.doesNotMatch(metrics, /^outrigger_grpc_requests_total\{grpc_code="UNKNOWN"\}/m);
});
