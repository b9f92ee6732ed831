/**
 * One attempt: send a request to one backend and wait for its response
 * head. Resolves with the response, or rejects with a typed UpstreamError:
 * connect failures (refused, CONNECT_TIMEOUT_MS), resets and protocol errors,
 * UPSTREAM_TIMEOUT_MS for the response head, IDLE_TIMEOUT_MS of silence.
 *
 * Two clients sit behind this one contract (docs/benchmarks.md has the
 * measurements): undici for requests without a body, which is most traffic
 * and where it costs a quarter less CPU; `node:http` for requests with a
 * body (streamed with request trailers and `Expect: 100-continue`, which
 * undici cannot send) and for request targets that are not a path (`*`).
 */
import type { ServerResponse } from 'node:http';
import type { UpstreamError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './upstream-pool.js';
import type { RequestBody } from './request-body.js';
import { attemptWithNodeHttp } from './upstream-node.js';
import { attemptWithUndici } from './upstream-undici.js';

export interface AttemptOptions {
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly body: RequestBody | undefined;
  readonly connectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** The client's response, for 1xx relays. */
  readonly res: ServerResponse;
  readonly expectContinue: boolean;
  /** Called when a 1xx went to the client: from then on the exchange may not be retried. */
  readonly onInformational: () => void;
}

/** A backend request in progress. */
export interface UpstreamCall {
  /** Cuts the backend request; its connection is not reused. Safe to call at any time, more than once. */
  abort(): void;
}

/** A backend's answer once its head arrived. */
export interface UpstreamResponse extends UpstreamCall {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Flat [name, value, …] as received, names and order kept. */
  readonly rawHeaders: readonly string[];
  /**
   * Streams the body to `res` with backpressure, then calls `done` once:
   * with the raw trailers when the body is complete, or with the error that
   * broke it off (a reset, or IDLE_TIMEOUT_MS of silence).
   */
  relayBody(res: ServerResponse, done: (err: UpstreamError | undefined, rawTrailers: readonly string[]) => void): void;
}

/**
 * An attempt failure. `stale` marks a reset of a reused pooled socket before
 * any response byte: most likely the backend closed an idle connection as we
 * sent, so it does not count against the backend's health (retries still
 * follow the method rules: the backend may have read the request).
 */
export class AttemptError extends Error {
  constructor(
    readonly error: UpstreamError,
    readonly stale: boolean,
  ) {
    super(error.message, { cause: error });
  }
}

/** `onCall` gets the call at once, so that a client leaving before the answer can abort it. */
export function attempt(backend: Backend, pool: UpstreamPool, o: AttemptOptions, onCall: (call: UpstreamCall) => void): Promise<UpstreamResponse> {
  const undiciCan = o.body === undefined && !o.expectContinue && o.path.charCodeAt(0) === 0x2f; // '/'
  return undiciCan ? attemptWithUndici(backend, pool, o, onCall) : attemptWithNodeHttp(backend, pool, o, onCall);
}

/**
 * 100 Continue goes only to a client that asked for it; 103 Early Hints goes
 * through. A hint Node cannot re-encode is dropped (a 103 is advisory) rather
 * than allowed to throw. Returns true when something was sent to the client.
 */
export function relayInformational(o: AttemptOptions, status: number, rawHeaders: readonly string[]): boolean {
  const res = o.res;
  if (res.headersSent || res.destroyed) return false;
  try {
    if (status === 100) {
      if (!o.expectContinue) return false;
      res.writeContinue();
      return true;
    }
    if (status !== 103) return false;
    const hints: Record<string, string | string[]> = {};
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toLowerCase();
      // Node wants one link per array entry; a backend may send a comma-separated list.
      const values = name === 'link' ? rawHeaders[i + 1]!.split(/,\s*(?=<)/) : [rawHeaders[i + 1]!];
      const prior = hints[name];
      hints[name] = prior === undefined && values.length === 1 ? values[0]! : [...(prior === undefined ? [] : [prior].flat()), ...values];
    }
    if (hints.link === undefined) return false;
    res.writeEarlyHints(hints);
    return true;
  } catch {
    return false;
  }
}
