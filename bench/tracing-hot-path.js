/**
 * `node bench/tracing-hot-path.js [--requests 200000]` (after `npm run build`): the CPU a request's
 * tracing costs in-process, without sockets, four ways — the hot path Outrigger uses (ids from a
 * random pool, small span records; src/tracing) and the OpenTelemetry SDK's Tracer doing the same
 * work (W3C propagator extract, a SERVER span, a CLIENT span, traceparent injected, attributes,
 * end), each with no export and with a BatchSpanProcessor feeding an exporter that discards.
 * Prints µs per request for each; compare with the proxy's CPU µs per request from
 * `npm run bench -- --tracing`. Runs are interleaved and repeated; the medians are shown.
 */
import { parseArgs } from 'node:util';
import { setImmediate as tick } from 'node:timers/promises';
import { context, propagation, trace, ROOT_CONTEXT, SpanKind, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler } from '@opentelemetry/sdk-trace-base';
import { Tracing } from '../dist/tracing/tracing.js';
import { createSampler } from '../dist/tracing/sampler.js';
import { exportedSpans } from '../dist/tracing/export-span.js';

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(args.requests);
const CHUNK = 256; // let the batch processor's exports run between chunks, as the event loop would
const INCOMING = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const discard = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined, forceFlush: async () => undefined };
const bsp = () => new BatchSpanProcessor(discard, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000 });
const resource = resourceFromAttributes({ 'service.name': 'outrigger' });
const entry = { reqId: 'r', client: '127.0.0.1', method: 'GET', path: '/ping', backend: '127.0.0.1:8081', status: 200, durationMs: 1, attempts: 1, aborted: false, protocol: 'HTTP/1.1' };

/** Outrigger's hot path: what forward.ts and outcome.ts do per request. */
function ours(exporting) {
  const tracing = new Tracing(createSampler('parentbased_always_on', 1));
  const processor = exporting ? bsp() : undefined;
  if (processor) tracing.exportTo({ export: (s, e, end) => { for (const span of exportedSpans(s, e, end, resource, { name: 'outrigger' })) processor.onEnd(span); }, close: async () => undefined });
  const headers = ['Host', 'x', 'traceparent', INCOMING];
  return (i) => {
    const start = performance.now();
    const span = tracing.server(i % 2 === 0 ? INCOMING : undefined, start, '127.0.0.1:8080', 'http');
    const attempt = tracing.client(span, '127.0.0.1:8081', start);
    headers[3] = attempt.traceparent;
    attempt.status = 200;
    const line = { ...entry, traceId: span.traceId, spanId: span.spanId };
    tracing.finish(span, line, start + 1);
  };
}

/** The SDK's Tracer on the hot path, doing the same. */
function sdk(exporting) {
  const provider = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), resource, spanProcessors: exporting ? [bsp()] : [] });
  const tracer = provider.getTracer('outrigger');
  const propagator = new W3CTraceContextPropagator();
  propagation.setGlobalPropagator(propagator);
  const carrier = {};
  return (i) => {
    const incoming = i % 2 === 0 ? { traceparent: INCOMING } : {};
    const parent = propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter);
    const server = tracer.startSpan('GET', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'url.path': '/ping', 'url.scheme': 'http', 'server.address': '127.0.0.1', 'server.port': 8080, 'network.protocol.version': '1.1', 'client.address': '127.0.0.1' },
    }, parent);
    const ctx = trace.setSpan(parent, server);
    const client = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': 8081 } }, ctx);
    propagator.inject(trace.setSpan(ctx, client), carrier, defaultTextMapSetter);
    client.setAttribute('http.response.status_code', 200);
    client.end();
    server.setAttribute('http.response.status_code', 200);
    const line = { ...entry, traceId: server.spanContext().traceId, spanId: server.spanContext().spanId };
    if (line.traceId === '') throw new Error('no trace id');
    server.end();
  };
}

async function measure(fn) {
  for (let i = 0; i < 2000; i++) fn(i); // warm
  await tick();
  const before = process.cpuUsage();
  for (let i = 0; i < N; i += CHUNK) {
    for (let j = i; j < i + CHUNK && j < N; j++) fn(j);
    await tick();
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / N;
}

/** The loop itself (the chunking and ticks), subtracted from every figure. */
const empty = () => undefined;
const variants = { 'ours, no export': ours(false), 'ours, export (BSP, discarding exporter)': ours(true), 'SDK Tracer, no export': sdk(false), 'SDK Tracer, export (BSP, discarding exporter)': sdk(true) };
const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const base = [];
void context;
for (let round = 0; round < Number(args.rounds); round++) {
  base.push(await measure(empty));
  for (const [name, fn] of Object.entries(variants)) results[name].push(await measure(fn));
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const floor = median(base);
console.log(`tracing hot path, ${N} requests × ${args.rounds} rounds, node ${process.version}; µs of CPU per request (loop overhead ${floor.toFixed(3)} µs subtracted):`);
for (const [name, v] of Object.entries(results)) console.log(`  ${name.padEnd(46)} ${(median(v) - floor).toFixed(2).padStart(6)} µs   (rounds: ${v.map((x) => (x - floor).toFixed(2)).join(' / ')})`);
