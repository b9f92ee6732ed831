/**
 * gRPC through Outrigger, with @grpc/grpc-js on both sides (SPEC §8): the
 * client speaks h2c to Outrigger's traffic port; backends are gRPC servers
 * reached over h2c.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { closedPort } from '../helpers/http.js';
import { echoClient, startEchoServer, unary } from '../helpers/grpc.js';
import { startH2Backend } from '../helpers/h2-backend.js';

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
  const notFound = await lb.waitForLog((l) => l.msg === 'backend unhealthy' && l !== line);
  assert.equal(notFound.probeError, 'grpc-status 5 NOT_FOUND');
});

test('HEALTH_CHECK_TYPE=grpc against a server without the health service: unhealthy, the log names UNIMPLEMENTED', async (t) => {
  const server = await startEchoServer({ withHealth: false });
  t.after(() => server.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${server.port}`, HEALTH_CHECK_TYPE: 'grpc', HEALTH_CHECK_INTERVAL_MS: '100', UNHEALTHY_THRESHOLD: '1',
  }, { waitReady: false });
  t.after(() => lb.stop());
  const line = await lb.waitForLog((l) => l.msg === 'backend unhealthy');
  assert.equal(line.probeError, 'grpc-status 12 UNIMPLEMENTED');
});

type Client = ReturnType<typeof echoClient>;

async function grpcSetup(t: { after(fn: () => unknown): void }, backends: number, env: Record<string, string> = {}) {
  const servers = await Promise.all(Array.from({ length: backends }, () => startEchoServer()));
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const lb = await startOutrigger({ BACKENDS: servers.map((s) => `h2c://127.0.0.1:${s.port}`).join(','), HEALTH_CHECK_TYPE: 'none', ...env });
  t.after(() => lb.stop());
  const client = echoClient(lb.proxyPort);
  t.after(() => client.close());
  return { servers, lb, client };
}

function collect<T>(call: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    call.on('data', (item: T) => items.push(item));
    call.on('end', () => resolve(items));
    call.on('error', reject);
  });
}

test('unary, server-streaming, client-streaming and bidi calls through Outrigger to h2c gRPC backends', async (t) => {
  const { lb, client } = await grpcSetup(t, 1);
  assert.equal((await unary(client, { message: 'hello' })).message, 'hello');
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { backends: Array<{ protocol: string }> };
  assert.equal(status.backends[0]!.protocol, 'HTTP/2', '/api/status shows the protocol of each backend');
  const open = collect(client.ServerStream!({ count: 3, interval_ms: 200 }) as grpc.ClientReadableStream<{ index: number }>);
  await new Promise((r) => setTimeout(r, 100));
  const during = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(during, /^outrigger_downstream_streams 1$/m, 'the open stream is counted');
  assert.equal((await open).length, 3);
  const items = await collect(client.ServerStream!({ count: 5, interval_ms: 5 }) as grpc.ClientReadableStream<{ index: number }>);
  assert.deepEqual(items.map((i) => i.index), [0, 1, 2, 3, 4]);
  const summed = await new Promise<{ message: string; index: number }>((resolve, reject) => {
    const call = client.ClientStream!((err: grpc.ServiceError | null, reply: { message: string; index: number }) => (err ? reject(err) : resolve(reply))) as grpc.ClientWritableStream<{ message: string }>;
    for (const m of ['a', 'b', 'c']) call.write({ message: m });
    call.end();
  });
  assert.deepEqual([summed.message, summed.index], ['a,b,c', 3]);
  const bidi = client.Bidi!() as grpc.ClientDuplexStream<{ message: string }, { message: string; index: number }>;
  const echoed = collect(bidi);
  for (const m of ['x', 'y']) bidi.write({ message: m });
  bidi.end();
  assert.deepEqual((await echoed).map((r) => r.message), ['x', 'y']);
});

test('300 calls on one channel spread per call over three backends; an 8 MiB message arrives byte-exact', async (t) => {
  const { servers, client } = await grpcSetup(t, 3, { ACCESS_LOG: 'false' });
  const counts = new Map<number, number>();
  for (let batch = 0; batch < 30; batch++) {
    const replies = await Promise.all(Array.from({ length: 10 }, () => unary(client, { message: 'm' })));
    for (const r of replies) counts.set(r.backend, (counts.get(r.backend) ?? 0) + 1);
  }
  assert.deepEqual(servers.map((s) => counts.get(s.port)), [100, 100, 100], 'round-robin per call, not per connection');
  const payload = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
  const reply = await unary(client, { message: 'big', payload }, 20_000);
  assert.ok(Buffer.compare(reply.payload, payload) === 0, 'the 8 MiB payload came back byte for byte');
});

test('a backend status and its message are relayed; a client deadline cancels the backend call', async (t) => {
  const { servers, lb, client } = await grpcSetup(t, 1);
  await assert.rejects(unary(client, { message: 'no such order', fail_with: grpc.status.NOT_FOUND }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'no such order');
    assert.deepEqual([...(err.metadata.get('x-detail-bin')[0] as Buffer)], [0, 1, 2, 250, 255], 'binary trailer metadata relayed byte-exact');
    return true;
  });
  const cancelledBefore = servers[0]!.calls.get('Unary cancelled') ?? 0;
  await assert.rejects(unary(client, { message: 'slow', delay_ms: 2000 }, 200), (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED);
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.path === '/outrigger.test.Echo/Unary' && l.grpcStatus !== 5);
  // Whichever is first: the client's RST_STREAM at its deadline (CANCELLED), or Outrigger's own timer,
  // which grpc-timeout armed with the same deadline (DEADLINE_EXCEEDED).
  assert.ok(line.grpcStatus === 1 || line.grpcStatus === 4, `the deadline ended the call: grpcStatus ${String(line.grpcStatus)}`);
  // The backend saw the cancellation (RST_STREAM CANCEL reached it), long before its 2 s were up.
  const deadline = Date.now() + 1000;
  while ((servers[0]!.calls.get('Unary cancelled') ?? 0) === cancelledBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(servers[0]!.calls.get('Unary cancelled'), cancelledBefore + 1, 'the backend call was cancelled');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_grpc_requests_total\{grpc_code="NOT_FOUND"\} 1$/m);
  assert.match(metrics, /^outrigger_upstream_in_flight\{backend="[^"]+"\} 0$/m);
});

test('a backend killed under continuous calls: every call made after its death succeeds; only calls in flight then may fail', async (t) => {
  const { servers, client } = await grpcSetup(t, 3, { ACCESS_LOG: 'false', HEALTH_CHECK_TYPE: 'tcp', HEALTH_CHECK_INTERVAL_MS: '100' });
  const CONCURRENCY = 5;
  let done = 0;
  let killedAt = Infinity;
  const inFlightAtKill: string[] = [];
  const afterKill: string[] = [];
  let running = true;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (running) {
      const startedAt = performance.now();
      await unary(client, { message: 'x', delay_ms: 5 }).then(() => (done += 1), (err: grpc.ServiceError) => {
        // Until the connection's close reaches Outrigger (well under 50 ms on loopback) a call may still be sent on it.
        (startedAt < killedAt + 50 ? inFlightAtKill : afterKill).push(`${err.code} ${err.details}`);
      });
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  killedAt = performance.now();
  servers[1]!.server.forceShutdown();
  await new Promise((r) => setTimeout(r, 1000));
  running = false;
  await Promise.all(workers);
  assert.ok(done > 50, `only ${done} calls completed`);
  // Connect failures, refused streams and the dead backend's removal are absorbed by retries and health checks.
  assert.deepEqual(afterKill, [], 'no call made after the backend died (+50 ms) failed');
  // A call the dead backend had already received may have run there: it fails UNAVAILABLE upstream_reset, never retried.
  assert.ok(inFlightAtKill.length <= 2 * CONCURRENCY, `${inFlightAtKill.length} calls in flight at the kill failed`);
  for (const e of inFlightAtKill) assert.equal(e, '14 upstream_reset');
});

test('backends that rotate their connections (grpc.max_connection_age_ms: GOAWAY, streams above it refused): every call succeeds, the refused ones retried, no backend blamed', async (t) => {
  for (const backends of [1, 2]) {
    const servers = await Promise.all(Array.from({ length: backends }, () => startEchoServer({ options: { 'grpc.max_connection_age_ms': 200 } })));
    t.after(() => Promise.all(servers.map((s) => s.close())));
    const lb = await startOutrigger({
      BACKENDS: servers.map((s) => `h2c://127.0.0.1:${s.port}`).join(','), HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', OUTLIER_CONSECUTIVE_FAILURES: '3',
    });
    t.after(() => lb.stop());
    const client = echoClient(lb.proxyPort);
    t.after(() => client.close());
    const failures: string[] = [];
    let calls = 0;
    let refused = 0;
    // Until a few refusals happened (a GOAWAY crossing calls in flight), at most 8 s or 20 000 calls.
    const end = Date.now() + 8000;
    const worker = async () => {
      while (Date.now() < end && calls < 20_000 && refused < 5) {
        calls += 1;
        await unary(client, { message: 'm', delay_ms: 2 }).catch((err: grpc.ServiceError) => failures.push(`${err.code} ${err.details}`));
      }
    };
    const watch = (async () => {
      while (Date.now() < end && refused < 5) {
        await new Promise((r) => setTimeout(r, 200));
        const m = /^outrigger_retries_total\{reason="refused_stream"\} (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text());
        refused = Number(m?.[1] ?? 0);
      }
    })();
    await Promise.all([...Array.from({ length: 16 }, worker), watch]);
    assert.ok(refused > 0, `${backends} backend(s): no stream was refused in ${calls} calls; the test saw nothing`);
    assert.deepEqual(failures, [], `${backends} backend(s): ${calls} calls, ${refused} refused and retried`);
    const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
    assert.doesNotMatch(metrics, /^outrigger_outlier_ejections_total\{[^}]*\} [1-9]/m, 'no backend ejected for refusing streams');
  }
});

test('an h2c backend that refuses every stream (REFUSED_STREAM, no GOAWAY): calls go to the other backend, and it is ejected', async (t) => {
  const refuser = await startH2Backend((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
  t.after(() => refuser.close());
  const good = await startEchoServer();
  t.after(() => good.close());
  const lb = await startOutrigger({
    BACKENDS: `h2c://127.0.0.1:${refuser.port},h2c://127.0.0.1:${good.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false',
    LB_ALGORITHM: 'round-robin', OUTLIER_CONSECUTIVE_FAILURES: '3',
  });
  t.after(() => lb.stop());
  const client = echoClient(lb.proxyPort);
  t.after(() => client.close());
  for (let i = 0; i < 20; i++) assert.equal((await unary(client, { message: `m${i}` })).backend, good.port);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`^outrigger_outlier_ejections_total\\{backend="127\\.0\\.0\\.1:${refuser.port}"\\} 1$`, 'm'));
});

test('SIGTERM during long server streams: every stream completes, exit 0', async (t) => {
  const { lb, client } = await grpcSetup(t, 2, { SHUTDOWN_DELAY_MS: '200', DRAIN_TIMEOUT_MS: '5000' });
  const streams = Array.from({ length: 6 }, () => collect(client.ServerStream!({ count: 15, interval_ms: 100 }) as grpc.ClientReadableStream<{ index: number }>));
  await new Promise((r) => setTimeout(r, 300));
  lb.child.kill('SIGTERM');
  const results = await Promise.all(streams);
  for (const items of results) assert.equal(items.length, 15, 'every message of every stream arrived');
  assert.equal(await lb.exited, 0);
});

test('DRAIN_TIMEOUT_MS runs out under long server streams: every call ends UNAVAILABLE (the connection dropped, retryable), none INTERNAL; exit 0', async (t) => {
  const { lb, client } = await grpcSetup(t, 2, { SHUTDOWN_DELAY_MS: '200', DRAIN_TIMEOUT_MS: '500' });
  const ends = Array.from({ length: 3 }, () => new Promise<string>((resolve) => {
    const call = client.ServerStream!({ count: 100, interval_ms: 50 }) as grpc.ClientReadableStream<{ index: number }>;
    let n = 0;
    call.on('data', () => (n += 1));
    call.on('error', (err: grpc.ServiceError) => resolve(`${err.code} after ${n > 0 ? 'some' : 'no'} messages`));
    call.on('end', () => resolve('complete'));
  }));
  await new Promise((r) => setTimeout(r, 300));
  lb.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(ends), Array(3).fill(`${grpc.status.UNAVAILABLE} after some messages`));
  assert.equal(await lb.exited, 0);
  assert.equal(lb.logs.filter((l) => l.msg === 'request' && l.protocol === 'HTTP/2').length, 3, 'each cut call is logged before the exit');
});

test('SIGTERM with SHUTDOWN_DELAY_MS: unary calls at a steady rate through the delay, on a channel from before and on one opened during it, all succeed; exit 0', async (t) => {
  const { lb, client } = await grpcSetup(t, 2, { SHUTDOWN_DELAY_MS: '1500', DRAIN_TIMEOUT_MS: '5000', ACCESS_LOG: 'false' });
  assert.equal((await unary(client, { message: 'warm' })).message, 'warm');
  const outcomes: string[] = [];
  const call = (c: Client) => unary(c, { message: 'm' }).then(() => outcomes.push('OK'), (err: grpc.ServiceError) => outcomes.push(`${err.code} ${err.details}`));
  const calls: Promise<unknown>[] = [];
  // Every 20 ms from 100 ms before the SIGTERM to 1100 ms after it (the delay is 1500 ms): 60 calls.
  for (let i = 0; i < 60; i++) {
    if (i === 5) lb.child.kill('SIGTERM');
    calls.push(call(client));
    await new Promise((r) => setTimeout(r, 20));
  }
  // A client that connects during the delay, as kube-proxy may still send it here.
  const late = echoClient(lb.proxyPort);
  t.after(() => late.close());
  for (let i = 0; i < 5; i++) calls.push(call(late));
  await Promise.all(calls);
  assert.deepEqual(outcomes.filter((o) => o !== 'OK'), [], 'no call failed');
  assert.equal(outcomes.length, 65);
  assert.equal(await lb.exited, 0);
});

test('SIGTERM under steady concurrent gRPC load: channels from before and from during SHUTDOWN_DELAY_MS, calls back to back until late in the delay, none fails; exit 0', async (t) => {
  // Node refuses a stream that crosses any GOAWAY it sends; grpc-js retries such a call once by itself.
  // So no call may meet a second GOAWAY: a session opened during the delay must not be sent away again
  // while the delay lasts (docs/security.md, "HTTP/2 drain").
  const { lb, client } = await grpcSetup(t, 2, { SHUTDOWN_DELAY_MS: '3000', DRAIN_TIMEOUT_MS: '5000', ACCESS_LOG: 'false' });
  assert.equal((await unary(client, { message: 'warm' })).message, 'warm');
  const second = echoClient(lb.proxyPort);
  t.after(() => second.close());
  assert.equal((await unary(second, { message: 'warm' })).message, 'warm');
  const failures: string[] = [];
  let ok = 0;
  let stopAt = Infinity;
  const started = Date.now();
  // Three calls in flight per channel, each followed at once by the next; bounded in time and count.
  const worker = async (c: Client) => {
    for (let n = 0; n < 3000 && Date.now() < stopAt && Date.now() - started < 10_000; n++) {
      await unary(c, { message: 'm' }).then(() => (ok += 1), (err: grpc.ServiceError) => failures.push(`${err.code} ${err.details}`));
    }
  };
  const workers = [client, second].flatMap((c) => [worker(c), worker(c), worker(c)]);
  await new Promise((r) => setTimeout(r, 200));
  lb.child.kill('SIGTERM');
  await lb.waitForLog((l) => l.msg === 'shutdown: draining, readiness now 503');
  stopAt = Date.now() + 1500; // well before the end of the delay
  await new Promise((r) => setTimeout(r, 300));
  const late = echoClient(lb.proxyPort); // connects during the delay
  t.after(() => late.close());
  workers.push(worker(late), worker(late), worker(late));
  await Promise.all(workers);
  assert.deepEqual(failures, [], `no call failed (${ok} succeeded)`);
  assert.ok(ok > 100, `calls were made throughout (${ok})`);
  assert.equal(await lb.exited, 0);
});

test('a trailers-only UNAVAILABLE is retried on another backend; INTERNAL/UNAVAILABLE answers eject a backend (outlier detection)', async (t) => {
  const { servers, lb, client } = await grpcSetup(t, 2, { OUTLIER_CONSECUTIVE_FAILURES: '3', OUTLIER_MAX_EJECTION_PERCENT: '50', ACCESS_LOG: 'false' });
  // Backend 0 answers every call UNAVAILABLE without a message body (trailers-only).
  servers[0]!.server.unregister('/outrigger.test.Echo/Unary');
  const refuse: grpc.handleUnaryCall<unknown, unknown> = (_call, cb) => cb({ code: grpc.status.UNAVAILABLE, details: 'draining' });
  servers[0]!.server.register('/outrigger.test.Echo/Unary', refuse, (v: unknown) => Buffer.from(JSON.stringify(v)), (b: Buffer) => b, 'unary');
  for (let i = 0; i < 6; i++) {
    const reply = await unary(client, { message: `m${i}` });
    assert.equal(reply.backend, servers[1]!.port, 'answered by the healthy backend, after a retry where needed');
  }
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_retries_total\{reason="grpc_unavailable"\} [1-9]/m);
  assert.match(metrics, new RegExp(`^outrigger_outlier_ejections_total\\{backend="127\\.0\\.0\\.1:${servers[0]!.port}"\\} 1$`, 'm'));
});

test('grpc-timeout is the call\'s deadline: it bounds connecting and the retries, ends in DEADLINE_EXCEEDED, and blames no backend', async (t) => {
  // Two h2c backends that accept the connection and never send SETTINGS: every connect waits for CONNECT_TIMEOUT_MS.
  const silent = await Promise.all([0, 1].map(async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    return (server.address() as net.AddressInfo).port;
  }));
  const lb = await startOutrigger({
    BACKENDS: silent.map((p) => `h2c://127.0.0.1:${p}`).join(','), HEALTH_CHECK_TYPE: 'none',
    CONNECT_TIMEOUT_MS: '5000', OUTLIER_CONSECUTIVE_FAILURES: '1',
  });
  t.after(() => lb.stop());
  // A client that sends grpc-timeout and waits for Outrigger's answer (grpc-js would cancel at its own deadline).
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  const started = Date.now();
  const answer = await new Promise<{ status: string; message: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/outrigger.test.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '300m' });
    let head: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    stream.on('trailers', (tr) => resolve({ status: String(tr['grpc-status']), message: String(tr['grpc-message']), trailers: tr }));
    stream.on('end', () => resolve({ status: String(head['grpc-status']), message: String(head['grpc-message']), trailers: head }));
    stream.on('error', reject);
    stream.resume();
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  const took = Date.now() - started;
  assert.deepEqual([answer.status, answer.message], ['4', 'upstream_timeout'], `answered after ${took} ms: ${JSON.stringify(answer.trailers)}`);
  assert.ok(took < 4000, `the 300 ms deadline ended the call after ${took} ms (CONNECT_TIMEOUT_MS is 5000)`);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.doesNotMatch(metrics, /outrigger_outlier_ejections_total\{[^}]*\} [1-9]/, 'no backend was ejected for the client\'s deadline');
  assert.match(metrics, /^outrigger_grpc_requests_total\{grpc_code="DEADLINE_EXCEEDED"\} 1$/m);
});
