/**
 * A real OTLP/HTTP trace receiver for the tests: an HTTP server on
 * 127.0.0.1:0 that takes POST /v1/traces, decodes the protobuf
 * ExportTraceServiceRequest with protobufjs and the OTLP definitions in
 * test/fixtures/otlp/, and keeps the spans. `hang` holds every request
 * unanswered (a slow receiver).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO = fileURLToPath(new URL('../../../test/fixtures/otlp/trace_service.proto', import.meta.url));
const root = protobuf.loadSync(PROTO);
const ExportRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ExportResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** The OTLP enum: 2 SERVER, 3 CLIENT. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly flags: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly scope: string;
}

export const SERVER = 2;
export const CLIENT = 3;

export interface OtlpReceiver {
  /** The traces URL (for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  readonly tracesUrl: string;
  /** The base URL (for OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly baseUrl: string;
  readonly spans: ReceivedSpan[];
  /** Export requests seen (answered or not), with their method, path and headers. */
  readonly requests: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders }>;
  /** Resolves once `count` spans match, or rejects after `timeoutMs`. */
  waitForSpans(predicate: (s: ReceivedSpan) => boolean, count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface KeyValueObject { key: string; value?: Record<string, unknown> }

function attributes(list: KeyValueObject[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    if (typeof v.stringValue === 'string') out[kv.key] = v.stringValue;
    else if (typeof v.boolValue === 'boolean') out[kv.key] = v.boolValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (typeof v.doubleValue === 'number') out[kv.key] = v.doubleValue;
  }
  return out;
}

const hex = (b: unknown): string => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : '');

/** The spans of one decoded request body. */
export function decodeExport(body: Buffer): ReceivedSpan[] {
  // protobufjs's decoded objects are untyped by nature; this is the shape trace.proto gives them.
  const message = ExportRequest.toObject(ExportRequest.decode(body), { longs: String, defaults: true }) as {
    resourceSpans: Array<{ resource?: { attributes: KeyValueObject[] }; scopeSpans: Array<{ scope?: { name: string }; spans: Array<Record<string, unknown>> }> }>;
  };
  const out: ReceivedSpan[] = [];
  for (const rs of message.resourceSpans) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        out.push({
          traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), name: s.name as string,
          kind: s.kind as number, attributes: attributes(s.attributes as KeyValueObject[]),
          statusCode: (s.status as { code?: number } | undefined)?.code ?? 0, flags: s.flags as number,
          startNs: BigInt(s.startTimeUnixNano as string), endNs: BigInt(s.endTimeUnixNano as string), resource, scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

export async function startOtlpReceiver(opts: { hang?: boolean } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver['requests'] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (opts.hang === true) return; // never answered: the exporter's timeout has to act
      if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(404).end();
        return;
      }
      try {
        spans.push(...decodeExport(Buffer.concat(chunks)));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(ExportResponse.encode(ExportResponse.create({})).finish()));
      for (const w of [...waiters]) w();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    tracesUrl: `http://127.0.0.1:${port}/v1/traces`,
    baseUrl: `http://127.0.0.1:${port}`,
    spans,
    requests,
    waitForSpans(predicate, count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = spans.filter(predicate);
          if (found.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${spans.filter(predicate).length} of ${count} spans within ${timeoutMs} ms (${spans.length} received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
