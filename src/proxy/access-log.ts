/**
 * The access line of one forwarded request. The data plane writes one per
 * request, so it is built directly rather than through pino's generic
 * serializer; the line is the one pino would write for the same fields (a
 * unit test holds the two together), and goes to the same ordered output.
 */

export interface AccessEntry {
  readonly reqId: string;
  /** The request's trace and its SERVER span (SPEC §10); absent when tracing is off. */
  readonly traceId?: string;
  readonly spanId?: string;
  readonly client: string;
  readonly method: string;
  readonly path: string;
  readonly backend: string | null;
  readonly status: number;
  readonly durationMs: number;
  readonly attempts: number;
  /** The client connection closed before the answer was complete. */
  readonly aborted: boolean;
  /** Why, when the backend broke the answer off after its head: the `outrigger_upstream_errors_total` kind. */
  readonly upstreamError?: string | undefined;
  /** `HTTP/1.1` or `HTTP/2`; absent for upgrades. */
  readonly protocol?: string;
  /** A gRPC call: the line carries `grpcStatus` (the code, or null when none arrived). */
  readonly grpc?: boolean;
  readonly grpcStatus?: number | undefined;
}

/** pino's level number for `info`. */
const INFO = 30;

/** Printable ASCII without `"` and `\\`: such a string is its own JSON body. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function str(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** The JSON of the last string it was given: a connection's client, the method, the path and the backend repeat from line to line. */
class LastJson {
  private last = '';
  private json = '""';

  of(s: string): string {
    if (s !== this.last) {
      this.json = str(s);
      this.last = s;
    }
    return this.json;
  }
}

const client = new LastJson();
const method = new LastJson();
const path = new LastJson();
const backendJson = new LastJson();

export function accessLine(e: AccessEntry, now: number): string {
  const backend = e.backend === null ? 'null' : backendJson.of(e.backend);
  // Trace and span ids are lower-case hex by construction (tracing/ids, tracing/trace-context).
  const trace = e.traceId === undefined ? '' : `"traceId":"${e.traceId}","spanId":"${e.spanId ?? ''}",`;
  return `{"level":${INFO},"time":${now},"name":"outrigger","reqId":${str(e.reqId)},${trace}"client":${client.of(e.client)},`
    + `"method":${method.of(e.method)},"path":${path.of(e.path)},"backend":${backend},"status":${e.status},`
    + `"durationMs":${Math.round(e.durationMs * 100) / 100},"attempts":${e.attempts}${e.aborted ? ',"aborted":true' : ''}`
    + `${e.upstreamError === undefined ? '' : `,"upstreamError":"${e.upstreamError}"`}`
    + `${e.protocol === undefined ? '' : `,"protocol":"${e.protocol}"`}${e.grpc === true ? `,"grpcStatus":${e.grpcStatus ?? 'null'}` : ''},"msg":"request"}\n`;
}
