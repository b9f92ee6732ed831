/**
 * The one recorder of what happened to traffic, for every entry path (HTTP
 * requests, WebSocket/Upgrade tunnels, TCP connections): the backend's
 * latency estimate and counters, passive outlier detection, the metrics, and
 * the access line. The entry paths say what happened; this decides what it
 * counts toward.
 */
import { ConnectFailedError, type UpstreamError } from '../errors.js';
import type { OutlierDetector } from '../health/outlier.js';
import type { Logger } from '../log.js';
import { codeClass, methodLabel, type Metrics } from '../metrics.js';
import type { Backend } from '../upstream/backend.js';
import { accessLine, type AccessEntry } from './access-log.js';
import { isBackendFailure } from './grpc.js';
import { grpcCodeName } from '../grpc-codes.js';
import { refusalStatus, type RefusalKind } from './error-response.js';
import type { Protocol } from './downstream.js';
import type { Tracing } from '../tracing/tracing.js';
import type { ServerSpan } from '../tracing/spans.js';
import { TlsFailureLog } from './tls-failure-log.js';

/** nginx's status for a request whose client left before any answer went out. */
export const CLIENT_CLOSED_REQUEST = 499;

export interface OutcomeDeps {
  readonly outlier: OutlierDetector;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Where access lines go; undefined when ACCESS_LOG=false or LOG_LEVEL is above info. */
  readonly accessLog: ((line: string) => void) | undefined;
  /** SPEC §10; undefined when OTEL_SDK_DISABLED=true. */
  readonly tracing: Tracing | undefined;
}

export class Outcomes {
  /** Where the entry paths get their spans; undefined when tracing is off. */
  readonly tracing: Tracing | undefined;
  private readonly tlsFailures: TlsFailureLog;

  constructor(private readonly d: OutcomeDeps) {
    this.tracing = d.tracing;
    this.tlsFailures = new TlsFailureLog(d.logger);
  }

  /**
   * A backend attempt failed before an answer. `health` false: it says
   * nothing of the backend's health (a reset of a stale pooled connection).
   */
  attemptFailed(backend: Backend, err: UpstreamError, health = true): void {
    if (backend.removed) return; // its series are gone with it (metrics.forgetBackend)
    if (err instanceof ConnectFailedError) this.tlsFailures.report(err); // a TLS handshake failure is logged (rate-limited)
    this.d.metrics.upstreamErrors.inc({ backend: backend.id, kind: err.upstreamKind });
    backend.failures += 1;
    if (health) this.d.outlier.onFailure(backend);
  }

  /**
   * A backend answered `status`, `ms` after the request was sent. For a gRPC
   * call the verdict waits for its `grpc-status` (`grpcAnswered`).
   */
  answered(backend: Backend, status: number, ms: number, verdictLater = false): void {
    if (backend.removed) return;
    backend.observeLatency(ms, Date.now());
    this.d.metrics.upstreamResponse.observe([backend.id], ms / 1000);
    this.d.metrics.upstreamRequests.inc([backend.id, codeClass(status)]);
    if (verdictLater) return;
    if (status >= 500) {
      backend.failures += 1;
      this.d.outlier.onFailure(backend);
    } else {
      this.d.outlier.onSuccess(backend);
    }
  }

  /** A gRPC call's status arrived: INTERNAL, UNAVAILABLE and DATA_LOSS count against the backend. */
  grpcAnswered(backend: Backend, code: number): void {
    if (backend.removed) return;
    if (isBackendFailure(code)) {
      backend.failures += 1;
      this.d.outlier.onFailure(backend);
    } else {
      this.d.outlier.onSuccess(backend);
    }
  }

  /** A tunnel's backend took the connection (a 101, or a TCP connect). */
  connected(backend: Backend): void {
    this.d.outlier.onSuccess(backend);
  }

  /** An answer being relayed broke off (a reset, silence, or a protocol error) after its head. */
  relayFailed(backend: Backend, err: UpstreamError): void {
    if (backend.removed) return;
    this.d.metrics.upstreamErrors.inc({ backend: backend.id, kind: err.upstreamKind });
  }

  /**
   * A request Outrigger answered itself without a backend (a refusal, a head
   * timeout, CONNECT): counted and access-logged like every request. `method`
   * and `path` are null when no head was parsed. Returns the status.
   */
  refused(kind: RefusalKind, client: string, method: string | null, url: string | null, protocol: Protocol = 'HTTP/1.1'): number {
    const status = refusalStatus(kind);
    this.d.metrics.proxyErrors.inc({ kind });
    this.d.metrics.httpRequests.inc([methodLabel(method ?? undefined), String(status)]);
    if (this.d.accessLog !== undefined) {
      this.d.logger.info({
        client, method, path: url === null ? null : url.split('?')[0], backend: null, status, durationMs: 0, attempts: 0, protocol, refused: kind,
      }, 'request');
    }
    return status;
  }

  /**
   * One client request (or upgrade request) is over: request metrics, its spans and the access line.
   * `entry.status` 0 (no answer went out: the client left first) is counted and logged as 499, nginx's
   * "client closed request", a 4xx that dashboards read as the client's doing; the span records no status.
   */
  request(method: string, entry: AccessEntry, upgrade = false, span?: ServerSpan): void {
    if (span !== undefined) this.tracing?.finish(span, entry, span.start + entry.durationMs);
    if (entry.status === 0) entry = { ...entry, status: CLIENT_CLOSED_REQUEST };
    const label = methodLabel(method);
    this.d.metrics.httpRequests.inc([label, String(entry.status)]);
    if (entry.grpc === true) this.d.metrics.grpcRequests.inc([grpcCodeName(entry.grpcStatus)]);
    if (!upgrade) this.d.metrics.httpDuration.observe([label, codeClass(entry.status)], entry.durationMs / 1000);
    const write = this.d.accessLog;
    if (write === undefined) return;
    if (!upgrade) return write(accessLine(entry, Date.now()));
    const { aborted: _aborted, durationMs, protocol: _protocol, grpc: _grpc, grpcStatus: _status, ...rest } = entry;
    this.d.logger.info({ ...rest, durationMs: Math.round(durationMs * 100) / 100, upgrade: true }, 'request');
  }
}
