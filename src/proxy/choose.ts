/**
 * Backend choice and in-flight accounting shared by every way traffic
 * enters (HTTP requests, upgrades, TCP connections): candidates are the
 * eligible backends not tried yet, below MAX_REQUESTS_PER_BACKEND and able
 * to carry the work (an HTTP/1.1 Upgrade tunnel needs an HTTP/1.1 backend);
 * a retry spends the retry budget.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config.js';
import { NoHealthyBackendError, OverloadedError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Picker, PickContext } from '../balancer/picker.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';
import type { RetryBudget } from './retry-budget.js';
import type { OutlierDetector } from '../health/outlier.js';
import type { InFlight } from '../lifecycle/in-flight.js';
import type { Logger } from '../log.js';
import type { SpliceRegistry } from './splice.js';
import type { Outcomes } from './outcome.js';
import { hashKeyOf } from './hash-key.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';

export interface ChooseDeps {
  readonly config: Config;
  readonly set: BackendSet;
  readonly picker: Picker;
  readonly budget: RetryBudget;
  readonly metrics: Metrics;
}

/**
 * What the work needs of a backend: `any` protocol, or `http1` for an
 * HTTP/1.1 Upgrade tunnel (WebSocket…), which only an `http`/`https`
 * backend can take: HTTP/2 has no Upgrade (RFC 9113 §8.6), so an `h2c`/`h2`
 * backend is never a candidate for one, and never blamed for refusing it.
 */
export type Needs = 'any' | 'http1';

function speaks(b: Backend, needs: Needs): boolean {
  return needs === 'any' || b.scheme === 'http' || b.scheme === 'https';
}

export function candidates(d: ChooseDeps, tried: readonly Backend[], now: number, needs: Needs = 'any'): readonly Backend[] {
  const list = d.set.eligible(now);
  const cap = d.config.maxRequestsPerBackend;
  if (tried.length === 0 && cap === 0 && needs === 'any') return list;
  return list.filter((b) => !tried.includes(b) && (cap === 0 || b.inFlight < cap) && speaks(b, needs));
}

/** What the connection-level paths (upgrade tunnels, TCP mode) need besides choosing. */
export interface TunnelPathDeps extends ChooseDeps {
  readonly outlier: OutlierDetector;
  readonly outcomes: Outcomes;
  readonly contextFor: ContextFactory;
  readonly splices: SpliceRegistry;
  readonly inFlight: InFlight;
  readonly logger: Logger;
  /** TLS towards `https`/`h2` backends. */
  readonly upstreamTls: UpstreamTls;
}

/**
 * Picks a backend, or throws NoHealthyBackendError (none eligible that
 * speaks what `needs` asks) / OverloadedError (those left are at the cap).
 */
export function choose(d: ChooseDeps, tried: readonly Backend[], ctx: PickContext, needs: Needs = 'any'): Backend {
  const list = candidates(d, tried, ctx.now, needs);
  if (list.length === 0) {
    const able = d.set.eligible(ctx.now).filter((b) => speaks(b, needs)).length;
    throw able > tried.length ? new OverloadedError() : new NoHealthyBackendError();
  }
  return d.picker.pick(list, ctx)!;
}

/**
 * True (and one retry spent) when another attempt may go to a backend not in `tried`.
 * `attempts` made so far, when some backend tried was let back in (a stream it never processed).
 */
export function mayRetry(d: ChooseDeps, tried: readonly Backend[], now: number, needs: Needs = 'any', attempts = tried.length): boolean {
  if (attempts > d.config.retries || candidates(d, tried, now, needs).length === 0) return false;
  if (!d.budget.tryRetry()) {
    d.metrics.retryBudgetExhausted.inc();
    return false;
  }
  return true;
}

/** Counts one unit of work on `backend` (also what outrigger_upstream_in_flight reads); the returned function releases it (once). */
export function acquire(backend: Backend): () => void {
  backend.inFlight += 1;
  backend.requests += 1;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    backend.inFlight -= 1;
  };
}

/** The PickContext of one request or connection; `headers` feed HASH_KEY=header:/cookie:. */
export type ContextFactory = (clientIp: string, headers?: IncomingHttpHeaders) => PickContext;

/**
 * Builds the one place PickContexts are made. What depends on LB_ALGORITHM
 * is decided here, once: only `hash` with a header or cookie key reads the
 * request's headers.
 */
export function pickContextFactory(config: Pick<Config, 'algorithm' | 'hashKey' | 'slowStartMs'>, rng: () => number): ContextFactory {
  const { slowStartMs, hashKey } = config;
  if (config.algorithm !== 'hash' || hashKey.kind === 'ip') {
    return (clientIp) => ({ now: Date.now(), rng, slowStartMs, clientIp });
  }
  return (clientIp, headers) => ({ now: Date.now(), rng, slowStartMs, clientIp, hashKey: headers === undefined ? undefined : hashKeyOf(headers, hashKey) });
}
