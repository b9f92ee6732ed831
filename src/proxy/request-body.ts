/**
 * Streams a client's request body to the current upstream attempt with
 * backpressure (tiny chunks gathered first: transport/gather), and holds a
 * copy of it while it is at most RETRY_BODY_LIMIT bytes, so that a retry can
 * replay it to another backend.
 */
import { onRequestEnd, type ClientRequest as DownstreamRequest } from './downstream.js';
import { allowedTrailers } from './headers.js';
import type { RequestBodySink, RequestBodySource } from '../transport/contract.js';
import { Gather } from '../transport/gather.js';

export const RETRY_BODY_LIMIT = 64 * 1024;

export class RequestBody implements RequestBodySource {
  private held: Buffer[] | null = [];
  private heldBytes = 0;
  private ended = false;
  private rawTrailers: readonly string[] = [];
  private sink: RequestBodySink | undefined;
  private readonly gather = new Gather((piece) => this.forward(piece));

  constructor(
    private readonly req: DownstreamRequest,
    private readonly limit = RETRY_BODY_LIMIT,
    /** Told how many forbidden trailer fields were dropped. */
    private readonly onTrailersDropped: (count: number) => void = () => undefined,
  ) {
    req.on('data', (chunk: Buffer) => this.gather.push(chunk));
    onRequestEnd(req, (rawTrailers) => {
      this.gather.flush();
      this.ended = true;
      this.rawTrailers = rawTrailers;
      if (this.sink !== undefined) this.finish(this.sink);
    });
  }

  /** True while every byte received so far is still held (a retry can replay it). */
  get replayable(): boolean {
    return this.held !== null;
  }

  get complete(): boolean {
    return this.ended;
  }

  /** No retry can follow any more (an answer is being relayed): stop holding a copy. */
  stopHolding(): void {
    this.held = null;
  }

  /** Sends what is held, then everything that follows, to `sink`. */
  attach(sink: RequestBodySink): void {
    this.sink = sink;
    if (this.held !== null) for (const chunk of this.held) sink.write(chunk);
    if (this.ended) this.finish(sink);
    else this.req.resume();
  }

  detach(): void {
    this.sink = undefined;
    // Keep reading into the hold (or discard) so that a paused client does not stall.
    if (!this.ended) this.req.resume();
  }

  private forward(chunk: Buffer): void {
    if (this.held !== null) {
      this.heldBytes += chunk.length;
      if (this.heldBytes > this.limit) this.held = null;
      else this.held.push(chunk);
    }
    const sink = this.sink;
    if (sink === undefined || sink.destroyed) return;
    if (!sink.write(chunk)) {
      this.req.pause();
      sink.once('drain', () => {
        if (this.sink === sink) this.req.resume();
      });
    }
  }

  private finish(sink: RequestBodySink): void {
    if (this.rawTrailers.length > 0) {
      const { pairs, dropped } = allowedTrailers(this.rawTrailers);
      // An HTTP/1.1 body framed by Content-Length (proxy/reframe kept it) has no room for trailers, and a
      // sink already gone (the answer came first, and undici dropped the body) takes none: all are lost.
      if (sink.destroyed || sink.chunkedEncoding === false) this.onTrailersDropped(dropped + pairs.length);
      else {
        if (dropped > 0) this.onTrailersDropped(dropped);
        sink.addTrailers(pairs);
      }
    }
    if (!sink.destroyed) sink.end();
  }
}
