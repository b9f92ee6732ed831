/**
 * Gathers a body that arrives as many tiny chunks (one-byte chunked
 * encoding, tiny HTTP/2 DATA frames) before it is written on. Each chunk
 * written costs a write, its own chunk framing and several objects that live
 * until the socket takes them: a 6 MB upload in one-byte chunks held 440 MB
 * and took 4 s, where Envoy or HAProxy move bytes, not chunks. Chunk
 * boundaries carry no meaning (RFC 9112 §7.1: an intermediary may re-chunk).
 *
 * The first chunks of a body pass straight through, as do large ones: most
 * bodies never gather. From the SMALL_CHUNKS-th small chunk on, small chunks
 * are held and passed on together at the end of the event loop's I/O phase
 * (setImmediate: every chunk of the reads in hand has arrived by then; Node
 * hands chunks over one callback each, so a microtask would see one at a
 * time) or once GATHER_BYTES are held; nothing waits for more input.
 * `flush()` passes on what is held at once (before the body's end is reported).
 */

import type { Writable } from 'node:stream';

/** Chunks at least this large pass as they are. */
const SMALL = 4096;
/** Small chunks a body passes on one by one before gathering starts. */
export const SMALL_CHUNKS = 8;
const GATHER_BYTES = 16 * 1024;

export class Gather {
  /** `Gather.into`: the sink asked for 'drain'; the source is paused until then. */
  waiting = false;
  private small = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private queued = false;

  /**
   * `out` writes a piece on (and handles backpressure). `passFirst`: small chunks passed one by one
   * before gathering starts (0 when the caller already passed a body's first chunks itself).
   */
  constructor(private readonly out: (piece: Buffer) => void, private readonly passFirst = SMALL_CHUNKS) {}

  /** Into `sink`: when it is full, `pause` the source until it drains, then `resume` it. */
  static into(sink: Writable, pause: () => void, resume: () => void, passFirst = SMALL_CHUNKS): Gather {
    const g: Gather = new Gather((piece) => {
      if (sink.write(piece) || g.waiting) return;
      g.waiting = true;
      pause();
      sink.once('drain', () => {
        g.waiting = false;
        resume();
      });
    }, passFirst);
    return g;
  }

  push(chunk: Buffer): void {
    if (chunk.length >= SMALL || ++this.small <= this.passFirst) {
      if (this.heldBytes > 0) this.flush();
      return this.out(chunk);
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= GATHER_BYTES) this.flush();
    else if (!this.queued) {
      this.queued = true;
      setImmediate(this.flushQueued);
    }
  }

  /** Passes on what is held, now. */
  flush(): void {
    if (this.heldBytes === 0) return;
    const piece = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    this.out(piece);
  }

  /** Forgets what is held (the body was cut). */
  drop(): void {
    this.held = [];
    this.heldBytes = 0;
  }

  private readonly flushQueued = (): void => {
    this.queued = false;
    this.flush();
  };
}
