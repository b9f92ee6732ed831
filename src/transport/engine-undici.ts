/**
 * The undici engine, for plain-http requests without a body or with one framed by Content-Length (transport/select), in
 * undici's dispatcher handler shape (its client's native form: no adapter per request): raw header bytes, body chunks
 * written straight to the caller's sink with backpressure (false pauses undici's parser until the sink drains). A request
 * body reaches undici through transport/undici-body. The timeouts are ours: undici's tick every 0.5 s (so fire up to that
 * much early) and its body timeout sleeps while paused.
 */
import { STATUS_CODES } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './pool.js';
import { checkResponseHead } from './response-guard.js';
import { announcesBody, classify, isUnaskedContinue, latin1, reasonPhrase, REFUSED_LOCALLY } from './undici-wire.js';
import { UndiciBody } from './undici-body.js';
import type { Phase } from './phase-clock.js';
import { AnswerRelay } from './answer-relay.js';
import { AttemptError, IDEMPOTENT_METHODS, MAX_INFORMATIONAL, type ExchangeRequest, type RelayDone, type UpstreamCall, type UpstreamResponse } from './contract.js';

/** `fallback` sends it through node:http: undici refused it, or it is idempotent, bodiless and met an unasked 100 (transport/pool). */
export function sendWithUndici(
  backend: Backend, pool: UpstreamPool, o: ExchangeRequest, onCall: (call: UpstreamCall) => void,
  fallback: () => Promise<UpstreamResponse>,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const exchange = new UndiciExchange(backend, pool, o, resolve, reject, () => fallback().then(resolve, reject));
    onCall(exchange);
    const body = o.body === undefined ? null : new UndiciBody();
    pool.dispatcherFor(backend).dispatch({ path: o.path, method: o.method, headers: o.headers, body, headersTimeout: 0, bodyTimeout: 0 }, exchange);
    // undici refuses a request it will not send at once, before this: then node:http took it, body and all.
    if (body !== null) exchange.feed(body);
    // undici writes on a pooled connection one turn later (it first checks it for a close), on a new one after the connect.
    exchange.dispatched();
  });
}

/**
 * One exchange, in undici's handler shape. Before the head it settles the
 * attempt's promise; after it, it is the UpstreamResponse the Forwarder relays.
 */
class UndiciExchange extends AnswerRelay implements UpstreamResponse, Dispatcher.DispatchHandler {
  statusCode = 0;
  statusMessage = '';
  rawHeaders: readonly string[] = [];
  private settled = false;
  private connected = false;
  /** The request body went to undici: no second send can replay it whole any more. */
  private fed = false;
  /** We cut it (client gone, answer discarded, timeout): what undici reports afterwards is ours. */
  private aborted = false;
  /** A 204/304 that announced a body: relayed without one, its connection dropped. */
  private bodyless = false;
  /** 1xx answers so far. */
  private informational = 0;
  private abortFn: ((err?: Error) => void) | undefined;
  private resumeFn: (() => void) | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly pool: UpstreamPool,
    private readonly o: ExchangeRequest,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: AttemptError) => void,
    private readonly fallback: () => void,
  ) {
    super();
  }

  /** The current phase ran out (PhaseClock). */
  protected expired(phase: Phase): void {
    if (this.aborted) return;
    this.cut(phase === 'connect' ? new ConnectFailedError(this.backend.id, true) : new UpstreamTimeoutError(this.backend.id, phase));
  }

  /** Times the wait for a connection (CONNECT_TIMEOUT_MS) unless undici already wrote the request. */
  dispatched(): void {
    if (!this.connected && !this.settled && this.o.connectTimeoutMs > 0) {
      this.arm(this.o.connectTimeoutMs, 'connect');
    }
  }

  /** Hands the request body to undici, unless the request is over already (refused, and sent through node:http). */
  feed(body: UndiciBody): void {
    if (this.settled) return;
    this.fed = true;
    this.o.body!.attach(body);
  }

  abort(): void {
    // Before any byte left, nothing is owed to the backend's health: the attempt just ends.
    this.cut(new UpstreamResetError(this.backend.id, false), !this.connected);
  }

  relayBody(sink: Writable, done: RelayDone): void {
    if (this.bodyless) {
      // Whatever body bytes came are not relayed; the connection goes.
      this.finish(undefined, []);
      done(undefined, []);
      return this.cut(new UpstreamResetError(this.backend.id, false));
    }
    if (this.startRelay(sink, done)) return;
    // Armed here rather than at the head: most answers are complete before this runs.
    this.armSilence(this.o.idleTimeoutMs);
    if (this.heldBack) this.resumeBody();
  }

  protected resumeSource(): void {
    this.resumeFn?.();
  }

  // undici's handler callbacks below.

  onConnect(abort: (err?: Error) => void): void {
    this.connected = true;
    this.abortFn = abort;
    if (this.aborted) return abort(new UpstreamResetError(this.backend.id, false));
    // While a body goes out, silence (no chunk sent) is what is timed; the head's wait starts once it is sent.
    if (this.o.body !== undefined) return this.armSilence(this.o.idleTimeoutMs);
    this.armHead();
  }

  onBodySent(): void {
    this.touch();
  }

  onRequestSent(): void {
    if (this.o.body !== undefined && !this.settled && !this.aborted) this.armHead();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.aborted) return false;
    if (statusCode < 200) {
      if (++this.informational > MAX_INFORMATIONAL) {
        this.cut(new UpstreamResetError(this.backend.id, true, new Error('too many 1xx answers')));
        return false;
      }
      this.o.onInformational(statusCode, latin1(rawHeaders));
      return true;
    }
    const raw = latin1(rawHeaders);
    const problem = checkResponseHead(raw);
    if (problem !== undefined) {
      this.cut(new UpstreamResetError(this.backend.id, true, new Error(problem)));
      return false;
    }
    this.settled = true;
    this.statusCode = statusCode;
    this.statusMessage = reasonPhrase(statusText) ?? STATUS_CODES[statusCode] ?? '';
    this.rawHeaders = raw;
    // undici skips the body of a HEAD answer only; a 204/304 with a length would wait for bytes that never come.
    this.bodyless = (statusCode === 204 || statusCode === 304) && announcesBody(this.rawHeaders);
    this.resumeFn = resume;
    this.disarm();
    this.resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.aborted) return false;
    this.touch();
    // undici pauses its parser on false, until resumeSource().
    return this.pushBody(chunk);
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    this.stopTimer();
    this.finish(undefined, trailers === null ? [] : latin1(trailers));
  }

  onError(err: Error): void {
    this.stopTimer();
    const code = String((err as { code?: unknown }).code ?? '');
    if (!this.settled) {
      this.settled = true;
      // node:http takes what undici refuses, body included while none of it went to undici.
      if (REFUSED_LOCALLY.has(code) && !this.connected && !this.fed) return this.fallback();
      if (this.connected && isUnaskedContinue(err, code)) {
        this.pool.sentUnaskedContinue(this.backend);
        // Sent again only when nothing reached the client yet (no 1xx relayed), as a retry would be; never with a body.
        if (IDEMPOTENT_METHODS.has(this.o.method) && this.o.body === undefined && !this.aborted && this.informational === 0) return this.fallback();
      }
      // Never `stale`: undici checks an idle pooled connection for a close from the backend before it
      // writes to it (one event-loop turn), so a reset after that is the backend's doing.
      return this.reject(new AttemptError(classify(err, code, this.backend.id, this.connected), false));
    }
    this.finish(err instanceof UpstreamError ? err : new UpstreamResetError(this.backend.id, false, err), []);
  }

  /** The request is out: its answer's head is due within UPSTREAM_TIMEOUT_MS. */
  private armHead(): void {
    this.armForHead(this.o.upstreamTimeoutMs, this.o.idleTimeoutMs);
  }


  /** Ends the exchange with `err`: through undici once connected, at once before. */
  private cut(err: UpstreamError, stale = false): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stopTimer();
    this.dropGathered();
    if (this.abortFn !== undefined) return this.abortFn(err); // undici calls onError(err)
    if (this.settled) return;
    this.settled = true;
    this.reject(new AttemptError(err, stale));
  }
}
