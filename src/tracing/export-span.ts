/**
 * Finished span records (tracing/spans) in the SDK's ReadableSpan form, with
 * names and attributes after the OpenTelemetry semantic conventions for
 * HTTP (and RPC, for gRPC calls). Runs only for sampled spans when export is
 * configured, off the request's own path (the request has been answered).
 */
import type { Attributes, HrTime, SpanContext, SpanKind, SpanStatus, SpanStatusCode } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ClientSpan, RequestFacts, ServerSpan } from './spans.js';

const SERVER = 1 as SpanKind;
const CLIENT = 2 as SpanKind;
const UNSET: SpanStatus = { code: 0 as SpanStatusCode };
const ERROR: SpanStatus = { code: 2 as SpanStatusCode };
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
/** gRPC codes that are a server's fault (RPC semantic conventions: error on the server side). */
const GRPC_SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]);

/** Milliseconds since performance.timeOrigin as [seconds, nanoseconds] since the epoch. */
function hrTime(ms: number): HrTime {
  const epochMs = performance.timeOrigin + ms;
  const seconds = Math.floor(epochMs / 1000);
  const nanos = Math.min(999_999_999, Math.round((epochMs - seconds * 1000) * 1e6));
  return [seconds, nanos];
}

function duration(start: number, end: number): HrTime {
  const ms = Math.max(0, end - start);
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))];
}

/** `host`, `host:port`, `[v6]` or `[v6]:port` → address and port (undefined when absent). */
export function splitHostPort(hostPort: string): { address: string; port: number | undefined } {
  const close = hostPort.lastIndexOf(']');
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0 || colon < close) return { address: hostPort.startsWith('[') ? hostPort.slice(1, close) : hostPort, port: undefined };
  const port = Number(hostPort.slice(colon + 1));
  const address = hostPort.slice(0, colon);
  return { address: address.startsWith('[') ? address.slice(1, -1) : address, port: Number.isInteger(port) ? port : undefined };
}

/** `/pkg.Service/Method` → its service and method, for gRPC span names and rpc.* attributes. */
function grpcNames(path: string): { service: string; method: string } | undefined {
  const slash = path.indexOf('/', 1);
  if (!path.startsWith('/') || slash < 0) return undefined;
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

class ExportedSpan implements ReadableSpan {
  readonly links = [];
  readonly events = [];
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  private readonly context: SpanContext;

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    traceId: string,
    spanId: string,
    readonly parentSpanContext: SpanContext | undefined,
    start: number,
    end: number,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {
    this.context = { traceId, spanId, traceFlags: 1 };
    this.startTime = hrTime(start);
    this.endTime = hrTime(end);
    this.duration = duration(start, end);
  }

  spanContext = (): SpanContext => this.context;
}

/** Attributes both span kinds share: the method (RPC names for gRPC calls). */
function common(entry: RequestFacts, grpc: { service: string; method: string } | undefined): Attributes {
  const known = KNOWN_METHODS.has(entry.method);
  const a: Attributes = { 'http.request.method': known ? entry.method : '_OTHER' };
  if (!known) a['http.request.method_original'] = entry.method;
  if (grpc !== undefined) {
    a['rpc.system'] = 'grpc';
    a['rpc.service'] = grpc.service;
    a['rpc.method'] = grpc.method;
  }
  return a;
}

/** The request's SERVER span and one CLIENT span per attempt, ready for a span processor. */
export function exportedSpans(server: ServerSpan, entry: RequestFacts, end: number, resource: Resource, scope: InstrumentationScope): ReadableSpan[] {
  const grpc = entry.grpc === true ? grpcNames(entry.path) : undefined;
  const name = grpc !== undefined ? `${grpc.service}/${grpc.method}` : KNOWN_METHODS.has(entry.method) ? entry.method : 'HTTP';
  const a = common(entry, grpc);
  a['url.path'] = entry.path;
  a['url.scheme'] = server.scheme;
  a['network.protocol.version'] = entry.protocol === 'HTTP/2' ? '2' : '1.1';
  a['client.address'] = entry.client;
  if (server.host !== undefined) {
    const { address, port } = splitHostPort(server.host);
    a['server.address'] = address;
    if (port !== undefined) a['server.port'] = port;
  }
  if (entry.status > 0) a['http.response.status_code'] = entry.status;
  if (grpc !== undefined && entry.grpcStatus !== undefined) a['rpc.grpc.status_code'] = entry.grpcStatus;
  const errorType = server.errorType ?? (entry.status >= 500 ? String(entry.status) : entry.status === 0 ? 'aborted' : undefined);
  if (errorType !== undefined) a['error.type'] = errorType;
  const failed = errorType !== undefined || (grpc !== undefined && entry.grpcStatus !== undefined && GRPC_SERVER_ERRORS.has(entry.grpcStatus));
  const parent = server.parentSpanId === undefined ? undefined : { traceId: server.traceId, spanId: server.parentSpanId, traceFlags: 1, isRemote: true };
  const spans: ReadableSpan[] = [new ExportedSpan(name, SERVER, server.traceId, server.spanId, parent, server.start, end, failed ? ERROR : UNSET, a, resource, scope)];
  const self = { traceId: server.traceId, spanId: server.spanId, traceFlags: 1 };
  const last = server.clients[server.clients.length - 1];
  for (const c of server.clients) spans.push(clientSpan(c, c === last, name, entry, grpc, self, resource, scope));
  return spans;
}

function clientSpan(c: ClientSpan, last: boolean, name: string, entry: RequestFacts, grpc: { service: string; method: string } | undefined,
  parent: SpanContext, resource: Resource, scope: InstrumentationScope): ReadableSpan {
  const a = common(entry, grpc);
  const { address, port } = splitHostPort(c.backend);
  a['server.address'] = address;
  if (port !== undefined) a['server.port'] = port;
  if (c.resend > 0) a['http.request.resend_count'] = c.resend;
  if (c.status > 0) a['http.response.status_code'] = c.status;
  const grpcStatus = last && c.errorType === undefined && grpc !== undefined ? entry.grpcStatus : undefined;
  if (grpcStatus !== undefined) a['rpc.grpc.status_code'] = grpcStatus;
  const errorType = c.errorType ?? (c.status >= 400 ? String(c.status) : undefined);
  if (errorType !== undefined) a['error.type'] = errorType;
  const failed = errorType !== undefined || (grpcStatus !== undefined && grpcStatus !== 0);
  return new ExportedSpan(name, CLIENT, parent.traceId, c.spanId, parent, c.start, c.end, failed ? ERROR : UNSET, a, resource, scope);
}
