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

export function accessLine(e: AccessEntry, now: number): string {
  const backend = e.backend === null ? 'null' : str(e.backend);
  // Trace and span ids are lower-case hex by construction (tracing/ids, tracing/trace-context).
  const trace = e.traceId === undefined ? '' : `"traceId":"${e.traceId}","spanId":"${e.spanId ?? ''}",`;
  return `{"level":${INFO},"time":${now},"name":"outrigger","reqId":${str(e.reqId)},${trace}"client":${str(e.client)},`
    + `"method":${str(e.method)},"path":${str(e.path)},"backend":${backend},"status":${e.status},`
    + `"durationMs":${Math.round(e.durationMs * 100) / 100},"attempts":${e.attempts}${e.aborted ? ',"aborted":true' : ''}`
    + `${e.protocol === undefined ? '' : `,"protocol":"${e.protocol}"`}${e.grpc === true ? `,"grpcStatus":${e.grpcStatus ?? 'null'}` : ''},"msg":"request"}\n`;
}
