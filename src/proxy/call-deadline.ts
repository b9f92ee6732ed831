/**
 * A gRPC call's deadline over its whole forwarded life (SPEC §8: `grpc-timeout`
 * bounds the upstream exchange): connecting, every attempt, and the retries
 * between them, as Envoy and gRPC's own proxies count it. Without a
 * `grpc-timeout` (every HTTP request) only the configured timeouts apply.
 *
 * When the call's deadline is what ran out, the call ends in
 * DEADLINE_EXCEEDED (`upstream_timeout`), and the backend is not blamed for
 * it (no outlier failure): the client's patience, not the backend, set the
 * limit.
 */
import { ConnectFailedError, UpstreamTimeoutError, type UpstreamError } from '../errors.js';

export class CallDeadline {
  /** performance.now() when the call's time is up; undefined without a grpc-timeout. */
  private readonly at: number | undefined;

  /** `grpcTimeoutMs`: the parsed grpc-timeout, or undefined; `started`: when the request arrived (performance.now()). */
  constructor(grpcTimeoutMs: number | undefined, started: number) {
    this.at = grpcTimeoutMs === undefined ? undefined : started + grpcTimeoutMs;
  }

  /** Throws the call's DEADLINE_EXCEEDED once its time is up (before an attempt or a retry). */
  check(backend: string): void {
    if (this.at !== undefined && performance.now() >= this.at) throw new UpstreamTimeoutError(backend, 'deadline');
  }

  /** CONNECT_TIMEOUT_MS, cut to the time the call has left. */
  connectTimeoutMs(configured: number): number {
    return this.at === undefined ? configured : Math.max(1, Math.min(configured, Math.ceil(this.at - performance.now())));
  }

  /** UPSTREAM_TIMEOUT_MS (0 = none), cut to the time the call has left. */
  upstreamTimeoutMs(configured: number): number {
    if (this.at === undefined) return configured;
    const left = Math.max(1, Math.ceil(this.at - performance.now()));
    return configured === 0 ? left : Math.min(configured, left);
  }

  /**
   * A failed attempt, seen against the deadline: a timeout (connecting or
   * waiting) that came because the call's time was up is the call's
   * DEADLINE_EXCEEDED, not the backend's failure. Returns that error, or
   * undefined when the failure stands as it is.
   */
  expired(err: UpstreamError): UpstreamTimeoutError | undefined {
    if (this.at === undefined || performance.now() < this.at - 1) return undefined;
    const timedOut = err instanceof UpstreamTimeoutError || (err instanceof ConnectFailedError && err.upstreamKind === 'connect_timeout');
    return timedOut ? new UpstreamTimeoutError(err.backend, 'deadline') : undefined;
  }
}
