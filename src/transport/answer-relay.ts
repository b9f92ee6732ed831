/**
 * The answer body's half of an HTTP/1.1 exchange, shared by the engines that
 * read answers chunk by chunk (transport/engine-undici, transport/engine-lean)
 * on top of their timers (transport/phase-clock): chunks that arrive before
 * the relay starts are held (up to EARLY_BODY_LIMIT, then the source is held
 * back), the first chunks are written straight to the sink, later small ones
 * are gathered (transport/gather), a full sink holds the source back until it
 * drains, and the end (trailers, or the error that broke the body off) is
 * reported once, whenever the relay starts.
 */
import type { Writable } from 'node:stream';
import type { UpstreamError } from '../errors.js';
import { PhaseClock } from './phase-clock.js';
import { Gather, SMALL_CHUNKS } from './gather.js';
import type { RelayDone } from './contract.js';

/** Body bytes kept while the answer waits for its relay to start (it starts within the same tick). */
const EARLY_BODY_LIMIT = 64 * 1024;

export abstract class AnswerRelay extends PhaseClock {
  /** Set when the relay starts; until then body chunks are held. */
  private sink: Writable | undefined;
  /** Body chunks relayed so far; past SMALL_CHUNKS they go through `gather`. */
  private chunks = 0;
  private gather: Gather | undefined;
  private done: RelayDone | undefined;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /** How the body ended (maybe before the relay started): trailers, or an error. */
  private ended: { err: UpstreamError | undefined; trailers: readonly string[] } | undefined;

  /** The source may send body bytes again. */
  protected abstract resumeSource(): void;

  /** After a full sink drained, or once the early bytes went out: bytes moved, the source goes on. */
  protected readonly resumeBody = (): void => {
    this.touch();
    this.resumeSource();
  };

  /** True once the body's end was reported (or is held for the relay). */
  protected get bodyEnded(): boolean {
    return this.ended !== undefined;
  }

  /**
   * The relay starts: held chunks go to `sink`. True when the body had already
   * ended (`done` was called); otherwise the caller times the silence and,
   * when `heldBack`, resumes the source.
   */
  protected startRelay(sink: Writable, done: RelayDone): boolean {
    this.sink = sink;
    this.done = done;
    for (const chunk of this.early) sink.write(chunk);
    this.early = [];
    if (this.ended === undefined) return false;
    done(this.ended.err, this.ended.trailers);
    return true;
  }

  /** The early chunks reached EARLY_BODY_LIMIT: the source was held back. */
  protected get heldBack(): boolean {
    return this.earlyBytes >= EARLY_BODY_LIMIT;
  }

  /** One body chunk; false when the source must hold back until resumeBody() (its next chunk may still come). */
  protected pushBody(chunk: Buffer): boolean {
    if (this.sink === undefined) {
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      return this.earlyBytes < EARLY_BODY_LIMIT;
    }
    // Most answers are a chunk or two: written as they come, without making a Gather.
    if (++this.chunks <= SMALL_CHUNKS) {
      if (this.sink.write(chunk)) return true;
      this.sink.once('drain', this.resumeBody);
      return false;
    }
    // The first chunks were passed above; the Gather's pause is the false returned here.
    this.gather ??= Gather.into(this.sink, () => undefined, this.resumeBody, 0);
    this.gather.push(chunk);
    return !this.gather.waiting;
  }

  /** The body ended: what is gathered goes out, then `done` hears it once (now, or when the relay starts). */
  protected finish(err: UpstreamError | undefined, trailers: readonly string[]): void {
    if (this.ended !== undefined) return;
    this.gather?.flush();
    this.ended = { err, trailers };
    this.done?.(err, trailers);
  }

  /** The body was cut: nothing gathered goes out. */
  protected dropGathered(): void {
    this.gather?.drop();
  }
}
