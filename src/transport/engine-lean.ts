/**
 * The lean engine: bodiless requests to plain-http backends, written as one
 * string on a pooled TCP connection (transport/lean-pool), the answer read
 * by transport/h1-response. It does what the undici engine did for these
 * requests without undici's request object, header checks, dispatcher
 * queue and Buffer per header field: per request a third fewer instructions
 * in the whole proxy (docs/benchmarks.md). Requests with a body stay with
 * undici or node:http (transport/select). Its timers are transport/phase-clock's.
 *
 * A failure before any answer byte on a connection that carried an earlier
 * exchange is most likely the backend's idle close racing the request: the
 * request goes once more on a new connection when its method is idempotent,
 * and otherwise fails as `stale` (no verdict on the backend's health).
 */
import { maxHeaderSize } from 'node:http';
import type { Writable } from 'node:stream';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import { PoolClosedError, type LeanConn, type LeanPools, type ConnUser } from './lean-pool.js';
import { ResponseError, ResponseReader, type ResponseHead, type ResponseSink } from './h1-response.js';
import { checkResponseHead } from './response-guard.js';
import type { Phase } from './phase-clock.js';
import { AnswerRelay } from './answer-relay.js';
import { AttemptError, IDEMPOTENT_METHODS, MAX_INFORMATIONAL, type ExchangeRequest, type RelayDone, type UpstreamCall, type UpstreamResponse } from './contract.js';
import { requestHead } from './h1-request.js';

/**
 * A reused connection that fails this soon after the request was written, with no answer byte,
 * was most likely closed by the backend as idle: the request never reached it. Later, the backend
 * may have acted on it (a crash while processing), and it is not sent again.
 */
const RESEND_WINDOW_MS = 250;

/** `fallback` sends it through node:http (a field the lean engine will not write). */
export function sendLean(
  backend: Backend, pools: LeanPools, o: ExchangeRequest, onCall: (call: UpstreamCall) => void,
  fallback: () => Promise<UpstreamResponse>,
): Promise<UpstreamResponse> {
  const head = requestHead(o);
  if (head === undefined) return fallback();
  return new Promise((resolve, reject) => {
    const exchange = new LeanExchange(backend, pools, o, head, resolve, reject);
    onCall(exchange);
    exchange.start(false);
  });
}

class LeanExchange extends AnswerRelay implements UpstreamResponse, ConnUser, ResponseSink {
  statusCode = 0;
  statusMessage = '';
  rawHeaders: readonly string[] = [];
  private conn: LeanConn | undefined;
  private reader!: ResponseReader;
  private settled = false;
  /** We cut it (client gone, answer discarded, timeout, broken answer). */
  private aborted = false;
  /** Sent once more on a new connection already (a stale reused one). */
  private resent = false;
  /** When the request was first written (performance.now()): a second send keeps the first one's deadline. */
  private sentAt = 0;
  private informationalCount = 0;

  constructor(
    private readonly backend: Backend,
    private readonly pools: LeanPools,
    private readonly o: ExchangeRequest,
    private readonly wire: string,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: AttemptError) => void,
  ) {
    super();
  }

  start(fresh: boolean): void {
    this.reader = new ResponseReader(this, this.o.method === 'HEAD', maxHeaderSize);
    const conn = this.pools.take(this.backend, this, fresh);
    this.conn = conn;
    if (!fresh) this.sentAt = performance.now();
    if (conn.connected) this.armHead();
    else if (this.o.connectTimeoutMs > 0) this.arm(this.o.connectTimeoutMs, 'connect');
    conn.socket.write(this.wire, 'latin1');
  }

  abort(): void {
    // Before the connection opened, nothing is owed to the backend's health: the attempt just ends.
    this.cut(new UpstreamResetError(this.backend.id, false), this.conn?.connected !== true);
  }

  relayBody(sink: Writable, done: RelayDone): void {
    if (this.startRelay(sink, done)) return;
    this.armSilence(this.o.idleTimeoutMs);
    if (this.heldBack) this.resumeBody();
  }

  protected resumeSource(): void {
    this.conn?.socket.resume();
  }

  protected expired(phase: Phase): void {
    this.cut(phase === 'connect' ? new ConnectFailedError(this.backend.id, true) : new UpstreamTimeoutError(this.backend.id, phase));
  }

  // The connection's events (ConnUser).

  connected(): void {
    if (!this.settled) this.armHead();
  }

  data(chunk: Buffer): void {
    this.touch();
    try {
      this.reader.feed(chunk);
    } catch (err) {
      this.cut(new UpstreamResetError(this.backend.id, err instanceof ResponseError, err));
    }
  }

  closed(err: Error | undefined): void {
    const conn = this.conn;
    this.conn = undefined;
    if (this.aborted || this.bodyEnded) return;
    if (err === undefined && this.reader.eof()) return; // an answer read until the close: complete
    this.stopTimer();
    if (conn === undefined || !conn.connected) return this.fail(new ConnectFailedError(this.backend.id, false, err), false);
    const error = new UpstreamResetError(this.backend.id, false, err);
    if (this.settled) return this.finish(error, []);
    // Nothing came back on a connection that had carried an answer before: most likely its idle close.
    const stale = conn.reused && this.reader.received === 0 && !(err instanceof PoolClosedError);
    if (stale && !this.resent && IDEMPOTENT_METHODS.has(this.o.method) && performance.now() - this.sentAt < RESEND_WINDOW_MS) {
      this.resent = true;
      return this.start(true);
    }
    this.fail(error, stale);
  }

  // The answer's parts (ResponseSink).

  informational(h: ResponseHead): void {
    if (++this.informationalCount > MAX_INFORMATIONAL) throw new ResponseError('too many 1xx answers');
    this.o.onInformational(h.statusCode, h.rawHeaders);
  }

  head(h: ResponseHead): void {
    const problem = checkResponseHead(h.rawHeaders);
    if (problem !== undefined) throw new ResponseError(problem);
    this.settled = true;
    this.statusCode = h.statusCode;
    this.statusMessage = h.reason;
    this.rawHeaders = h.rawHeaders;
    this.disarm();
    this.resolve(this);
  }

  body(chunk: Buffer): void {
    if (!this.pushBody(chunk)) this.conn?.socket.pause();
  }

  end(trailers: string[]): void {
    this.stopTimer();
    const conn = this.conn;
    this.conn = undefined;
    if (conn !== undefined) {
      // The reader may still be inside this connection's 'data': give it back after that read.
      if (this.reader.reusable) this.pools.give(this.backend, conn, this.reader.keepAliveHintS);
      else {
        conn.user = undefined;
        conn.socket.destroy();
      }
    }
    this.finish(undefined, trailers);
  }

  /** The request is out: its answer's head is due within UPSTREAM_TIMEOUT_MS of the first send. */
  private armHead(): void {
    const head = this.o.upstreamTimeoutMs;
    this.armForHead(head > 0 && this.resent ? Math.max(1, head - (performance.now() - this.sentAt)) : head, this.o.idleTimeoutMs);
  }

  /** Ends the exchange with `err`; its connection is not reused. */
  private cut(err: UpstreamError, stale = false): void {
    if (this.aborted || this.bodyEnded) return;
    this.aborted = true;
    this.stopTimer();
    this.dropGathered();
    const conn = this.conn;
    this.conn = undefined;
    if (conn !== undefined) {
      conn.user = undefined;
      conn.socket.destroy();
    }
    if (this.settled) return this.finish(err, []);
    this.fail(err, stale);
  }

  private fail(err: UpstreamError, stale: boolean): void {
    this.stopTimer();
    if (this.settled) return;
    this.settled = true;
    this.reject(new AttemptError(err, stale));
  }
}
