/**
 * The HTTP/2 engine, for `h2c` and `h2` backends: each exchange is one stream
 * on a multiplexed session (transport/h2-sessions). The HTTP/1.1-shaped head
 * is translated (transport/h2-headers); the answer comes back in the
 * contract's shape: status without a reason phrase, raw fields without
 * pseudo-headers, 1xx answers, the body with backpressure, trailers. It owns
 * its timers (waiting for a session, response head, silence on the stream)
 * and its error classification; abort() resets the stream, never the session.
 */
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Writable } from 'node:stream';
import { ConnectFailedError, StreamRefusedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './pool.js';
import type { H2Session } from './h2-session.js';
import { H2BodySink } from './h2-body-sink.js';
import { Gather } from './gather.js';
import { releaseClosedStream } from './h2-release.js';
import { receivedFields, toH2RequestHeaders } from './h2-headers.js';
import { AttemptError, MAX_INFORMATIONAL, type ExchangeRequest, type RelayDone, type UpstreamCall, type UpstreamResponse } from './contract.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;
/** RST_STREAM codes that say the backend broke the protocol (RFC 9113 §7). */
const PROTOCOL_CODES: ReadonlySet<number> = new Set([
  http2.constants.NGHTTP2_PROTOCOL_ERROR, http2.constants.NGHTTP2_FLOW_CONTROL_ERROR,
  http2.constants.NGHTTP2_FRAME_SIZE_ERROR, http2.constants.NGHTTP2_COMPRESSION_ERROR,
]);
/** `session.request` refusing because the session is going away: nothing was sent. */
const SESSION_GONE = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_OUT_OF_STREAMS']);

export function sendWithH2(backend: Backend, pool: UpstreamPool, o: ExchangeRequest, onCall: (call: UpstreamCall) => void): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const exchange = new H2Exchange(backend, o, resolve, reject);
    onCall(exchange);
    exchange.start(pool);
  });
}

class H2Exchange implements UpstreamResponse {
  statusCode = 0;
  /** HTTP/2 has no reason phrase. */
  readonly statusMessage = '';
  rawHeaders: readonly string[] = [];
  private stream: ClientHttp2Stream | undefined;
  private session: H2Session | undefined;
  private cancelWait: (() => void) | undefined;
  /** The head arrived and the promise resolved; from then on `done` reports the end. */
  private answered = false;
  /** The exchange is over (rejected, or `done` decided). */
  private over = false;
  private informational = 0;
  private trailers: readonly string[] = [];
  private result: { err: UpstreamError | undefined; trailers: readonly string[] } | undefined;
  private done: RelayDone | undefined;
  /** Tiny DATA frames gathered on their way to the client (transport/gather); set by relayBody. */
  private gather: Gather | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /**
   * One timer for the stream's two deadlines: the head (UPSTREAM_TIMEOUT_MS
   * from the end of the request) and silence (IDLE_TIMEOUT_MS since the last
   * activity). Activity only stamps `active`; the timer, when it fires before
   * a deadline, re-arms for what is left.
   */
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() time). */
  private timerAt = 0;
  private active = 0;
  /** The head's deadline, 0 = none (not yet sent whole, answered, or no UPSTREAM_TIMEOUT_MS). */
  private headDue = 0;

  constructor(
    private readonly backend: Backend,
    private readonly o: ExchangeRequest,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: AttemptError) => void,
  ) {}

  start(pool: UpstreamPool): void {
    if (this.over) return; // aborted from onCall
    const cancel = pool.h2.acquire(this.backend, (s) => this.onSession(s), (err) => this.cut(err));
    // A session with room is handed over at once (the usual case): only a real wait is timed.
    if (this.session !== undefined || this.over) return;
    this.cancelWait = cancel;
    if (this.o.connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => this.cut(new ConnectFailedError(this.backend.id, true)), this.o.connectTimeoutMs);
    }
  }

  abort(): void {
    // Before a stream exists nothing reached the backend: not its fault.
    this.cut(new UpstreamResetError(this.backend.id, false), this.stream === undefined);
  }

  relayBody(sink: Writable, done: RelayDone): void {
    this.done = done;
    if (this.result !== undefined) return done(this.result.err, this.result.trailers);
    const stream = this.stream!;
    this.gather = Gather.into(sink, () => stream.pause(), () => {
      this.active = performance.now();
      stream.resume();
    });
    stream.on('data', (chunk: Buffer) => {
      this.active = performance.now();
      this.gather!.push(chunk);
    });
    stream.on('end', () => {
      // Node also ends the readable side of a stream that was reset, or whose session died, after the
      // data it got: with a reset code that is a broken answer, not a complete one.
      const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
      if (code !== NGHTTP2_NO_ERROR) return this.cut(new UpstreamResetError(this.backend.id, PROTOCOL_CODES.has(code)));
      this.finish(undefined, this.trailers);
    });
  }

  private onSession(session: H2Session): void {
    clearTimeout(this.connectTimer);
    this.cancelWait = undefined;
    if (this.over) return;
    this.session = session;
    const hasBody = this.o.body !== undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = session.open(toH2RequestHeaders({
        method: this.o.method, path: this.o.path, scheme: this.backend.scheme === 'h2' ? 'https' : 'http',
        rawHeaders: this.o.headers, defaultAuthority: this.backend.id,
      }), { endStream: !hasBody, waitForTrailers: hasBody });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      // A head Node will not encode is no fault of the backend's (stale: not counted against it).
      return this.cut(SESSION_GONE.has(code) ? new StreamRefusedError(this.backend.id, true, err) : new UpstreamResetError(this.backend.id, false, err), true);
    }
    this.stream = stream;
    this.active = performance.now();
    // A request without a body is sent whole now; one with a body once it has ended ('finish').
    if (!hasBody) this.headDue = this.headDeadline();
    else stream.once('finish', () => this.headSent());
    this.armTimer();
    // 'on' rather than 'once' where the event comes at most once: no wrapper per stream.
    stream.on('headers', (headers: IncomingHttpHeaders, _flags: number, raw?: string[]) => this.onInformational(headers, raw));
    stream.on('response', (headers: IncomingHttpHeaders, _flags: number, raw?: string[]) => this.onResponse(headers, raw));
    stream.on('trailers', (headers: IncomingHttpHeaders, _flags: number, raw?: string[]) => (this.trailers = receivedFields(headers, raw)));
    stream.on('error', (err: Error) => this.onBroken(err));
    stream.on('close', () => {
      this.onBroken(undefined);
      releaseClosedStream(stream);
    });
    if (hasBody) this.o.body!.attach(new H2BodySink(stream, () => (this.active = performance.now())));
  }

  /** When the answer's head is due if the request went out whole now (UPSTREAM_TIMEOUT_MS), or 0. */
  private headDeadline(): number {
    return this.o.upstreamTimeoutMs > 0 ? performance.now() + this.o.upstreamTimeoutMs : 0;
  }

  /** A request body ended: the head deadline starts (the timer moves only if it would fire too late). */
  private headSent(): void {
    if (this.answered || this.over) return;
    this.headDue = this.headDeadline();
    if (this.headDue !== 0 && (this.timer === undefined || this.headDue < this.timerAt)) this.armTimer();
  }

  private onInformational(headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    this.active = performance.now();
    const status = Number(headers[':status']);
    if (!(status >= 100 && status < 200) || this.over) return;
    if (++this.informational > MAX_INFORMATIONAL) return this.cut(new UpstreamResetError(this.backend.id, true, new Error('too many 1xx answers')));
    this.o.onInformational(status, receivedFields(headers, raw));
  }

  private onResponse(headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    if (this.over) return;
    this.active = performance.now();
    this.headDue = 0;
    this.statusCode = Number(headers[':status']);
    this.rawHeaders = receivedFields(headers, raw);
    this.answered = true;
    this.resolve(this);
  }

  /** The stream failed, or closed without a complete answer. */
  private onBroken(err: Error | undefined): void {
    if (this.over || this.result !== undefined) return;
    const stream = this.stream!;
    if (err === undefined && stream.readableEnded) return; // a normal end: 'end' reports it
    const code = stream.rstCode ?? -1;
    const errCode = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
    const unprocessed = code === NGHTTP2_REFUSED_STREAM || errCode === 'ERR_HTTP2_GOAWAY_SESSION'
      || stream.id === undefined || stream.id > (this.session?.lastStreamId ?? Infinity);
    // Never processed. After the backend's GOAWAY (it rotates its connections) no fault of its health;
    // a backend that refuses streams on a session it keeps is judged as before.
    const rotating = errCode === 'ERR_HTTP2_GOAWAY_SESSION' || (this.session?.lastStreamId ?? Infinity) !== Infinity;
    if (!this.answered && unprocessed) return this.cut(new StreamRefusedError(this.backend.id, rotating, err), rotating);
    this.cut(new UpstreamResetError(this.backend.id, PROTOCOL_CODES.has(code), err));
  }

  /** The earlier of the two deadlines, or 0 for none. */
  private nextDue(): number {
    const idle = this.o.idleTimeoutMs > 0 ? this.active + this.o.idleTimeoutMs : 0;
    if (this.headDue === 0) return idle;
    return idle === 0 ? this.headDue : Math.min(idle, this.headDue);
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const due = this.nextDue();
    if (due === 0) return;
    this.timerAt = due;
    this.timer = setTimeout(this.onTimer, Math.max(1, due - performance.now()));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.over || this.result !== undefined) return;
    const now = performance.now();
    // Timers may fire up to a millisecond before performance.now() says they are due.
    if (this.headDue !== 0 && this.headDue - now <= 1) return this.cut(new UpstreamTimeoutError(this.backend.id, 'headers'));
    if (this.o.idleTimeoutMs > 0 && this.active + this.o.idleTimeoutMs - now <= 1) return this.cut(new UpstreamTimeoutError(this.backend.id, 'idle'));
    this.armTimer();
  };

  /** Ends the exchange with `err`: the stream is reset with CANCEL (its session lives on). */
  private cut(err: UpstreamError, stale = false): void {
    if (this.over || this.result !== undefined) return;
    this.cancelWait?.();
    const stream = this.stream;
    if (stream !== undefined && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    if (this.answered) return this.finish(err, []);
    this.over = true;
    this.clearTimers();
    this.reject(new AttemptError(err, stale));
  }

  private finish(err: UpstreamError | undefined, trailers: readonly string[]): void {
    if (this.result !== undefined) return;
    if (err === undefined) this.gather?.flush();
    else this.gather?.drop();
    this.result = { err, trailers };
    this.clearTimers();
    if (err !== undefined && this.stream !== undefined && !this.stream.destroyed) this.stream.close(NGHTTP2_CANCEL);
    this.done?.(err, trailers);
  }

  private clearTimers(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
