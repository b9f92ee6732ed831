/**
 * The undici engine, for plain-http requests without a body, in undici's dispatcher handler shape (its client's native form:
 * no adapter per request): raw header bytes, body chunks written straight to the caller's sink with backpressure (false
 * pauses undici's parser until the sink drains). The timeouts are ours: undici's tick every 0.5 s (so fire up to that much
 * early) and its body timeout sleeps while paused.
 */
import { STATUS_CODES } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './pool.js';
import { checkResponseHead } from './response-guard.js';
import { announcesBody, classify, isUnaskedContinue, latin1, reasonPhrase, REFUSED_LOCALLY } from './undici-wire.js';
import { AttemptError, IDEMPOTENT_METHODS, MAX_INFORMATIONAL, type ExchangeRequest, type RelayDone, type UpstreamCall, type UpstreamResponse } from './contract.js';

/** Body bytes kept while the answer waits for its relay to start (it starts within the same tick). */
const EARLY_BODY_LIMIT = 64 * 1024;

/** `fallback` sends it through node:http: undici refused it, or it is idempotent and met an unasked 100 (transport/pool). */
export function sendWithUndici(
  backend: Backend, pool: UpstreamPool, o: ExchangeRequest, onCall: (call: UpstreamCall) => void,
  fallback: () => Promise<UpstreamResponse>,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const exchange = new UndiciExchange(backend, pool, o, resolve, reject, () => fallback().then(resolve, reject));
    onCall(exchange);
    pool.dispatcherFor(backend).dispatch({ path: o.path, method: o.method, headers: o.headers, body: null, headersTimeout: 0, bodyTimeout: 0 }, exchange);
    // undici writes on a pooled connection one turn later (it first checks it for a close), on a new one after the connect.
    exchange.dispatched();
  });
}

/**
 * One exchange, in undici's handler shape. Before the head it settles the
 * attempt's promise; after it, it is the UpstreamResponse the Forwarder relays.
 */
class UndiciExchange implements UpstreamResponse, Dispatcher.DispatchHandler {
  statusCode = 0;
  statusMessage = '';
  rawHeaders: readonly string[] = [];
  private settled = false;
  private connected = false;
  /** We cut it (client gone, answer discarded, timeout): what undici reports afterwards is ours. */
  private aborted = false;
  /** A 204/304 that announced a body: relayed without one, its connection dropped. */
  private bodyless = false;
  /** 1xx answers so far. */
  private informational = 0;
  private abortFn: ((err?: Error) => void) | undefined;
  private resumeFn: (() => void) | undefined;
  /**
   * One timer per exchange, armed once: moving from connect to head to body
   * silence only moves `deadline` (and its error); the timer, when it fires
   * early for the current phase, re-arms for what is left. For a request
   * answered in a millisecond that is one setTimeout and one clearTimeout.
   */
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time). */
  private timerAt = 0;
  /** The current phase's deadline, or 0 for none; body silence counts from `active` instead. */
  private deadline = 0;
  /** The current phase's timeout, for body silence re-measured from the last activity. */
  private silenceMs = 0;
  private active = 0;
  private phase: 'connect' | 'headers' | 'idle' = 'connect';
  /** Set by relayBody(); until then body chunks are held. */
  private sink: Writable | undefined;
  private done: RelayDone | undefined;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** How the body ended before the relay started: trailers, or an error. */
  private ended: { err: UpstreamError | undefined; trailers: readonly string[] } | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly pool: UpstreamPool,
    private readonly o: ExchangeRequest,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: AttemptError) => void,
    private readonly fallback: () => void,
  ) {}

  /** Times the wait for a connection (CONNECT_TIMEOUT_MS) unless undici already wrote the request. */
  dispatched(): void {
    if (!this.connected && !this.settled && this.o.connectTimeoutMs > 0) {
      this.arm(this.o.connectTimeoutMs, 'connect');
    }
  }

  abort(): void {
    // Before any byte left, nothing is owed to the backend's health: the attempt just ends.
    this.cut(new UpstreamResetError(this.backend.id, false), !this.connected);
  }

  relayBody(sink: Writable, done: RelayDone): void {
    this.sink = sink;
    this.done = done;
    if (this.bodyless) {
      this.finish(undefined, []);
      return this.cut(new UpstreamResetError(this.backend.id, false));
    }
    for (const chunk of this.early) sink.write(chunk);
    this.early = [];
    if (this.ended !== undefined) return done(this.ended.err, this.ended.trailers);
    // Armed here rather than at the head: most answers are complete before this runs.
    this.armIdle();
    if (this.earlyBytes >= EARLY_BODY_LIMIT) this.resume();
  }

  // undici's handler callbacks below.

  onConnect(abort: (err?: Error) => void): void {
    this.connected = true;
    this.abortFn = abort;
    if (this.aborted) return abort(new UpstreamResetError(this.backend.id, false));
    const { upstreamTimeoutMs: head, idleTimeoutMs: idle } = this.o;
    // Silence before the head ends the wait too, as IDLE_TIMEOUT_MS does on the node:http path.
    if (idle > 0 && (head === 0 || idle < head)) this.arm(idle, 'idle');
    else if (head > 0) this.arm(head, 'headers');
    else this.disarm();
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
    if (this.silenceMs > 0) this.active = performance.now();
    const sink = this.sink;
    if (sink === undefined) {
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      return this.earlyBytes < EARLY_BODY_LIMIT;
    }
    if (sink.write(chunk)) return true;
    sink.once('drain', this.resume);
    return false;
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
      if (REFUSED_LOCALLY.has(code) && !this.connected) return this.fallback();
      if (this.connected && isUnaskedContinue(err, code)) {
        this.pool.sentUnaskedContinue(this.backend);
        // Sent again only when nothing reached the client yet (no 1xx relayed), as a retry would be.
        if (IDEMPOTENT_METHODS.has(this.o.method) && !this.aborted && this.informational === 0) return this.fallback();
      }
      // Never `stale`: undici checks an idle pooled connection for a close from the backend before it
      // writes to it (one event-loop turn), so a reset after that is the backend's doing.
      return this.reject(new AttemptError(classify(err, code, this.backend.id, this.connected), false));
    }
    this.finish(err instanceof UpstreamError ? err : new UpstreamResetError(this.backend.id, false, err), []);
  }

  private readonly resume = (): void => {
    if (this.silenceMs > 0) this.active = performance.now();
    this.resumeFn?.();
  };

  /** Enters a phase that must end within `ms` (connect, then head; body silence: armIdle). */
  private arm(ms: number, phase: 'connect' | 'headers' | 'idle'): void {
    const now = performance.now();
    this.deadline = now + ms;
    this.silenceMs = 0;
    this.phase = phase;
    // The armed timer fires in time for this phase, or earlier and re-arms: nothing to do.
    if (this.timer !== undefined && this.timerAt <= this.deadline) return;
    clearTimeout(this.timer);
    this.timerAt = this.deadline;
    this.timer = setTimeout(this.onTimer, ms);
  }

  /** Body silence: IDLE_TIMEOUT_MS from the last chunk or drain. */
  private armIdle(): void {
    const idle = this.o.idleTimeoutMs;
    if (idle <= 0) return this.disarm();
    this.arm(idle, 'idle');
    this.silenceMs = idle;
    this.active = performance.now();
  }

  /** No deadline in this phase; a timer still armed finds none when it fires. */
  private disarm(): void {
    this.deadline = 0;
    this.silenceMs = 0;
  }

  private stopTimer(): void {
    this.disarm();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.deadline === 0 || this.aborted) return;
    const deadline = this.silenceMs > 0 ? this.active + this.silenceMs : this.deadline;
    const left = deadline - performance.now();
    // Timers may fire up to a millisecond before performance.now() says they are due.
    if (left > 1) {
      this.timerAt = deadline;
      this.timer = setTimeout(this.onTimer, left);
      return;
    }
    this.cut(this.phase === 'connect' ? new ConnectFailedError(this.backend.id, true) : new UpstreamTimeoutError(this.backend.id, this.phase));
  };

  /** Ends the exchange with `err`: through undici once connected, at once before. */
  private cut(err: UpstreamError, stale = false): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stopTimer();
    if (this.abortFn !== undefined) return this.abortFn(err); // undici calls onError(err)
    if (this.settled) return;
    this.settled = true;
    this.reject(new AttemptError(err, stale));
  }

  private finish(err: UpstreamError | undefined, trailers: readonly string[]): void {
    if (this.ended !== undefined) return;
    this.ended = { err, trailers };
    this.done?.(err, trailers);
  }
}
