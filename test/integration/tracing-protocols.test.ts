/**
 * SPEC §10 over the other ways in: HTTP/2 to an h2c backend, gRPC
 * (@grpc/grpc-js on both sides), a WebSocket upgrade; and a bad
 * OTEL_TRACES_SAMPLER stopping the process with 78.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { runOutrigger, startOutrigger } from '../helpers/outrigger.js';
import { CLIENT, SERVER, startOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { echoClient, startEchoServer, unary } from '../helpers/grpc.js';

const PARENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN = 'b7ad6b7169203331';
const INCOMING = `00-${PARENT_TRACE}-${PARENT_SPAN}-01`;

const byTrace = (traceId: string) => (s: ReceivedSpan) => s.traceId === traceId;

function pair(spans: ReceivedSpan[]): { server: ReceivedSpan; client: ReceivedSpan } {
  const server = spans.find((s) => s.kind === SERVER);
  const client = spans.find((s) => s.kind === CLIENT);
  assert.ok(server !== undefined && client !== undefined, 'a SERVER and a CLIENT span');
  assert.equal(client.parentSpanId, server.spanId);
  return { server, client };
}

test('HTTP/2 client to an h2c backend: the backend sees the CLIENT span; network.protocol.version is 2', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const seen: Array<string | undefined> = [];
  const backend = http2.createServer((req, res) => {
    seen.push(req.headers.traceparent as string | undefined);
    res.writeHead(200).end('ok');
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  backend.on('session', (s: http2.ServerHttp2Session) => { sessions.add(s); s.once('close', () => sessions.delete(s)); });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => {
    for (const s of sessions) s.destroy(); // Outrigger's pooled session would hold close() until it idles out
    return new Promise<void>((resolve) => backend.close(() => resolve()));
  });
  const lb = await startOutrigger({
    BACKENDS: `h2c://127.0.0.1:${(backend.address() as AddressInfo).port}`, HEALTH_CHECK_TYPE: 'none',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl, OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  t.after(() => lb.stop());

  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());
  session.on('error', () => undefined);
  const status = await new Promise<number>((resolve, reject) => {
    const stream = session.request({ ':path': '/h2', traceparent: INCOMING });
    stream.on('response', (h) => resolve(Number(h[':status'])));
    stream.on('error', reject);
    stream.resume();
  });
  assert.equal(status, 200);
  const { server, client } = pair(await receiver.waitForSpans(byTrace(PARENT_TRACE), 2));
  assert.equal(server.parentSpanId, PARENT_SPAN);
  assert.equal(server.attributes['network.protocol.version'], '2');
  assert.equal(seen[0], `00-${PARENT_TRACE}-${client.spanId}-01`);
});

test('a gRPC call produces SERVER and CLIENT spans named after the method, with rpc.* attributes', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const lb = await startOutrigger({
    BACKENDS: `h2c://127.0.0.1:${echo.port}`, HEALTH_CHECK_TYPE: 'none',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl, OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  t.after(() => lb.stop());
  const client = echoClient(lb.proxyPort);
  t.after(() => client.close());

  assert.equal((await unary(client, { message: 'hi' })).message, 'hi');
  await assert.rejects(unary(client, { message: 'no', fail_with: 14 }));
  const spans = await receiver.waitForSpans((s) => s.name === 'outrigger.test.Echo/Unary', 4);
  const lines = lb.logs.filter((l) => l.msg === 'request');
  assert.equal(lines.length, 2);
  const ok = pair(spans.filter(byTrace(lines.find((l) => l.grpcStatus === 0)!.traceId as string)));
  assert.equal(ok.server.parentSpanId, '', 'grpc-js sends no traceparent: a root span');
  assert.deepEqual(
    [ok.server.attributes['rpc.system'], ok.server.attributes['rpc.service'], ok.server.attributes['rpc.method'], ok.server.attributes['rpc.grpc.status_code']],
    ['grpc', 'outrigger.test.Echo', 'Unary', 0],
  );
  assert.equal(ok.server.attributes['network.protocol.version'], '2');
  assert.equal(ok.client.attributes['rpc.grpc.status_code'], 0);
  assert.equal(ok.server.statusCode, 0);
  const failed = pair(spans.filter(byTrace(lines.find((l) => l.grpcStatus === 14)!.traceId as string)));
  assert.equal(failed.server.attributes['rpc.grpc.status_code'], 14);
  assert.equal(failed.server.statusCode, 2, 'UNAVAILABLE is an error on the server side');
  assert.equal(failed.client.statusCode, 2);
});

test('a WebSocket upgrade request is a SERVER span; its backend gets traceparent naming the CLIENT span', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const seen: Array<string | undefined> = [];
  const backend = http.createServer((_req, res) => res.writeHead(404).end());
  backend.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    seen.push(req.headers.traceparent as string | undefined);
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => { backend.closeAllConnections(); return new Promise<void>((resolve) => backend.close(() => resolve())); });
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${(backend.address() as AddressInfo).port}`, HEALTH_CHECK_TYPE: 'none',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl, OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  t.after(() => lb.stop());

  const head = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(lb.proxyPort, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) { socket.destroy(); resolve(got); }
    });
    socket.on('error', reject);
    socket.write(`GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\ntraceparent: ${INCOMING}\r\n\r\n`);
  });
  assert.match(head, /^HTTP\/1\.1 101 /);
  const { server, client } = pair(await receiver.waitForSpans(byTrace(PARENT_TRACE), 2));
  assert.equal(server.parentSpanId, PARENT_SPAN);
  assert.equal(server.attributes['http.response.status_code'], 101);
  assert.equal(seen[0], `00-${PARENT_TRACE}-${client.spanId}-01`);
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.upgrade === true);
  assert.equal(line.traceId, PARENT_TRACE);
  assert.equal(line.spanId, server.spanId);
});

test('an unknown OTEL_TRACES_SAMPLER (or a bad ratio) exits 78 naming the variable', async () => {
  for (const [name, value] of [['OTEL_TRACES_SAMPLER', 'sometimes'], ['OTEL_TRACES_SAMPLER_ARG', '2']] as const) {
    const { code, stderr } = await runOutrigger({ BACKENDS: '127.0.0.1:1', PROXY_PORT: '0', ADMIN_PORT: '0', [name]: value });
    assert.equal(code, 78);
    assert.match(stderr, new RegExp(`invalid configuration: ${name}: got "${value}", expected`));
  }
});
