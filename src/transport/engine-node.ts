/**
 * The `node:http` engine: what undici does not send as received
 * (transport/select): chunked request bodies (with their trailers),
 * 100-continue, bodies on other methods than POST/PUT/PATCH, HEAD, https
 * backends, exact headers, and request targets undici does not take. The
 * client's body is streamed with backpressure. It owns its timers (connect,
 * response head, idle) and its error classification.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex, Writable } from 'node:stream';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './pool.js';
import { checkResponseHead } from './response-guard.js';
import { Gather } from './gather.js';
import { AttemptError, MAX_INFORMATIONAL, type ExchangeRequest, type UpstreamCall, type UpstreamResponse } from './contract.js';

export function sendWithNodeHttp(backend: Backend, pool: UpstreamPool, o: ExchangeRequest, onCall: (call: UpstreamCall) => void): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const client = backend.scheme === 'https' ? https : http;
    const upReq = client.request({
      host: backend.host,
      port: backend.port,
      method: o.method,
      path: o.path,
      headers: o.body === undefined ? o.headers : framed(o.headers),
      agent: pool.agentFor(backend),
      setHost: false,
      // Always set, 0 included: otherwise a reused socket keeps the pool's idle timeout while active.
      timeout: o.idleTimeoutMs,
    });
    onCall({ abort: () => upReq.destroy() });
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
    /** Ends the attempt once, whatever reports the failure first; the socket is not reused. */
    const fail = (error: UpstreamError, stale = false) => {
      clearTimers();
      if (settled) return;
      settled = true;
      upReq.destroy();
      reject(new AttemptError(error, stale));
    };
    upReq.once('finish', () => {
      if (o.upstreamTimeoutMs > 0 && !settled) {
        headTimer = setTimeout(() => fail(new UpstreamTimeoutError(backend.id, 'headers')), o.upstreamTimeoutMs);
      }
    });
    let idle = false;
    upReq.on('timeout', () => {
      idle = true;
      upReq.destroy(new UpstreamTimeoutError(backend.id, 'idle'));
    });
    let informational = 0;
    upReq.on('information', (info) => {
      if (++informational > MAX_INFORMATIONAL) return fail(new UpstreamResetError(backend.id, true, new Error('too many 1xx answers')));
      o.onInformational(info.statusCode, info.rawHeaders);
    });
    // No request here asks for an upgrade (those go through the tunnel), so a 101 is a protocol error.
    // Without this listener Node drops the socket and reports nothing at all.
    upReq.on('upgrade', (_res: IncomingMessage, socket: Duplex) => {
      socket.destroy();
      fail(new UpstreamResetError(backend.id, true, new Error('101 Switching Protocols to a request without Upgrade')));
    });
    upReq.once('response', (upRes) => {
      const problem = checkResponseHead(upRes.rawHeaders);
      if (problem !== undefined) return fail(new UpstreamResetError(backend.id, true, new Error(problem)));
      settled = true;
      clearTimers();
      resolve(new NodeResponse(upReq, upRes, backend.id, () => idle));
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return; // after the head, the relay owns errors
      const error = classify(err, backend.id, connected);
      fail(error, upReq.reusedSocket && error instanceof UpstreamResetError && error.upstreamKind === 'reset');
    });
    // Whatever else ends the request before a head (Node closes some sockets without an error): a reset.
    // Every request closes, answered or not: the error (and its stack trace) only for one that was not.
    upReq.once('close', () => {
      if (!settled) fail(new UpstreamResetError(backend.id, false));
      else clearTimers();
    });

    if (o.body === undefined) upReq.end();
    else o.body.attach(upReq);
  });
}

class NodeResponse implements UpstreamResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly rawHeaders: readonly string[];

  constructor(
    private readonly upReq: http.ClientRequest,
    private readonly upRes: IncomingMessage,
    private readonly backendId: string,
    /** True once IDLE_TIMEOUT_MS of silence cut the exchange. */
    private readonly timedOut: () => boolean,
  ) {
    this.statusCode = upRes.statusCode ?? 502;
    this.statusMessage = upRes.statusMessage ?? '';
    this.rawHeaders = upRes.rawHeaders;
  }

  abort(): void {
    this.upReq.destroy();
  }

  relayBody(sink: Writable, done: (err: UpstreamError | undefined, rawTrailers: readonly string[]) => void): void {
    const upRes = this.upRes;
    const gather = Gather.into(sink, () => upRes.pause(), () => upRes.resume());
    upRes.on('data', (chunk: Buffer) => gather.push(chunk));
    upRes.once('end', () => {
      gather.flush();
      done(undefined, upRes.rawTrailers);
    });
    upRes.once('error', (err: unknown) => {
      gather.flush(); // what arrived before the break still goes out
      done(this.timedOut() ? new UpstreamTimeoutError(this.backendId, 'idle') : new UpstreamResetError(this.backendId, false, err), []);
    });
  }
}

function classify(err: NodeJS.ErrnoException, backend: string, connected: boolean): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (!connected) return new ConnectFailedError(backend, err.code === 'ETIMEDOUT', err);
  return new UpstreamResetError(backend, typeof err.code === 'string' && err.code.startsWith('HPE_'), err);
}

/**
 * A body the data plane re-framed as chunked (proxy/reframe: an HTTP/2 request
 * that may end with trailers) may still carry its Content-Length, which HTTP/2
 * backends keep; HTTP/1.1 must not send both (RFC 9112 §6.2): chunked wins.
 */
export function framed(headers: string[]): string[] {
  let chunked = false;
  let length = false;
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!.length;
    if (n === 17 && headers[i]!.toLowerCase() === 'transfer-encoding') chunked = true;
    else if (n === 14 && headers[i]!.toLowerCase() === 'content-length') length = true;
  }
  if (!chunked || !length) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length !== 14 || headers[i]!.toLowerCase() !== 'content-length') out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}
