/**
 * One client request, end to end: take the eligible view, ask the picker,
 * send (transport/select), retry on another backend where the rules allow,
 * stream the response back, and report the outcome to the outlier detector,
 * metrics and the access log. Failures become typed errors that
 * proxy/error-response turns into answers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { UpstreamResetError, ConnectFailedError, StreamRefusedError } from '../errors.js';
import { acquire, choose, mayRetry, type ContextFactory } from './choose.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Picker, PickContext } from '../balancer/picker.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';
import { addForwarded, allowedTrailers, clientAddress, stripHopByHop } from './headers.js';
import { send } from '../transport/select.js';
import { AttemptError, type UpstreamCall, type UpstreamResponse } from '../transport/contract.js';
import { relayInformational } from './informational.js';
import { RequestBody, RETRY_BODY_LIMIT } from './request-body.js';
import type { RetryBudget } from './retry-budget.js';
import type { UpstreamPool } from '../transport/pool.js';
import { sendError } from './error-response.js';
import type { Outcomes } from './outcome.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export interface ForwardDeps {
  readonly config: Config;
  readonly set: BackendSet;
  readonly picker: Picker;
  readonly pool: UpstreamPool;
  readonly outcomes: Outcomes;
  readonly contextFor: ContextFactory;
  readonly budget: RetryBudget;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly draining: () => boolean;
}

/** What the access log says about one exchange. */
interface Exchange {
  readonly started: number;
  readonly clientIp: string;
  requestId: string;
  backend: Backend | undefined;
  attempts: number;
  call: UpstreamCall | undefined;
  /** A 1xx already went to the client: no retry may follow. */
  informational: boolean;
  /** The client closed its connection before the exchange completed. */
  clientGone: boolean;
  /** Frees the backend slot of the answer being relayed (also when the client leaves mid-body). */
  release: (() => void) | undefined;
}

export class Forwarder {
  constructor(private readonly d: ForwardDeps) {}

  private readonly requestTrailersDropped = (n: number): void => this.d.metrics.trailersDropped.inc({ direction: 'request' }, n);

  handle(req: IncomingMessage, res: ServerResponse): void {
    const ex: Exchange = {
      started: performance.now(), clientIp: clientAddress(req.socket.remoteAddress), requestId: '',
      backend: undefined, attempts: 0, call: undefined, informational: false, clientGone: false, release: undefined,
    };
    const headers = this.upstreamHeaders(req, ex);
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    // The copy kept for replay is only worth its memory when a retry can happen.
    const body = hasBody ? new RequestBody(req, this.d.config.retries > 0 ? RETRY_BODY_LIMIT : 0, this.requestTrailersDropped) : undefined;
    if (req.headers['transfer-encoding'] !== undefined) headers.push('Transfer-Encoding', 'chunked');
    // A body on GET/HEAD is legal but read differently by some servers: its connection is not reused.
    if (hasBody && (req.method === 'GET' || req.method === 'HEAD')) headers.push('Connection', 'close');
    this.d.budget.onRequest();
    res.once('close', () => {
      // The client left before the exchange completed (either way): the backend request goes too.
      if (!res.writableFinished || !req.complete) {
        ex.clientGone = !res.writableFinished;
        ex.call?.abort();
      }
      ex.release?.();
      this.logAndCount(req, res, ex);
    });
    this.run(req, res, ex, headers, body).catch((err: unknown) => {
      if (ex.clientGone || res.destroyed) return; // nobody to answer, and not a proxy error
      try {
        const kind = sendError(res, err, this.d.draining() || (body !== undefined && !body.complete), this.d.logger);
        this.d.metrics.proxyErrors.inc({ kind });
      } catch (fault) {
        this.d.logger.error({ err: fault }, 'could not answer with an error; closing the connection');
        res.destroy();
      }
    });
  }

  private upstreamHeaders(req: IncomingMessage, ex: Exchange): string[] {
    const headers = stripHopByHop(req.rawHeaders, { keepTeTrailers: true });
    if (this.d.config.forwardedHeaders) {
      ex.requestId = addForwarded(headers, { clientIp: ex.clientIp, proto: 'http', newRequestId: randomUUID });
    } else {
      const given = req.headers['x-request-id'];
      ex.requestId = typeof given === 'string' ? given : randomUUID();
    }
    return headers;
  }

  private async run(req: IncomingMessage, res: ServerResponse, ex: Exchange, headers: string[], body: RequestBody | undefined): Promise<void> {
    const tried: Backend[] = [];
    const ctx = this.d.contextFor(ex.clientIp, req.headers);
    const expectContinue = req.headers.expect?.toLowerCase() === '100-continue';
    const onInformational = (status: number, raw: readonly string[]) => {
      if (relayInformational(res, expectContinue, status, raw)) ex.informational = true;
    };
    for (;;) {
      const backend = choose(this.d, tried, ctx);
      tried.push(backend);
      ex.backend = backend;
      ex.attempts += 1;
      let result: UpstreamResponse;
      const release = acquire(backend);
      const sentAt = performance.now();
      try {
        result = await send(backend, this.d.pool, {
          // An HTTP/1.0 request may lack Host; HTTP/1.1 to the backend needs one: the backend's own.
          method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers.host === undefined ? [...headers, 'Host', backend.id] : headers, body,
          connectTimeoutMs: this.d.config.connectTimeoutMs, upstreamTimeoutMs: this.d.config.upstreamTimeoutMs,
          idleTimeoutMs: this.d.config.idleTimeoutMs, exactHeaders: !this.d.config.forwardedHeaders, onInformational,
        }, (call) => (ex.call = call));
      } catch (err) {
        release();
        const failure = err as AttemptError;
        body?.detach();
        if (ex.clientGone || res.destroyed) throw failure.error; // the client left; not the backend's fault
        this.d.outcomes.attemptFailed(backend, failure.error, !failure.stale);
        const reason = retryReason(failure, req.method ?? 'GET');
        if (reason === undefined || !this.mayRetry(tried, ctx, body, res, ex)) throw failure.error;
        this.d.metrics.retries.inc({ reason });
        continue;
      }
      const status = result.statusCode;
      this.d.outcomes.answered(backend, status, performance.now() - sentAt);
      if ((status === 502 || status === 503) && IDEMPOTENT.has(req.method ?? '') && this.mayRetry(tried, ctx, body, res, ex)) {
        // Discard this answer now: its connection is not reused, its slot is free at once.
        release();
        body?.detach();
        result.abort();
        this.d.metrics.retries.inc({ reason: `status_${status}` });
        continue;
      }
      body?.stopHolding();
      this.relay(res, result, backend, release, ex);
      return;
    }
  }

  private mayRetry(tried: readonly Backend[], ctx: PickContext, body: RequestBody | undefined, res: ServerResponse, ex: Exchange): boolean {
    if (res.headersSent || res.destroyed || ex.informational) return false;
    if (body !== undefined && !body.replayable) return false;
    return mayRetry(this.d, tried, ctx.now);
  }

  /** Streams the backend's answer to the client; trailers follow the body. */
  private relay(res: ServerResponse, up: UpstreamResponse, backend: Backend, release: () => void, ex: Exchange): void {
    const headers = stripHopByHop(up.rawHeaders);
    if (this.d.draining()) headers.push('Connection', 'close');
    res.sendDate = false;
    try {
      res.writeHead(up.statusCode, up.statusMessage, headers);
    } catch (err) {
      // A head Node will not write (a reason phrase or value with bytes it refuses): the backend's answer is unusable.
      up.abort();
      release();
      res.statusMessage = ''; // Node keeps the refused one, and would refuse the error answer too
      const error = new UpstreamResetError(backend.id, true, err);
      this.d.outcomes.relayFailed(backend, error);
      throw error;
    }
    up.relayBody(res, (err, rawTrailers) => {
      release();
      if (err === undefined) {
        if (rawTrailers.length > 0) addTrailersSafely(res, rawTrailers, (n) => this.d.metrics.trailersDropped.inc({ direction: 'response' }, n));
        res.end();
        return;
      }
      // The backend broke off mid-body (or went silent): cut the client too, so the truncation shows.
      if (!ex.clientGone) this.d.outcomes.relayFailed(backend, err);
      res.destroy();
    });
    ex.release = release;
  }

  private logAndCount(req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    this.d.outcomes.request(req.method ?? '', {
      reqId: ex.requestId, client: ex.clientIp, method: req.method ?? '', path: q < 0 ? url : url.slice(0, q),
      backend: ex.backend?.id ?? null, status: res.headersSent ? res.statusCode : 0, durationMs: performance.now() - ex.started,
      attempts: ex.attempts, aborted: !res.writableFinished,
    });
  }
}

/** Trailers RFC 9110 forbids, or that Node refuses to encode, are dropped (the body is complete; they are metadata). */
function addTrailersSafely(res: ServerResponse, raw: readonly string[], onDropped: (count: number) => void): void {
  const { pairs, dropped } = allowedTrailers(raw);
  if (dropped > 0) onDropped(dropped);
  try {
    res.addTrailers(pairs);
  } catch {
    // Nothing to do: the answer ends without them.
  }
}

function retryReason(failure: AttemptError, method: string): string | undefined {
  if (failure.error instanceof ConnectFailedError) return 'connect_failed';
  if (failure.error instanceof StreamRefusedError) return 'refused_stream';
  if (failure.error instanceof UpstreamResetError && IDEMPOTENT.has(method)) return 'upstream_reset';
  return undefined;
}
