/**
 * One attempt: send a request to one backend and wait for its response
 * head. Resolves with the response, or rejects with a typed UpstreamError:
 * connect failures (refused, CONNECT_TIMEOUT_MS), resets and protocol errors,
 * UPSTREAM_TIMEOUT_MS for the response head, IDLE_TIMEOUT_MS of silence.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './upstream-pool.js';
import type { RequestBody } from './request-body.js';

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

export interface AttemptResult {
  readonly upReq: http.ClientRequest;
  readonly upRes: IncomingMessage;
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

export function attempt(backend: Backend, pool: UpstreamPool, o: AttemptOptions, onRequest: (r: http.ClientRequest) => void): Promise<AttemptResult> {
  return new Promise((resolve, reject) => {
    const client = backend.scheme === 'https' ? https : http;
    const upReq = client.request({
      host: backend.host,
      port: backend.port,
      method: o.method,
      path: o.path,
      headers: o.headers,
      agent: pool.agentFor(backend),
      setHost: false,
      // Always set, 0 included: otherwise a reused socket keeps the pool's idle timeout while active.
      timeout: o.idleTimeoutMs,
    });
    onRequest(upReq);
    let connected = false;
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let headTimer: NodeJS.Timeout | undefined;
    const clearTimers = () => {
      clearTimeout(connectTimer);
      clearTimeout(headTimer);
    };

    upReq.once('socket', (socket) => {
      if (!socket.connecting) {
        connected = true;
        return;
      }
      // For https the TLS handshake is part of connecting: CONNECT_TIMEOUT_MS covers it too.
      connectTimer = setTimeout(() => upReq.destroy(new ConnectFailedError(backend.id, true)), o.connectTimeoutMs);
      socket.once(backend.scheme === 'https' ? 'secureConnect' : 'connect', () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    upReq.once('finish', () => {
      if (o.upstreamTimeoutMs > 0 && !settled) {
        headTimer = setTimeout(() => upReq.destroy(new UpstreamTimeoutError(backend.id, 'headers')), o.upstreamTimeoutMs);
      }
    });
    upReq.on('timeout', () => upReq.destroy(new UpstreamTimeoutError(backend.id, 'idle')));
    upReq.on('information', (info) => {
      if (relayInformational(o, info.statusCode, info.rawHeaders)) o.onInformational();
    });
    upReq.once('response', (upRes) => {
      settled = true;
      clearTimers();
      resolve({ upReq, upRes });
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      clearTimers();
      if (settled) return; // after the head, the relay owns errors
      settled = true;
      const error = classify(err, backend.id, connected);
      const stale = upReq.reusedSocket && error instanceof UpstreamResetError && error.upstreamKind === 'reset';
      reject(new AttemptError(error, stale));
    });

    if (o.body === undefined) upReq.end();
    else o.body.attach(upReq);
  });
}

function classify(err: NodeJS.ErrnoException, backend: string, connected: boolean): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (!connected) return new ConnectFailedError(backend, err.code === 'ETIMEDOUT', err);
  return new UpstreamResetError(backend, typeof err.code === 'string' && err.code.startsWith('HPE_'), err);
}

/**
 * 100 Continue goes only to a client that asked for it; 103 Early Hints goes
 * through. A hint Node cannot re-encode is dropped (a 103 is advisory) rather
 * than allowed to throw. Returns true when something was sent to the client.
 */
function relayInformational(o: AttemptOptions, status: number, rawHeaders: string[]): boolean {
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
