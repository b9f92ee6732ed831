/**
 * SPEC §10 on the hot path: a SERVER span per request (joining the trace of
 * a valid incoming `traceparent`, or starting one), a CLIENT span per
 * backend attempt, and the hand-off of finished, sampled spans to the
 * exporter when one is configured (tracing/export). Ids come from a random
 * pool (tracing/ids); nothing here loads the OpenTelemetry SDK.
 */
import { newSpanId, newTraceId } from './ids.js';
import type { Sampler } from './sampler.js';
import { ClientSpan, ServerSpan, type RequestFacts } from './spans.js';
import { parseTraceparent } from './trace-context.js';

/** Where finished sampled requests go (the OTLP export). */
export interface SpanSink {
  /** A request and its attempts are over; `end` in performance.now() milliseconds. Must not throw or block. */
  export(server: ServerSpan, entry: RequestFacts, end: number): void;
  /** Sends what is queued (bounded in time) and stops. */
  close(): Promise<void>;
}

export class Tracing {
  private sink: SpanSink | undefined = undefined;

  constructor(private readonly sampler: Sampler) {}

  /** Export from now on (app start, once the exporter is loaded). */
  exportTo(sink: SpanSink): void {
    this.sink = sink;
  }

  /** The SERVER span of a request whose `traceparent` header is `incoming`. */
  server(incoming: string | string[] | undefined, start: number, host: string | undefined, scheme: 'http' | 'https'): ServerSpan {
    const parent = parseTraceparent(incoming);
    const traceId = parent === undefined ? newTraceId() : parent.traceId;
    return new ServerSpan(traceId, newSpanId(), parent?.spanId, this.sampler(parent, traceId), start, host, scheme);
  }

  /** A CLIENT span for the next attempt on `backend` (the caller ends each attempt with endAttempt). */
  client(server: ServerSpan, backend: string, start: number): ClientSpan {
    const span = new ClientSpan(server, newSpanId(), backend, server.clients.length, start);
    server.clients.push(span);
    return span;
  }

  /** The request is over: open attempts end with it, and a sampled trace goes to the exporter. */
  finish(server: ServerSpan, entry: RequestFacts, end: number): void {
    for (const c of server.clients) if (c.end === 0) c.end = end;
    if (this.sink !== undefined && server.sampled) this.sink.export(server, entry, end);
  }

  close(): Promise<void> {
    return this.sink === undefined ? Promise.resolve() : this.sink.close();
  }
}

/** Ends an attempt that got an answer (`status`) or failed (`errorType`). */
export function endAttempt(span: ClientSpan | undefined, end: number, status: number, errorType?: string): void {
  if (span === undefined) return;
  span.end = end;
  span.status = status;
  span.errorType = errorType;
}
