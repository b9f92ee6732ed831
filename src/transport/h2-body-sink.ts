/**
 * A request body's way into an HTTP/2 stream (transport/engine-h2), as the
 * contract's RequestBodySink: writes with backpressure, each counted as
 * activity for the idle deadline; trailers wait for 'wantTrailers' and go in
 * a HEADERS frame of their own.
 */
import type { ClientHttp2Stream } from 'node:http2';
import type { RequestBodySink } from './contract.js';
import { toH2Trailers } from './h2-headers.js';

/** The request body's way into a stream: trailers wait for 'wantTrailers' and go in a HEADERS frame of their own. */
export class H2BodySink implements RequestBodySink {
  private pairs: Array<[string, string]> = [];

  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly activity: () => void,
  ) {
    stream.once('wantTrailers', () => {
      try {
        stream.sendTrailers(toH2Trailers(this.pairs));
      } catch {
        // A field Node will not encode: the body ends without trailers.
        if (!stream.destroyed) stream.sendTrailers({});
      }
    });
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  write(chunk: Buffer): boolean {
    this.activity();
    return this.stream.write(chunk);
  }

  once(_event: 'drain', listener: () => void): this {
    this.stream.once('drain', () => {
      this.activity();
      listener();
    });
    return this;
  }

  end(): void {
    this.stream.end();
  }

  addTrailers(pairs: Array<[string, string]>): void {
    this.pairs = pairs;
  }
}
