/**
 * Answering on an HTTP/2 stream of Node's core API (`ServerHttp2Stream`),
 * the work Node's compatibility response did for us, without its two
 * objects, proxies and listeners per stream (docs/benchmarks.md, "HTTP/2
 * downstream on the core stream API"). proxy/downstream decides when these
 * are used; nothing else calls them.
 *
 * - A head goes out with `respond`; when trailers may follow it is sent with
 *   `waitForTrailers`, and the end sends them on `wantTrailers` (none: Node
 *   ends the stream with an empty DATA frame, as the compatibility layer did).
 * - A head with nothing after it is one HEADERS frame with END_STREAM (a gRPC
 *   trailers-only answer, Outrigger's own gRPC answers).
 * - Node throws for a head it will not encode (a connection-specific field, a
 *   repeated single-value field, a status outside 200–599); callers see the
 *   throw. A stream already closed or destroyed is left alone, as before.
 */
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Writable } from 'node:stream';

/** Options objects shared by every stream (Node copies or only reads them). */
const RELAYED = { waitForTrailers: true, sendDate: false };
const RELAYED_WHOLE = { endStream: true, sendDate: false };
const OWN_WHOLE = { endStream: true };

/** A flat [name, value, …] list as an HTTP/2 field object with `:status`: names in lower case, repeats as arrays. */
export function h2Fields(status: number, raw: readonly string[]): OutgoingHttpHeaders {
  // No prototype: a field named `constructor` or `__proto__` is a field like any other.
  const out = Object.create(null) as OutgoingHttpHeaders;
  out[':status'] = status;
  for (let i = 0; i + 1 < raw.length; i += 2) append(out, raw[i]!.toLowerCase(), raw[i + 1]!);
  return out;
}

function append(fields: OutgoingHttpHeaders, name: string, value: string): void {
  const prior = fields[name];
  if (prior === undefined) fields[name] = value;
  else if (Array.isArray(prior)) prior.push(value);
  else fields[name] = [String(prior), value];
}

function live(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed;
}

/**
 * True when this Node's `respond` takes a raw [name, value, …] list (no
 * field object to build, nor for Node to copy): checked in the sources of
 * 22.23 and 24.21; earlier 22 and 24 releases that may have it are not
 * trusted, as an older `respond` would send an array's indices as names.
 */
export function respondTakesRawList(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 25 || (major === 24 && minor >= 21) || (major === 22 && minor >= 23);
}

const RAW_LIST = respondTakesRawList(process.versions.node);

/** The status of a head sent as a raw list (Node's `sentHeaders` would build a whole field object from the list to tell). */
const RAW_STATUS = Symbol('outrigger.rawStatus');
type RawSent = ServerHttp2Stream & { [RAW_STATUS]?: number };

/**
 * The head of a relayed answer (no Date added: the backend's, if any, is in
 * `raw`); its end may carry trailers. `raw` is the caller's own list, and is
 * used up: `:status` is appended to it.
 */
export function respondRelayed(stream: ServerHttp2Stream, status: number, raw: string[]): void {
  if (!live(stream)) return;
  if (!RAW_LIST) return stream.respond(h2Fields(status, raw), RELAYED);
  raw.push(':status', String(status));
  // Node's types (20.x) do not know the raw form yet.
  stream.respond(raw as unknown as OutgoingHttpHeaders, RELAYED);
  (stream as RawSent)[RAW_STATUS] = status;
}

/** The status of the head sent on this stream (its head must have gone out; read before the stream is released, transport/h2-release). */
export function sentStatus(stream: ServerHttp2Stream): number {
  return (stream as RawSent)[RAW_STATUS] ?? Number(stream.sentHeaders?.[':status']);
}

/** Outrigger's own answer, whole: `fields` with `:status`, and a body or none (then one HEADERS frame ends the stream). */
export function respondOwn(stream: ServerHttp2Stream, fields: OutgoingHttpHeaders, body: string | undefined): void {
  if (!live(stream)) return;
  if (body === undefined) return stream.respond(fields, OWN_WHOLE);
  stream.respond(fields);
  // A HEAD request's stream, or a 204/304, was ended by respond: no body follows.
  if (!stream.writableEnded) stream.end(body);
}

/** Ends the answer, with trailers when there are any (the head was sent with `waitForTrailers`). */
export function endWithTrailers(stream: ServerHttp2Stream, pairs: ReadonlyArray<readonly [string, string]>): void {
  if (pairs.length > 0 && live(stream)) {
    const trailers = Object.create(null) as OutgoingHttpHeaders;
    for (const [name, value] of pairs) append(trailers, name.toLowerCase(), value);
    stream.once('wantTrailers', () => sendTrailers(stream, trailers));
  }
  stream.end();
}

/** Trailers Node refuses to encode are dropped (the body is complete; they are metadata): the stream still ends. */
function sendTrailers(stream: ServerHttp2Stream, trailers: OutgoingHttpHeaders): void {
  try {
    stream.sendTrailers(trailers);
  } catch {
    try {
      stream.sendTrailers({});
    } catch {
      // The stream went away meanwhile: nothing to end.
    }
  }
}

/** A 1xx answer (100 Continue, 103 Early Hints) before the head. Throws what Node throws. */
export function respondInformational(stream: ServerHttp2Stream, status: 100 | 103, fields?: OutgoingHttpHeaders): void {
  stream.additionalHeaders({ ...fields, ':status': status });
}

/**
 * One `link` value for a 103 from Node's hint form (a string, or one link per
 * array entry), each entry `<target>` followed by `;`-separated parameters
 * (RFC 8288 §3), joined with `, `. Undefined when an entry is not of that
 * form: Node's HTTP/1.1 writeEarlyHints refuses those too.
 */
export function earlyHintLink(link: string | readonly string[]): string | undefined {
  const links = typeof link === 'string' ? [link] : link;
  for (const one of links) if (!LINK.test(one)) return undefined;
  return links.join(', ');
}

const LINK = /^<[^>]*>(?:\s*;\s*[^;"\s]+(?:=(?:"[^;"\s]*"|[^;"\s]*))?)*$/;

/**
 * A gRPC trailers-only answer's head, held until the end shows whether
 * anything follows: it is the sink the backend's body goes to, and a first
 * body byte sends the head on its own. `release` sends it if still held.
 */
export class HeldHead extends Writable {
  private fields: OutgoingHttpHeaders | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    status: number,
    raw: readonly string[],
  ) {
    super();
    this.fields = h2Fields(status, raw);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.release(true);
    this.stream.write(chunk, () => done());
  }

  /** Sends the head if it is still held: `more` = a body or trailers follow, else it ends the stream. */
  release(more: boolean): void {
    const fields = this.fields;
    if (fields === undefined) return;
    this.fields = undefined;
    if (!live(this.stream)) return;
    try {
      this.stream.respond(fields, more ? RELAYED : RELAYED_WHOLE);
    } catch {
      this.stream.destroy(); // a head Node will not encode: the client sees a reset, as for a broken answer
    }
  }
}
