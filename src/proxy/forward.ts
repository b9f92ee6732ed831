/**
 * One client request (an HTTP/1.1 request or an HTTP/2 stream), end to end:
 * take the eligible view, ask the picker, send (transport/select), retry on
 * another backend where the rules allow, relay the answer (proxy/relay), and
 * report the outcome (proxy/outcome). Failures become typed errors that
 * proxy/error-response turns into answers (gRPC-shaped for gRPC calls).
 */
import type { Config } from '../config.js';
import { UpstreamResetError, ConnectFailedError, StreamRefusedError } from '../errors.js';
import { acquire, choose, mayRetry, type ContextFactory } from './choose.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Picker, PickContext } from '../balancer/picker.js';
import type { Backend } from '../upstream/backend.js';
import type { BackendSet } from '../upstream/backend-set.js';
import { clientAddress } from './headers.js';
import { startTrace, upstreamHead, type Trace } from './upstream-head.js';
import { send } from '../transport/select.js';
import { AttemptError, IDEMPOTENT_METHODS, type UpstreamCall, type UpstreamResponse } from '../transport/contract.js';
import { relayInformational } from './informational.js';
import { RequestBody, RETRY_BODY_LIMIT } from './request-body.js';
import type { RetryBudget } from './retry-budget.js';
import type { UpstreamPool } from '../transport/pool.js';
import { grpcStatusOf, sendError } from './error-response.js';
import type { Outcomes } from './outcome.js';
import { answered, carriesBody, clientGone, clientSocket, isHttp2Request, refusesInformational, relaysContinue, requestComplete, statusSent, type ClientRequest, type ClientResponse, type RequestHead } from './downstream.js';
import { GRPC_UNAVAILABLE, grpcStatusIn, grpcStatusOfHttp, grpcTimeoutMs, isGrpc } from './grpc.js';
import { relay, type Exchange } from './relay.js';
import { CallDeadline } from './call-deadline.js';
import { chunksForTrailers, sendsChunked } from './reframe.js';
import type { ConnectionAge } from './connection-age.js';
import { tlsPeerOf } from '../tls/xfcc.js';
import type { ServerSpan } from '../tracing/spans.js';
import { endAttempt } from '../tracing/tracing.js';

/** Every request that is not a gRPC call: the configured timeouts only. */
const NO_DEADLINE = new CallDeadline(undefined, 0);

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
  readonly age: ConnectionAge;
}

export class Forwarder {
  constructor(private readonly d: ForwardDeps) {}

  private readonly requestTrailersDropped = (n: number): void => this.d.metrics.trailersDropped.inc({ direction: 'request' }, n);

  /**
   * Forwards one request. With `callerListens` the caller calls the returned
   * function when the response emits 'close' (one listener serves both);
   * otherwise the Forwarder listens itself.
   */
  handle(req: ClientRequest, res: ClientResponse, head: RequestHead, callerListens = false): () => void {
    const ex: Exchange = {
      started: performance.now(), clientIp: clientAddress(clientSocket(req)?.remoteAddress), requestId: '', protocol: head.protocol,
      grpc: isGrpc(head.headers), grpcStatus: undefined, chunksForTrailers: chunksForTrailers(head),
      backend: undefined, attempts: 0, call: undefined, informational: false, clientGone: false, upstreamError: undefined, release: undefined,
    };
    const peer = tlsPeerOf(clientSocket(req));
    const forwarded = this.d.config.forwardedHeaders;
    const { headers, requestId } = upstreamHead(head, ex.clientIp, peer, forwarded);
    ex.requestId = requestId;
    const trace = startTrace(this.d.outcomes.tracing, head, ex.started, peer === undefined ? 'http' : 'https', headers, forwarded);
    const hasBody = carriesBody(req, head);
    // The copy kept for replay is only worth its memory when a retry can happen.
    const body = hasBody ? new RequestBody(req, this.d.config.retries > 0 ? RETRY_BODY_LIMIT : 0, this.requestTrailersDropped) : undefined;
    // HTTP/1.1 to the backend: a body of unknown length, or one that may end with trailers, goes chunked (an engine drops the Content-Length).
    if (hasBody && sendsChunked(head)) headers.push('Transfer-Encoding', 'chunked');
    // A body on GET/HEAD is legal but read differently by some servers: its connection is not reused.
    if (hasBody && (head.method === 'GET' || head.method === 'HEAD')) headers.push('Connection', 'close');
    this.d.budget.onRequest();
    const onClose = (): void => {
      // The client left before the exchange completed (either way): the backend request goes too.
      const whole = answered(res);
      if (!whole || !requestComplete(req)) {
        ex.clientGone = !whole;
        ex.call?.abort();
      }
      ex.release?.();
      this.logAndCount(head, res, ex, trace?.span);
    };
    if (!callerListens) res.once('close', onClose);
    this.run(req, head, res, ex, headers, body, trace);
    return onClose;
  }

  /** Answers a request that failed before its answer started (the client may be gone). */
  private fail(req: ClientRequest, res: ClientResponse, ex: Exchange, body: RequestBody | undefined, trace: Trace | undefined, err: unknown): void {
    if (ex.clientGone || clientGone(res)) return; // nobody to answer, and not a proxy error
    try {
      const close = this.closeAfter(req) || (body !== undefined && !body.complete);
      const kind = sendError(res, err, { close, grpc: ex.grpc }, this.d.logger);
      if (ex.grpc) ex.grpcStatus = grpcStatusOf(kind);
      if (trace !== undefined) trace.span.errorType = kind;
      this.d.metrics.proxyErrors.inc({ kind });
    } catch (fault) {
      this.d.logger.error({ err: fault }, 'could not answer with an error; closing the connection');
      res.destroy();
    }
  }

  /**
   * The attempts, as a chain of callbacks on each engine's promise (no async
   * function: one promise and one microtask fewer per request). A failure in
   * the synchronous start is answered a microtask later, as an async
   * function's rejection was.
   */
  private run(req: ClientRequest, head: RequestHead, res: ClientResponse, ex: Exchange, headers: string[], body: RequestBody | undefined, trace: Trace | undefined): void {
    const tried: Backend[] = [];
    let rotationRetried = false;
    const ctx = this.d.contextFor(ex.clientIp, head.headers);
    const expectContinue = relaysContinue(head);
    const onInformational = refusesInformational(head) ? ignoreInformational : (status: number, raw: readonly string[]) => {
      if (relayInformational(res, expectContinue, status, raw)) ex.informational = true;
    };
    // grpc-timeout is the call's deadline: connecting, each attempt and the retries all count (proxy/call-deadline).
    const deadline = ex.grpc ? new CallDeadline(grpcTimeoutMs(head.headers['grpc-timeout']), ex.started) : NO_DEADLINE;
    const onCall = (call: UpstreamCall) => (ex.call = call);
    const fail = (err: unknown): void => this.fail(req, res, ex, body, trace, err);
    const next = (): void => {
      if (ex.clientGone || clientGone(res)) return; // the client left (an HTTP/2 stream reset at once): nothing is sent
      deadline.check(tried.length > 0 ? tried[tried.length - 1]!.id : 'no backend');
      const backend = choose(this.d, tried, ctx);
      tried.push(backend);
      ex.backend = backend;
      ex.attempts += 1;
      const release = acquire(backend);
      const sentAt = performance.now();
      const attempt = trace === undefined ? undefined : this.d.outcomes.tracing?.client(trace.span, backend.id, sentAt);
      if (attempt !== undefined && trace!.at >= 0) headers[trace!.at] = attempt.traceparent;
      const failed = (err: unknown): void => {
        release();
        const failure = err as AttemptError;
        body?.detach();
        endAttempt(attempt, performance.now(), 0, failure.error.upstreamKind);
        if (ex.clientGone || clientGone(res)) throw failure.error; // the client left; not the backend's fault
        const expired = deadline.expired(failure.error); // the call's time ran out, not the backend's
        this.d.outcomes.attemptFailed(backend, failure.error, !failure.stale && expired === undefined);
        if (expired !== undefined) throw expired;
        // A stream a backend rotating its connections never processed (its GOAWAY): it may take the
        // retry, on a new session; once per request, so a backend refusing everything is left.
        if (failure.error instanceof StreamRefusedError && failure.error.rotating && !rotationRetried) {
          rotationRetried = true;
          tried.pop();
        }
        const reason = retryReason(failure, head.method);
        if (reason === undefined || !this.mayRetry(tried, ctx, body, res, ex)) throw failure.error;
        this.d.metrics.retries.inc({ reason });
        next();
      };
      const got = (result: UpstreamResponse): void => {
        const status = result.statusCode;
        if (attempt !== undefined) attempt.status = status;
        // A trailers-only gRPC answer carries its status in the head.
        const headStatus = ex.grpc && status === 200 ? grpcStatusIn(result.rawHeaders) : undefined;
        // For a gRPC call the verdict on the backend is its grpc-status (in the head now, or in the trailers later).
        this.d.outcomes.answered(backend, status, performance.now() - sentAt, ex.grpc && status === 200);
        if (headStatus !== undefined) this.d.outcomes.grpcAnswered(backend, headStatus);
        const retry = (status === 502 || status === 503) && IDEMPOTENT_METHODS.has(head.method) ? `status_${status}`
          : headStatus === GRPC_UNAVAILABLE ? 'grpc_unavailable' : undefined;
        if (retry !== undefined && this.mayRetry(tried, ctx, body, res, ex)) {
          // Discard this answer now: its connection is not reused, its slot is free at once.
          release();
          body?.detach();
          result.abort();
          endAttempt(attempt, performance.now(), status, retry === 'grpc_unavailable' ? retry : undefined);
          this.d.metrics.retries.inc({ reason: retry });
          return next();
        }
        body?.stopHolding();
        relay({ res, up: result, backend, release, ex, closeConnection: this.closeAfter(req), outcomes: this.d.outcomes, metrics: this.d.metrics });
      };
      let answer: Promise<UpstreamResponse>;
      try {
        answer = send(backend, this.d.pool, {
          // An HTTP/1.0 request may lack Host; HTTP/1.1 to the backend needs one: the backend's own.
          method: head.method, path: head.url, headers: head.headers.host === undefined ? [...headers, 'Host', backend.id] : headers, body,
          connectTimeoutMs: deadline.connectTimeoutMs(this.d.config.connectTimeoutMs), upstreamTimeoutMs: deadline.upstreamTimeoutMs(this.d.config.upstreamTimeoutMs),
          idleTimeoutMs: this.d.config.idleTimeoutMs, exactHeaders: !this.d.config.forwardedHeaders, onInformational,
        }, onCall);
      } catch (err) {
        return failed(err);
      }
      answer.then(
        (result) => { try { got(result); } catch (err) { fail(err); } },
        (err: unknown) => { try { failed(err); } catch (e) { fail(e); } },
      );
    };
    try {
      next();
    } catch (err) {
      void Promise.resolve().then(() => fail(err));
    }
  }

  /** An HTTP/1.1 answer that should close its connection: draining, or past MAX_CONNECTION_AGE_MS. */
  private closeAfter(req: ClientRequest): boolean {
    return this.d.draining() || (!isHttp2Request(req) && this.d.age.expired(req.socket));
  }

  private mayRetry(tried: readonly Backend[], ctx: PickContext, body: RequestBody | undefined, res: ClientResponse, ex: Exchange): boolean {
    if (res.headersSent || clientGone(res) || ex.informational) return false;
    if (body !== undefined && !body.replayable) return false;
    return mayRetry(this.d, tried, ctx.now, 'any', ex.attempts);
  }

  private logAndCount(head: RequestHead, res: ClientResponse, ex: Exchange, span: ServerSpan | undefined): void {
    const url = head.url;
    const q = url.indexOf('?');
    const aborted = !answered(res);
    let grpcStatus = ex.grpcStatus;
    const status = statusSent(res);
    if (ex.grpc && grpcStatus === undefined) {
      // What the client reads from an HTTP status without grpc-status (it may leave at once), or CANCELLED by the client.
      grpcStatus = grpcStatusOfHttp(status) ?? (aborted && ex.clientGone ? 1 : undefined);
    }
    this.d.outcomes.request(head.method, {
      reqId: ex.requestId, traceId: span?.traceId, spanId: span?.spanId, client: ex.clientIp, method: head.method, path: q < 0 ? url : url.slice(0, q),
      backend: ex.backend?.id ?? null, status, durationMs: performance.now() - ex.started,
      attempts: ex.attempts, aborted, upstreamError: ex.upstreamError, protocol: ex.protocol, grpc: ex.grpc, grpcStatus,
    }, false, span);
  }
}

function retryReason(failure: AttemptError, method: string): string | undefined {
  if (failure.error instanceof ConnectFailedError) return 'connect_failed';
  if (failure.error instanceof StreamRefusedError) return 'refused_stream';
  if (failure.error instanceof UpstreamResetError && IDEMPOTENT_METHODS.has(method)) return 'upstream_reset';
  return undefined;
}


/** An HTTP/1.0 client gets no 1xx (proxy/downstream refusesInformational). */
function ignoreInformational(): void {}
