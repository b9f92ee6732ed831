/**
 * One attempt: send a request to one backend and wait for its response
 * head. Resolves with the response, or rejects with a typed UpstreamError:
 * connect failures (refused, CONNECT_TIMEOUT_MS), resets and protocol errors,
 * UPSTREAM_TIMEOUT_MS for the response head, IDLE_TIMEOUT_MS of silence.
 *
 * Two clients sit behind this one contract (docs/benchmarks.md has the
 * measurements): undici where it sends the request as received, which is
 * most traffic and costs a third less CPU there; `node:http` for everything
 * else (see undiciCanSend).
 */
import type { ServerResponse } from 'node:http';
import type { UpstreamError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from '../transport/pool.js';
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
  /** FORWARDED_HEADERS=false: headers must leave byte for byte as they came. */
  readonly exactHeaders: boolean;
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
  const viaNode = () => attemptWithNodeHttp(backend, pool, o, onCall);
  return undiciCanSend(backend.scheme, o) ? attemptWithUndici(backend, pool, o, onCall, viaNode) : viaNode();
}

/** undici's rule for a request target: origin-form, bytes 0x21–0xff. */
const UNDICI_PATH = /^\/[\x21-\xff]*$/;

/**
 * True when undici sends this request as received. It writes `host` first
 * (so Host must already be first; its name goes out in lower case), cannot
 * stream trailers or wait for 100 Continue (requests with a body), refuses
 * any `Expect`, drops `Content-Length: 0` on GET, closes the connection
 * after every HEAD, and takes its TLS server name from the Host header
 * (https backends stay with node:http, which names the backend).
 */
export function undiciCanSend(scheme: 'http' | 'https', o: Pick<AttemptOptions, 'method' | 'path' | 'headers' | 'body' | 'exactHeaders'>): boolean {
  if (scheme !== 'http' || o.body !== undefined || o.exactHeaders || o.method === 'HEAD' || !UNDICI_PATH.test(o.path)) return false;
  const h = o.headers;
  if (h.length === 0 || h[0]!.length !== 4 || h[0]!.toLowerCase() !== 'host') return false;
  for (let i = 2; i < h.length; i += 2) {
    const n = h[i]!.length;
    if (n !== 6 && n !== 14 && n !== 4) continue;
    const name = h[i]!.toLowerCase();
    if (name === 'expect' || name === 'content-length' || name === 'host') return false;
  }
  return true;
}

/**
 * 1xx answers accepted per attempt; one more fails it as a protocol error.
 * A backend that never stops sending them would otherwise hold the request
 * (and feed the client) until UPSTREAM_TIMEOUT_MS.
 */
export const MAX_INFORMATIONAL = 10;

/**
 * 100 Continue goes only to a client that asked for it; 103 Early Hints goes
 * through. A hint Node cannot re-encode is dropped (a 103 is advisory) rather
 * than allowed to throw, and so is any 1xx while the client's connection has
 * unsent bytes queued past its high-water mark (Node writes 1xx without
 * backpressure). Returns true when something was sent to the client.
 */
export function relayInformational(o: AttemptOptions, status: number, rawHeaders: readonly string[]): boolean {
  const res = o.res;
  if (res.headersSent || res.destroyed || res.socket == null || res.socket.writableNeedDrain) return false;
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
