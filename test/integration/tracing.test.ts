/**
 * SPEC §10 end to end: Outrigger (the built process) between a client and
 * recording backends, exporting to a real OTLP/HTTP receiver that decodes
 * the protobuf (test/helpers/otlp-receiver). Spans, their links and
 * attributes, the traceparent each backend saw, and the access line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { closedPort, request, startServer } from '../helpers/http.js';
import { CLIENT, SERVER, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const INCOMING = `00-${PARENT_TRACE}-${PARENT_SPAN}-01`;
const STATE = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

interface Seen { traceparent: string | undefined; tracestate: string | undefined; raw: string[] }

/** A backend that records the trace headers it got and answers `status`. */
async function recordingBackend(status = 200) {
  const seen: Seen[] = [];
  const server = await startServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({ traceparent: req.headers.traceparent as string | undefined, tracestate: req.headers.tracestate as string | undefined, raw: req.rawHeaders });
    res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
  });
  return { ...server, seen };
}

/** Export settings that make batches leave quickly. */
function exportEnv(receiver: OtlpReceiver): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl, OTEL_BSP_SCHEDULE_DELAY: '50', HEALTH_CHECK_TYPE: 'none' };
}

async function metric(lb: Outrigger, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

const byTrace = (traceId: string) => (s: ReceivedSpan) => s.traceId === traceId;

test('a request with a traceparent: SERVER span under the caller, CLIENT span under it, the backend sees the CLIENT span, tracestate unchanged', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, ...exportEnv(receiver), OTEL_SERVICE_NAME: 'edge-lb' });
  t.after(() => lb.stop());

  const reply = await request(lb.proxyPort, '/orders/42?secret=1', { headers: { traceparent: INCOMING, tracestate: STATE } });
  assert.equal(reply.status, 200);
  const spans = await receiver.waitForSpans(byTrace(PARENT_TRACE), 2);
  const server = spans.find((s) => s.kind === SERVER)!;
  const client = spans.find((s) => s.kind === CLIENT)!;
  assert.ok(server && client, 'one SERVER and one CLIENT span');
  assert.equal(server.parentSpanId, PARENT_SPAN, "the SERVER span's parent is the caller's span");
  assert.equal(client.parentSpanId, server.spanId, "the CLIENT span's parent is the SERVER span");
  assert.equal(server.name, 'GET');
  assert.equal(client.name, 'GET');
  assert.deepEqual(server.resource['service.name'], 'edge-lb');
  assert.equal(server.scope, 'outrigger');
  assert.equal(server.flags & 0xff, 1);
  assert.ok(server.endNs >= server.startNs && client.startNs >= server.startNs && client.endNs <= server.endNs, 'the CLIENT span lies within the SERVER span');
  assert.deepEqual(
    { ...server.attributes, 'server.port': undefined, 'client.address': undefined },
    {
      'http.request.method': 'GET', 'url.path': '/orders/42', 'url.scheme': 'http', 'network.protocol.version': '1.1',
      'server.address': '127.0.0.1', 'server.port': undefined, 'client.address': undefined, 'http.response.status_code': 200,
    },
  );
  assert.equal(server.attributes['server.port'], lb.proxyPort);
  assert.equal(server.attributes['client.address'], '127.0.0.1');
  assert.deepEqual(client.attributes, { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': backend.port, 'http.response.status_code': 200 });
  assert.equal(server.statusCode, 0);

  // What the backend saw: the same trace, its own attempt's span, the state as sent.
  assert.equal(backend.seen.length, 1);
  assert.equal(backend.seen[0]!.traceparent, `00-${PARENT_TRACE}-${client.spanId}-01`);
  assert.equal(backend.seen[0]!.tracestate, STATE);
  assert.equal(backend.seen[0]!.raw.filter((h) => h.toLowerCase() === 'traceparent').length, 1, 'one traceparent field');

  const line = await lb.waitForLog((l) => l.msg === 'request');
  assert.equal(line.traceId, PARENT_TRACE);
  assert.equal(line.spanId, server.spanId, 'the access line names the SERVER span');
});

test('no traceparent, or an invalid one: a new trace starts, sampled; an invalid one\'s tracestate is dropped', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, ...exportEnv(receiver) });
  t.after(() => lb.stop());

  await request(lb.proxyPort, '/none');
  await request(lb.proxyPort, '/upper', { headers: { traceparent: INCOMING.toUpperCase(), tracestate: STATE } });
  await request(lb.proxyPort, '/zero', { headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT_SPAN}-01` } });
  assert.equal(backend.seen.length, 3);
  const ids = backend.seen.map((s) => TRACEPARENT.exec(s.traceparent ?? ''));
  for (const m of ids) {
    assert.ok(m !== null, 'the backend got a well-formed traceparent');
    assert.notEqual(m[1], PARENT_TRACE);
    assert.equal(m[3], '01', 'parentbased_always_on samples a new root');
  }
  assert.equal(new Set(ids.map((m) => m![1])).size, 3, 'three distinct traces');
  assert.equal(backend.seen[1]!.tracestate, undefined, 'the state of a trace that was not continued does not travel');
  for (const m of ids) {
    const spans = await receiver.waitForSpans(byTrace(m![1]!), 2);
    const server = spans.find((s) => s.kind === SERVER)!;
    assert.equal(server.parentSpanId, '', 'a root span');
    assert.equal(spans.find((s) => s.kind === CLIENT)!.spanId, m![2], 'the backend saw the CLIENT span');
  }
});

test('a retry is a second CLIENT span under the same SERVER span; the backend that answered saw the second', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const dead = await closedPort();
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${dead},127.0.0.1:${backend.port}`, ...exportEnv(receiver), RETRIES: '1' });
  t.after(() => lb.stop());

  // Round robin: of two requests, one goes to the closed port first and is retried.
  for (let i = 0; i < 2; i++) assert.equal((await request(lb.proxyPort, '/r')).status, 200);
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.attempts === 2);
  const traceId = line.traceId as string;
  const spans = await receiver.waitForSpans(byTrace(traceId), 3);
  const server = spans.find((s) => s.kind === SERVER)!;
  const clients = spans.filter((s) => s.kind === CLIENT).sort((a, b) => Number(a.startNs - b.startNs));
  assert.equal(clients.length, 2);
  for (const c of clients) assert.equal(c.parentSpanId, server.spanId);
  assert.equal(clients[0]!.attributes['server.port'], dead);
  assert.equal(clients[0]!.attributes['error.type'], 'connect_refused');
  assert.equal(clients[0]!.statusCode, 2, 'the failed attempt is an error');
  assert.equal(clients[1]!.attributes['http.request.resend_count'], 1);
  assert.equal(clients[1]!.attributes['http.response.status_code'], 200);
  assert.equal(server.attributes['http.response.status_code'], 200);
  const sawRetry = backend.seen.find((s) => s.traceparent?.includes(traceId));
  assert.equal(sawRetry?.traceparent, `00-${traceId}-${clients[1]!.spanId}-01`);
});

test('FORWARDED_HEADERS=false: traceparent reaches the backend as received and none is added; spans are still recorded', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, ...exportEnv(receiver), FORWARDED_HEADERS: 'false' });
  t.after(() => lb.stop());

  await request(lb.proxyPort, '/a', { headers: { traceparent: INCOMING, tracestate: STATE } });
  await request(lb.proxyPort, '/b');
  await request(lb.proxyPort, '/c', { headers: { TraceParent: INCOMING.toUpperCase() } });
  assert.equal(backend.seen[0]!.traceparent, INCOMING);
  assert.equal(backend.seen[0]!.tracestate, STATE);
  assert.equal(backend.seen[1]!.traceparent, undefined, 'nothing added');
  assert.deepEqual(backend.seen[2]!.raw.slice(backend.seen[2]!.raw.indexOf('TraceParent'), backend.seen[2]!.raw.indexOf('TraceParent') + 2), ['TraceParent', INCOMING.toUpperCase()], 'an invalid one passes untouched');
  const spans = await receiver.waitForSpans(byTrace(PARENT_TRACE), 2);
  assert.equal(spans.find((s) => s.kind === SERVER)!.parentSpanId, PARENT_SPAN);
});

test('OTEL_TRACES_SAMPLER=always_off: nothing is exported, traceparent still propagates with flags 00', async (t) => {
  const receiver = await startOtlpReceiver();
  t.after(() => receiver.close());
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, ...exportEnv(receiver), OTEL_TRACES_SAMPLER: 'always_off' });
  t.after(() => lb.stop());

  await request(lb.proxyPort, '/a', { headers: { traceparent: INCOMING } });
  await request(lb.proxyPort, '/b');
  const [a, b] = backend.seen.map((s) => TRACEPARENT.exec(s.traceparent ?? ''));
  assert.equal(a?.[1], PARENT_TRACE, 'the caller\'s trace continues');
  assert.equal(a?.[3], '00');
  assert.equal(b?.[3], '00');
  // A batch would have left after 50 ms; give it many times that.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(receiver.requests.length, 0, 'no export request');
  assert.equal(await metric(lb, 'outrigger_trace_spans_dropped_total'), 0);
});

test('a receiver that hangs never delays requests: the full queue drops spans, counted', async (t) => {
  const receiver = await startOtlpReceiver({ hang: true });
  t.after(() => receiver.close());
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, ...exportEnv(receiver),
    OTEL_BSP_MAX_QUEUE_SIZE: '4', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2', OTEL_EXPORTER_OTLP_TIMEOUT: '60000', OTEL_BSP_EXPORT_TIMEOUT: '60000',
  });
  t.after(() => lb.stop('SIGKILL'));

  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    assert.equal((await request(lb.proxyPort, `/${i}`, { timeoutMs: 3000 })).status, 200);
    assert.ok(performance.now() - started < 2000, 'answered without waiting for the export');
  }
  assert.ok(receiver.requests.length >= 1, 'an export was attempted');
  const dropped = await metric(lb, 'outrigger_trace_spans_dropped_total');
  assert.ok(dropped >= 20, `40 spans, at most a few in flight or queued; dropped ${dropped}`);
});

test('a receiver that is down never fails requests: the spans it did not take count as dropped', async (t) => {
  const backend = await recordingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${await closedPort()}/v1/traces`,
    OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
  });
  t.after(() => lb.stop());
  for (let i = 0; i < 5; i++) assert.equal((await request(lb.proxyPort, `/${i}`)).status, 200);
  await lb.waitForLog((l) => l.msg === 'trace export failed; spans dropped', 10_000);
  const deadline = Date.now() + 10_000;
  while (await metric(lb, 'outrigger_trace_spans_dropped_total') < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await metric(lb, 'outrigger_trace_spans_dropped_total'), 10, 'five requests, two spans each');
});
