/**
 * A request body's way into undici (transport/engine-undici), as the
 * contract's RequestBodySink: a Readable that undici reads as the body of a
 * request framed by its Content-Length. A write past the buffer's mark
 * returns false, and 'drain' follows when undici reads again (it pauses
 * while the backend's socket is full). Such a body has no room for
 * trailers (`chunkedEncoding` false: proxy/request-body counts them dropped).
 */
import { Readable } from 'node:stream';
import type { RequestBodySink } from './contract.js';

export class UndiciBody extends Readable implements RequestBodySink {
  readonly chunkedEncoding = false;
  /** A write returned false: undici's next read is the sink's 'drain'. */
  private full = false;

  write(chunk: Buffer): boolean {
    if (this.push(chunk)) return true;
    this.full = true;
    return false;
  }

  override _read(): void {
    if (!this.full) return;
    this.full = false;
    this.emit('drain');
  }

  /**
   * undici drops the body when the exchange ends first (an answer before the body was read: it
   * closes the connection): a writer waiting for 'drain' gets it, finds the sink destroyed, and
   * reads the rest of the client's body into nothing rather than holding the client paused.
   */
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.full) {
      this.full = false;
      this.emit('drain');
    }
    callback(err);
  }

  end(): void {
    this.push(null);
  }

  addTrailers(): void {
    // Never called: `chunkedEncoding` is false, so the source drops (and counts) trailers itself.
  }
}
