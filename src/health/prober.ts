/**
 * Active health checking: each backend is probed every interval (±10 %
 * jitter). The first verdict decides a new backend's state; after that
 * HEALTHY_THRESHOLD consecutive successes or UNHEALTHY_THRESHOLD consecutive
 * failures change it. Writes only the backend's probe flag, via BackendSet.
 */
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';
import { probeHttp, probeTcp, type ProbeOutcome } from './probe.js';
import { probeGrpc } from './grpc-probe.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';

const JITTER = 0.1;

interface Track {
  timer: NodeJS.Timeout | undefined;
  successes: number;
  failures: number;
  stopped: boolean;
}

export class Prober {
  private readonly tracks = new Map<Backend, Track>();
  private closed = false;
  private started = false;
  private firstRoundResolve: (() => void) | undefined;
  /** Resolves once every backend present at start() has had its first verdict. */
  readonly firstRound: Promise<void>;

  constructor(
    private readonly set: BackendSet,
    private readonly config: Config['healthCheck'],
    private readonly metrics: Metrics,
    private readonly upstreamTls: UpstreamTls,
    private readonly rng: () => number = Math.random,
  ) {
    this.firstRound = new Promise((resolve) => (this.firstRoundResolve = resolve));
    set.onChange((backend, event) => {
      // Every backend added after start() is probed, even when all of them were swapped at once.
      if (event === 'added' && this.started && !this.closed) this.track(backend);
      if (event === 'removed') this.untrack(backend);
    });
  }

  start(): void {
    this.started = true;
    if (this.config.type === 'none' || this.set.size === 0) {
      this.firstRoundResolve?.();
      return;
    }
    for (const backend of this.set.all()) this.track(backend);
  }

  close(): void {
    this.closed = true;
    for (const backend of [...this.tracks.keys()]) this.untrack(backend);
  }

  private track(backend: Backend): void {
    if (this.config.type === 'none' || this.tracks.has(backend)) return;
    const track: Track = { timer: undefined, successes: 0, failures: 0, stopped: false };
    this.tracks.set(backend, track);
    void this.probe(backend, track);
  }

  private untrack(backend: Backend): void {
    const track = this.tracks.get(backend);
    if (track === undefined) return;
    track.stopped = true;
    if (track.timer !== undefined) clearTimeout(track.timer);
    this.tracks.delete(backend);
    this.checkFirstRound();
  }

  private async probe(backend: Backend, track: Track): Promise<void> {
    const started = Date.now();
    const outcome: ProbeOutcome =
      this.config.type === 'http' ? await probeHttp(backend, this.config.path, this.config.timeoutMs, this.upstreamTls)
        : this.config.type === 'grpc' ? await probeGrpc(backend, this.config.grpcService, this.config.timeoutMs, this.upstreamTls)
          : await probeTcp(backend, this.config.timeoutMs);
    if (track.stopped) return;
    backend.lastProbe = { at: started, ok: outcome.ok, durationMs: Date.now() - started, ...(outcome.error ? { error: outcome.error } : {}) };
    this.metrics.healthChecks.inc({ backend: backend.id, result: outcome.ok ? 'success' : 'failure' });
    this.record(backend, track, outcome.ok);
    this.checkFirstRound();
    const delay = this.config.intervalMs * (1 - JITTER + 2 * JITTER * this.rng());
    track.timer = setTimeout(() => void this.probe(backend, track), delay);
    track.timer.unref();
  }

  private record(backend: Backend, track: Track, ok: boolean): void {
    if (ok) {
      track.successes += 1;
      track.failures = 0;
    } else {
      track.failures += 1;
      track.successes = 0;
    }
    if (backend.probeHealthy === undefined) {
      this.set.setHealthy(backend, ok);
    } else if (ok && track.successes >= this.config.healthyThreshold) {
      this.set.setHealthy(backend, true);
    } else if (!ok && track.failures >= this.config.unhealthyThreshold) {
      this.set.setHealthy(backend, false);
    }
  }

  private checkFirstRound(): void {
    if (this.firstRoundResolve === undefined) return;
    for (const backend of this.set.all()) if (backend.probeHealthy === undefined && this.tracks.has(backend)) return;
    this.firstRoundResolve();
    this.firstRoundResolve = undefined;
  }
}
