/**
 * The span records the hot path keeps: ids, times (performance.now()
 * milliseconds) and the few facts the export needs. Attributes are built
 * from them only when a sampled span is exported (tracing/export-span).
 */
import { formatTraceparent } from './trace-context.js';

/** What the export reads of a finished request (the proxy's access entry has these fields). */
export interface RequestFacts {
  readonly client: string;
  readonly method: string;
  readonly path: string;
  /** The status the client got; 0 when none was sent. */
  readonly status: number;
  /** `HTTP/1.1` or `HTTP/2`; absent for upgrades. */
  readonly protocol?: string;
  readonly grpc?: boolean;
  readonly grpcStatus?: number | undefined;
}

/** One backend attempt (SPEC §10: a CLIENT span under the request's SERVER span). */
export class ClientSpan {
  /** The `traceparent` the backend receives (unless FORWARDED_HEADERS=false). */
  readonly traceparent: string;
  /** 0 while the attempt is open. */
  end = 0;
  /** The backend's answer status; 0 when none came. */
  status = 0;
  /** Why the attempt failed (an `outrigger_upstream_errors_total` kind, or `retried` when its answer was discarded for a retry). */
  errorType: string | undefined = undefined;

  constructor(
    readonly server: ServerSpan,
    readonly spanId: string,
    /** `host:port` from the backend set. */
    readonly backend: string,
    /** The attempt's number, from 0: `http.request.resend_count` when above 0. */
    readonly resend: number,
    readonly start: number,
  ) {
    this.traceparent = formatTraceparent(server.traceId, spanId, server.sampled);
  }
}

/** One client request (SPEC §10: a SERVER span). */
export class ServerSpan {
  readonly clients: ClientSpan[] = [];
  /** The `x-outrigger-error` kind when Outrigger answered with an error of its own. */
  errorType: string | undefined = undefined;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    /** The incoming traceparent's span, when it had a valid one. */
    readonly parentSpanId: string | undefined,
    readonly sampled: boolean,
    readonly start: number,
    /** The request's Host (or :authority), for server.address/server.port. */
    readonly host: string | undefined,
    readonly scheme: 'http' | 'https',
  ) {}
}
