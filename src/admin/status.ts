/** Read-only snapshots for /api/status, the dashboard and the metrics gauges. */
import { configSummary, type Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';
import type { ReadinessReport } from '../lifecycle/readiness.js';

export interface BackendSnapshot {
  readonly id: string;
  readonly url: string;
  /** How Outrigger talks to it: `HTTP/1.1` or `HTTP/2` (h2c, h2). */
  readonly protocol: string;
  readonly state: string;
  readonly eligible: boolean;
  readonly weight: number;
  readonly effectiveWeight: number;
  readonly inFlight: number;
  readonly requests: number;
  readonly failures: number;
  readonly latencyMs: number;
  readonly ejectedUntil: string | null;
  readonly ejections: number;
  readonly lastProbe: { at: string; ok: boolean; durationMs: number; error?: string } | null;
}

export function backendSnapshot(b: Backend, now: number, slowStartMs: number): BackendSnapshot {
  return {
    id: b.id,
    url: `${b.scheme}://${b.id}`,
    protocol: b.scheme === 'h2c' || b.scheme === 'h2' ? 'HTTP/2' : 'HTTP/1.1',
    state: b.probeHealthy === undefined && !b.drained ? 'unknown' : b.state(now),
    eligible: b.eligible(now),
    weight: b.weight,
    effectiveWeight: Math.round(b.effectiveWeight(now, slowStartMs) * 100) / 100,
    inFlight: b.inFlight,
    requests: b.requests,
    failures: b.failures,
    latencyMs: Math.round(b.latencyMs * 100) / 100,
    ejectedUntil: b.isEjected(now) ? new Date(b.ejectedUntil).toISOString() : null,
    ejections: b.ejections,
    lastProbe: b.lastProbe === undefined ? null : { ...b.lastProbe, at: new Date(b.lastProbe.at).toISOString() },
  };
}

export function statusSnapshot(config: Config, set: BackendSet, readiness: ReadinessReport, version: string, startedAt: number) {
  const now = Date.now();
  return {
    version,
    uptimeSeconds: Math.round((now - startedAt) / 1000),
    ready: readiness.ready,
    readyReasons: readiness.reasons,
    config: configSummary(config),
    backends: set.all().map((b) => backendSnapshot(b, now, config.slowStartMs)),
  };
}

/** Gauges that describe state are computed when scraped, so they are never stale. */
export function refreshStateGauges(metrics: Metrics, set: BackendSet): void {
  const now = Date.now();
  for (const [state, count] of Object.entries(set.countByState(now))) metrics.backends.set({ state }, count);
  metrics.backendUp.reset();
  for (const b of set.all()) metrics.backendUp.set({ backend: b.id }, b.eligible(now) ? 1 : 0);
}
