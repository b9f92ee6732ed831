/**
 * The undici client behind proxy/attempt, for requests without a body. It
 * uses undici's dispatcher handler callbacks (the form its own client speaks
 * natively, so no adapter runs per request): raw header bytes, and body
 * chunks written straight to the client's response with backpressure
 * (returning false pauses undici's parser until the response drains).
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './upstream-pool.js';
import { AttemptError, relayInformational, type AttemptOptions, type UpstreamCall, type UpstreamResponse } from './attempt.js';

/** Body bytes kept while the answer waits for its relay to start (it starts within the same tick). */
const EARLY_BODY_LIMIT = 64 * 1024;

type Done = (err: UpstreamError | undefined, rawTrailers: readonly string[]) => void;

export function attemptWithUndici(backend: Backend, pool: UpstreamPool, o: AttemptOptions, onCall: (call: UpstreamCall) => void): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const exchange = new UndiciExchange(backend.id, o, resolve, reject);
    onCall(exchange);
    // IDLE_TIMEOUT_MS also bounds the wait for the head, as it does for the node:http client.
    const headersTimeout = o.upstreamTimeoutMs > 0 && o.idleTimeoutMs > 0 ? Math.min(o.upstreamTimeoutMs, o.idleTimeoutMs) : o.upstreamTimeoutMs || o.idleTimeoutMs;
    pool.dispatcherFor(backend).dispatch({
      path: o.path,
      method: o.method,
      headers: o.headers,
      body: null,
      headersTimeout,
      bodyTimeout: o.idleTimeoutMs,
    }, exchange);
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
  private aborted = false;
  private abortFn: ((err?: Error) => void) | undefined;
  private resumeFn: (() => void) | undefined;
  /** Set by relayBody(); until then body chunks are held. */
  private res: ServerResponse | undefined;
  private done: Done | undefined;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** How the body ended before the relay started: trailers, or an error. */
  private ended: { err: UpstreamError | undefined; trailers: readonly string[] } | undefined;

  constructor(
    private readonly backendId: string,
    private readonly o: AttemptOptions,
    private readonly resolve: (r: UpstreamResponse) => void,
    private readonly reject: (e: AttemptError) => void,
  ) {}

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortFn?.(new UpstreamResetError(this.backendId, false));
  }

  relayBody(res: ServerResponse, done: Done): void {
    this.res = res;
    this.done = done;
    for (const chunk of this.early) res.write(chunk);
    this.early = [];
    if (this.ended !== undefined) return done(this.ended.err, this.ended.trailers);
    if (this.earlyBytes >= EARLY_BODY_LIMIT) this.resumeFn?.();
  }

  // undici's handler callbacks below.

  onConnect(abort: (err?: Error) => void): void {
    this.connected = true;
    this.abortFn = abort;
    if (this.aborted) abort(new UpstreamResetError(this.backendId, false));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.aborted) return false;
    if (statusCode < 200) {
      if (relayInformational(this.o, statusCode, latin1(rawHeaders))) this.o.onInformational();
      return true;
    }
    this.settled = true;
    this.statusCode = statusCode;
    this.statusMessage = statusText;
    this.rawHeaders = latin1(rawHeaders);
    this.resumeFn = resume;
    this.resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const res = this.res;
    if (res === undefined) {
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      return this.earlyBytes < EARLY_BODY_LIMIT;
    }
    if (res.write(chunk)) return true;
    res.once('drain', this.onDrain);
    return false;
  }

  onComplete(trailers: Buffer[] | string[] | null): void {
    this.finish(undefined, trailers === null ? [] : latin1(trailers));
  }

  onError(err: Error): void {
    if (!this.settled) {
      this.settled = true;
      return this.reject(new AttemptError(this.classify(err), false));
    }
    const code = (err as { code?: unknown }).code;
    this.finish(code === 'UND_ERR_BODY_TIMEOUT' ? new UpstreamTimeoutError(this.backendId, 'idle') : new UpstreamResetError(this.backendId, false, err), []);
  }

  private readonly onDrain = (): void => this.resumeFn?.();

  private finish(err: UpstreamError | undefined, trailers: readonly string[]): void {
    if (this.done === undefined) this.ended = { err, trailers };
    else this.done(err, trailers);
  }

  private classify(err: Error): UpstreamError {
    if (err instanceof UpstreamError) return err;
    const code = String((err as { code?: unknown }).code ?? '');
    if (!this.connected) return new ConnectFailedError(this.backendId, code === 'UND_ERR_CONNECT_TIMEOUT', err);
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return new UpstreamTimeoutError(this.backendId, 'headers');
    const protocol = code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
    return new UpstreamResetError(this.backendId, protocol, err);
  }
}

/** Header bytes as Node's own parser gives them: latin1 strings. */
function latin1(raw: ReadonlyArray<Buffer | string>): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    out[i] = typeof v === 'string' ? v : v.toString('latin1');
  }
  return out;
}
