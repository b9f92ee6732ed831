/**
 * One client connection's requests, answered in the order they came
 * (RFC 9112 §9.3.2) and forwarded one at a time: a connection never holds
 * more than one backend request, and POSTs cannot overtake each other.
 *
 * When the connection goes (FIN or RST), what it queued is dropped, never
 * sent; the exchange in flight is aborted by its response's `close`. When
 * its byte stream turns invalid, the requests that came before the bad
 * bytes in earlier reads are still answered, in order, and the refusal
 * follows them; a request that came in the same read as the bad bytes is
 * part of the invalid stream and is dropped with it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HeadClock } from './head-deadline.js';
import type { RefusalKind } from './error-response.js';

/** Pipelined requests held per connection before it is closed. */
export const MAX_PIPELINED = 32;

export interface Queued {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Ends its in-flight count (once). */
  readonly end: () => void;
  /** The read turn its head was parsed in. */
  readonly turn: number;
  started: boolean;
  /** The forwarded exchange's part of the response's 'close' (proxy/forward), once it started. */
  closed: (() => void) | undefined;
}

let turn = 0;
let turnEnding = false;

/**
 * A number that changes between event-loop turns: everything Node's parser
 * emits for one read of a socket shares it. Costs one setImmediate per turn
 * that parsed a request.
 */
export function readTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    setImmediate(() => {
      turn += 1;
      turnEnding = false;
    });
  }
  return turn;
}

function inThisTurn(q: Queued): boolean {
  return turnEnding && q.turn === turn;
}

export class Pipeline {
  requests = 0;
  active: Queued | undefined;
  readonly queue: Queued[] = [];
  /** No further request starts: the connection ends once the answers it owes are written. */
  closing = false;
  /** A refusal of bytes that came after the requests still owed an answer; written after them. */
  finalAnswer: RefusalKind | undefined;
  /** Node's parser left for an h2c offer (proxy/server): hands the connection to a new one, after the answers owed. */
  readAgain: (() => void) | undefined;
  /** Ends the in-flight count a new connection holds until its first request (for the drain). */
  endFresh: (() => void) | undefined;

  constructor(
    readonly socket: Socket,
    readonly clock: HeadClock,
  ) {}

  /** Adds a request; false when the connection has queued too many and must be cut. */
  add(q: Queued): boolean {
    if (this.active === undefined) return true;
    if (this.queue.length >= MAX_PIPELINED) return false;
    this.queue.push(q);
    return true;
  }

  /** The next request to start, skipping what can no longer be sent. */
  next(): Queued | undefined {
    for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) {
      if (!this.closing && !this.socket.destroyed) return q;
      q.end();
    }
    return undefined;
  }

  /** The connection is gone: whatever it queued is never sent. */
  dropQueued(): void {
    for (const q of this.queue.splice(0)) q.end();
  }

  /**
   * The stream turned invalid (`kind`). Returns what to do now: `answer` the
   * refusal at once and close, `cut` the connection (the bad bytes broke a
   * body whose answer already started), or `defer` the refusal until the
   * answers owed for earlier requests are written.
   */
  invalid(kind: RefusalKind): 'answer' | 'cut' | 'defer' {
    this.closing = true;
    while (this.queue.length > 0 && inThisTurn(this.queue[this.queue.length - 1]!)) this.queue.pop()!.end();
    const active = this.active;
    if (active === undefined) return 'answer';
    if (!active.req.complete) return active.res.headersSent ? 'cut' : 'answer';
    if (inThisTurn(active) && !active.res.headersSent) return 'answer';
    this.finalAnswer = kind;
    return 'defer';
  }
}
