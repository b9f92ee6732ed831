/**
 * Every metric (SPEC §6) declared in one place, on a registry of its own, with
 * typed handles. Labels are bounded: `backend` comes from the backend set and
 * `method` is mapped to a standard method or OTHER.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './metric-series.js';
import type { UpstreamErrorKind } from './errors.js';

const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
export function methodLabel(method: string | undefined): string {
  return method !== undefined && STANDARD_METHODS.has(method) ? method : 'OTHER';
}
const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export function codeClass(status: number): string {
  return status >= 100 && status < 600 ? CODE_CLASSES[Math.floor(status / 100) - 1]! : 'other';
}

const UPSTREAM_ERROR_KINDS: readonly UpstreamErrorKind[] = ['connect_refused', 'connect_timeout', 'reset', 'timeout', 'protocol'];

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(version: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  let inFlightSource: () => Iterable<{ readonly id: string; readonly inFlight: number }> = () => [];
  // Two updates per HTTP/2 stream: a plain number, read into the gauge when scraped.
  let openStreams = 0;
  const m = {
    registry,
    // The four metrics every request touches: label sets resolved once (metric-series.ts).
    httpRequests: new SeriesCounter('outrigger_http_requests_total', 'Requests answered to clients.', ['method', 'code'] as const, registry),
    httpDuration: new SeriesHistogram('outrigger_http_request_duration_seconds', 'Time from request head to response end, as seen by the proxy.', ['method', 'code_class'] as const, LATENCY_BUCKETS, registry),
    upstreamRequests: new SeriesCounter('outrigger_upstream_requests_total', 'Responses received from backends.', ['backend', 'code_class'] as const, registry),
    upstreamResponse: new SeriesHistogram('outrigger_upstream_response_seconds', 'Time from request sent to backend response headers.', ['backend'] as const, LATENCY_BUCKETS, registry),
    grpcRequests: new SeriesCounter('outrigger_grpc_requests_total', 'gRPC calls answered to clients, by grpc-status.', ['grpc_code'] as const, registry),
    downstreamStreams: {
      inc: (): void => void (openStreams += 1),
      dec: (): void => void (openStreams -= 1),
      gauge: new Gauge({ name: 'outrigger_downstream_streams', help: 'Open HTTP/2 streams from clients.', registers: r, collect() { this.set(openStreams); } }),
    },
    upstreamErrors: new Counter({ name: 'outrigger_upstream_errors_total', help: 'Failed backend attempts.', labelNames: ['backend', 'kind'] as const, registers: r }),
    // Read from the backends when scraped (their in-flight count is kept for the pickers anyway).
    upstreamInFlight: new Gauge({
      name: 'outrigger_upstream_in_flight', help: 'Requests in flight to each backend.', labelNames: ['backend'] as const, registers: r,
      collect() {
        this.reset();
        for (const b of inFlightSource()) this.set({ backend: b.id }, b.inFlight);
      },
    }),
    backendUp: new Gauge({ name: 'outrigger_backend_up', help: '1 when the backend is eligible for traffic.', labelNames: ['backend'] as const, registers: r }),
    backends: new Gauge({ name: 'outrigger_backends', help: 'Backends per state.', labelNames: ['state'] as const, registers: r }),
    healthChecks: new Counter({ name: 'outrigger_health_checks_total', help: 'Active health probes.', labelNames: ['backend', 'result'] as const, registers: r }),
    retries: new Counter({ name: 'outrigger_retries_total', help: 'Retries on another backend.', labelNames: ['reason'] as const, registers: r }),
    retryBudgetExhausted: new Counter({ name: 'outrigger_retry_budget_exhausted_total', help: 'Retries skipped because the retry budget was spent.', registers: r }),
    outlierEjections: new Counter({ name: 'outrigger_outlier_ejections_total', help: 'Backends ejected by passive outlier detection.', labelNames: ['backend'] as const, registers: r }),
    trailersDropped: new Counter({ name: 'outrigger_trailers_dropped_total', help: 'Trailer fields dropped because RFC 9110 forbids them in trailers (framing, routing, authentication, …), or because the HTTP/1.1 message could not carry them (Content-Length framing).', labelNames: ['direction'] as const, registers: r }),
    proxyErrors: new Counter({ name: 'outrigger_proxy_errors_total', help: 'Proxy-generated error answers.', labelNames: ['kind'] as const, registers: r }),
    downstreamConnections: new Gauge({ name: 'outrigger_downstream_connections', help: 'Open client connections.', registers: r }),
    downstreamConnectionsTotal: new Counter({ name: 'outrigger_downstream_connections_total', help: 'Client connections accepted.', registers: r }),
    tunnels: new Gauge({ name: 'outrigger_tunnels', help: 'Open WebSocket/Upgrade tunnels and TCP-mode connections.', registers: r }),
    draining: new Gauge({ name: 'outrigger_draining', help: '1 after SIGTERM while the process drains.', registers: r }),
    configReloads: new Counter({ name: 'outrigger_config_reloads_total', help: 'Reloads of CONFIG_FILE and of the TLS files.', labelNames: ['result'] as const, registers: r }),
    tlsHandshakeErrors: new Counter({ name: 'outrigger_tls_handshake_errors_total', help: 'TLS handshakes on the traffic port that failed, timed out or presented a refused client certificate.', registers: r }),
    tlsCertificateExpiry: new Gauge({ name: 'outrigger_tls_certificate_expiry_timestamp_seconds', help: "The certificate's notAfter as Unix time.", labelNames: ['cert'] as const, registers: r }),
    idleGc: new Counter({ name: 'outrigger_idle_gc_total', help: 'Memory-reducing garbage collections run after load, once the proxy had been quiet for IDLE_GC_AFTER_MS.', registers: r }),
    traceSpansDropped: new Counter({ name: 'outrigger_trace_spans_dropped_total', help: 'Finished spans not exported: the export queue was full, or the OTLP receiver did not take their batch.', registers: r }),
    /** Where outrigger_upstream_in_flight reads from: the current backends. */
    setInFlightSource(source: () => Iterable<{ readonly id: string; readonly inFlight: number }>): void {
      inFlightSource = source;
    },
    /**
     * A backend left the set (DNS churn as pods roll, a config reload): its series go from every
     * per-backend metric, so that /metrics stays bounded. The gauges read from the set need nothing.
     */
    forgetBackend(backend: string): void {
      m.upstreamRequests.removeWhere('backend', backend);
      m.upstreamResponse.removeWhere('backend', backend);
      for (const kind of UPSTREAM_ERROR_KINDS) m.upstreamErrors.remove({ backend, kind });
      for (const result of ['success', 'failure']) m.healthChecks.remove({ backend, result });
      m.outlierEjections.remove({ backend });
    },
    buildInfo: new Gauge({ name: 'outrigger_build_info', help: 'Always 1; labels carry the build.', labelNames: ['version', 'node_version'] as const, registers: r }),
  };
  m.buildInfo.set({ version, node_version: process.version }, 1);
  m.draining.set(0);
  m.traceSpansDropped.inc(0);
  m.idleGc.inc(0);
  for (const state of ['healthy', 'unhealthy', 'ejected', 'drained']) m.backends.set({ state }, 0);
  for (const direction of ['request', 'response']) m.trailersDropped.inc({ direction }, 0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
