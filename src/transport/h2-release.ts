/**
 * Letting go of a closed HTTP/2 stream's listeners, on both sides of the
 * proxy (proxy/h2-server for the client's stream, transport/engine-h2 for
 * the backend's).
 *
 * Why: Node keeps each stream's JavaScript object reachable from its native
 * handle until a full (mark-compact) collection runs the handle's weak
 * callback, so the young-generation collections treat a closed stream as
 * live and copy, then promote, everything it reaches. Its listeners reach
 * the whole exchange: the closures, the request and answer heads, the other
 * side's stream and its own graph. With 100 streams a second closing, that
 * made every scavenge copy tens of MiB and doubled V8's GC threads' CPU per
 * request (docs/benchmarks.md, "HTTP/2: what closed streams kept alive").
 * Dropping the listeners once the stream has closed leaves only Node's own
 * per-stream state to promote. Of that, the largest parts are the heads the
 * stream sent (the request's fields on a backend stream, the answer's on a
 * client's) and, on a backend stream, the async resource of its response
 * callback; Node reads none of them once the stream is closed (a closed
 * stream is out of its session's stream map, and `sentHeaders` is only a
 * getter for the application), so they are dropped too: a quarter less to
 * copy per young-generation collection, measured on Node 24
 * (docs/benchmarks.md).
 *
 * Called from a `close` listener; the listeners go on the next tick, once
 * every `close` listener has run and done its cleanup (pipe()'s own removes
 * its `unpipe` and data listeners through events on this stream). An `error`
 * emitted later (a write after the close) still finds a listener.
 */
import { EventEmitter } from 'node:events';
import type { Http2Stream } from 'node:http2';

/**
 * Called on a stream as it is handed over, before any listener is added.
 * Node puts a 'newListener' and a 'removeListener' listener on every
 * stream, to count its session's 'priority' and 'frameError' listeners;
 * they make every later `on` and removal emit an event too (the same code
 * on Node 20, 22 and 24). Outrigger listens to neither event, so the two
 * go: the counts they keep stay at zero either way.
 */
export function quietStreamListeners(stream: Http2Stream): void {
  for (const event of ['newListener', 'removeListener'] as const) {
    for (const listener of stream.listeners(event)) stream.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

export function releaseClosedStream(stream: Http2Stream): void {
  process.nextTick(release, stream);
}

/** Descriptions of Node's per-stream symbols for the sent heads and the response callback's resource. */
const SPENT = ['sent-headers', 'raw-headers', 'requestAsyncResource'];
/** Their symbols, learnt from the streams themselves (they are private to Node's http2 module). */
const spent = new Set<symbol>();
/**
 * Released streams still to learn from, per kind (client-facing and backend
 * streams carry different fields). Bounded: a runtime may lack one of the
 * fields (Node 20 has no `raw-headers`), and reading a stream's symbols on
 * every release cost Node 20 about 2.8 µs per request (as profiled).
 */
const toLearnFrom = new Map<unknown, number>();
const LEARN_FROM = 64;

function release(stream: Http2Stream): void {
  // With a 'removeListener' listener (Node's own, if quietStreamListeners did not run) removeAllListeners
  // would take every listener off one by one and announce each; without it the table goes at once.
  // EventEmitter's own method: Readable's adds a tick to re-check 'readable' listeners, which a closed
  // stream does not need.
  if (stream.listenerCount('removeListener') > 0) quietStreamListeners(stream);
  EventEmitter.prototype.removeAllListeners.call(stream);
  stream.on('error', ignore);
  if (spent.size < SPENT.length) {
    const left = toLearnFrom.get(stream.constructor) ?? LEARN_FROM;
    if (left > 0) {
      toLearnFrom.set(stream.constructor, left - 1);
      learn(stream);
    }
  }
  const fields = stream as unknown as Record<symbol, unknown>;
  for (const key of spent) if (fields[key] !== undefined) fields[key] = undefined;
}

function learn(stream: Http2Stream): void {
  for (const key of Object.getOwnPropertySymbols(stream)) if (SPENT.includes(key.description ?? '')) spent.add(key);
}

function ignore(): void {}
