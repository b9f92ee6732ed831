/**
 * The one recorder of what happened to traffic, for every entry path (HTTP
 * requests, WebSocket/Upgrade tunnels, TCP connections): the backend's
 * latency estimate and counters, passive outlier detection, the metrics, and
 * the access line. The entry paths say what happened; this decides what it
 * counts toward.
 */
import type { UpstreamError } from '../errors.js';
import type { OutlierDetector } from '../health/outlier.js';
import type { Logger } from '../log.js';
import { codeClass, methodLabel, type Metrics } from '../metrics.js';
import type { Backend } from '../upstream/backend.js';
import { accessLine, type AccessEntry } from './access-log.js';

export interface OutcomeDeps {
  readonly outlier: OutlierDetector;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Where access lines go; undefined when ACCESS_LOG=false or LOG_LEVEL is above info. */
  readonly accessLog: ((line: string) => void) | undefined;
}

export class Outcomes {
  constructor(private readonly d: OutcomeDeps) {}

  /**
   * A backend attempt failed before an answer. `health` false: it says
   * nothing of the backend's health (a reset of a stale pooled connection).
   */
  attemptFailed(backend: Backend, err: UpstreamError, health = true): void {
    if (backend.removed) return; // its series are gone with it (metrics.forgetBackend)
    this.d.metrics.upstreamErrors.inc({ backend: backend.id, kind: err.upstreamKind });
    backend.failures += 1;
    if (health) this.d.outlier.onFailure(backend);
  }

  /** A backend answered `status`, `ms` after the request was sent. */
  answered(backend: Backend, status: number, ms: number): void {
    if (backend.removed) return;
    backend.observeLatency(ms, Date.now());
    this.d.metrics.upstreamResponse.observe([backend.id], ms / 1000);
    this.d.metrics.upstreamRequests.inc([backend.id, codeClass(status)]);
    if (status >= 500) {
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

  /** One client request (or upgrade request) is over: request metrics and the access line. */
  request(method: string, entry: AccessEntry, upgrade = false): void {
    const label = methodLabel(method);
    this.d.metrics.httpRequests.inc([label, String(entry.status)]);
    if (!upgrade) this.d.metrics.httpDuration.observe([label, codeClass(entry.status)], entry.durationMs / 1000);
    const write = this.d.accessLog;
    if (write === undefined) return;
    if (!upgrade) return write(accessLine(entry, Date.now()));
    const { aborted: _aborted, durationMs, ...rest } = entry;
    this.d.logger.info({ ...rest, durationMs: Math.round(durationMs * 100) / 100, upgrade: true }, 'request');
  }
}
