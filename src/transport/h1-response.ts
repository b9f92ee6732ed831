/**
 * A strict, incremental reader of one HTTP/1.1 answer on a backend
 * connection (RFC 9112), for the lean engine (transport/engine-lean): the
 * status line and fields, any 1xx answers before it, then the body framed
 * by Content-Length, chunked coding (with trailers) or the connection's end.
 * Bytes go in as they arrive; the head, each read's body bytes (one Buffer
 * per read, however many chunks it held) and the end come out. No I/O.
 *
 * It refuses what a smuggling-safe parser refuses, as `ResponseError`: a
 * status line that is not `HTTP/1.x` with a three-digit status from 100, a
 * field name that is not a token (which covers obs-fold and whitespace
 * before the colon), control bytes in a value, bare CR or LF, a repeated or
 * non-numeric Content-Length, Content-Length with Transfer-Encoding, a
 * malformed chunk, and a head or trailer section above `maxHeadBytes`.
 */

/** The backend broke HTTP/1.1: the connection cannot be trusted further. */
export class ResponseError extends Error {}

export interface ResponseHead {
  readonly statusCode: number;
  /** As received (latin1), maybe empty. */
  readonly reason: string;
  /** Flat [name, value, …] as received (values without surrounding whitespace). */
  readonly rawHeaders: string[];
}

export interface ResponseSink {
  /** A 1xx answer (not 101, which is refused: no request here asks for an upgrade). */
  informational(head: ResponseHead): void;
  /** The final answer's head. */
  head(head: ResponseHead): void;
  /** Body bytes, in order (each call owns its Buffer). */
  body(chunk: Buffer): void;
  /** The answer is complete, with its trailers (raw pairs, maybe none). */
  end(trailers: string[]): void;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^\d{1,15}$/;
const CHUNK_SIZE = /^([0-9a-fA-F]{1,13})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

/** Where the reader is in the answer. */
const State = { Head: 0, Length: 1, UntilClose: 2, ChunkSize: 3, ChunkData: 4, ChunkEnd: 5, Trailers: 6, Done: 7 } as const;
type State = (typeof State)[keyof typeof State];

export class ResponseReader {
  /** The final head arrived. */
  headDone = false;
  /** True once the answer is complete and the connection may carry another exchange. */
  reusable = false;
  /** Seconds from the answer's `Keep-Alive: timeout=N`, when given. */
  keepAliveHintS: number | undefined = undefined;
  /** Bytes received so far (any at all: the backend answered something). */
  received = 0;
  private state: State = State.Head;
  private held: Buffer | undefined;
  private left = 0;
  /** A chunk-size or trailer line in progress. */
  private line = '';
  private trailers: string[] = [];
  private trailerBytes = 0;
  private keepAlive = false;

  constructor(
    private readonly sink: ResponseSink,
    /** A HEAD request: the answer has no body, whatever its fields say. */
    private readonly headRequest: boolean,
    private readonly maxHeadBytes: number,
  ) {}

  /** True when the answer ends with the connection (no length, no chunking). */
  get untilClose(): boolean {
    return this.state === State.UntilClose;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Takes the next bytes of the connection; throws ResponseError on a broken answer. */
  feed(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.state === State.Done) {
      this.reusable = false; // bytes after the answer: the connection is out of step
      return;
    }
    let data = chunk;
    let at = 0;
    if (this.state === State.Head) {
      data = this.held === undefined ? chunk : Buffer.concat([this.held, chunk]);
      this.held = undefined;
      at = this.heads(data);
      if (at < 0) return;
    }
    const out: Buffer[] = [];
    at = this.bodyBytes(data, at, out);
    if (out.length > 0) this.sink.body(out.length === 1 ? out[0]! : Buffer.concat(out));
    // (bodyBytes and the head moved the state on; TypeScript's narrowing from above does not see it.)
    if ((this.state as State) === State.Done) {
      if (at < data.length) this.reusable = false; // bytes after the answer: the connection is out of step
      this.sink.end(this.trailers);
    }
  }

  /** The connection ended: completes an answer read until close; false when the answer was cut short. */
  eof(): boolean {
    if (this.state !== State.UntilClose) return this.state === State.Done;
    this.state = State.Done;
    this.sink.end([]);
    return true;
  }

  /** Reads 1xx heads and the final head from `data`; returns where the body starts, or -1 to wait for more. */
  private heads(data: Buffer): number {
    let at = 0;
    for (;;) {
      const end = data.indexOf(HEAD_END, at);
      if (end < 0) {
        const rest = data.length - at;
        if (rest > this.maxHeadBytes) throw new ResponseError('response head too large');
        if (rest > 0) {
          this.held = at === 0 ? data : data.subarray(at);
          // What can never become a head fails now, not at the timeout: a bad first line, or a bare LF.
          const firstEnd = this.held.indexOf(CRLF);
          if (firstEnd >= 0 && !STATUS_LINE.test(this.held.toString('latin1', 0, firstEnd))) throw new ResponseError('invalid status line');
          for (let lf = this.held.indexOf(10); lf >= 0; lf = this.held.indexOf(10, lf + 1)) {
            if (lf === 0 || this.held[lf - 1] !== 13) throw new ResponseError('bare LF in the head');
          }
        }
        return -1;
      }
      if (end - at > this.maxHeadBytes) throw new ResponseError('response head too large');
      const head = this.parseHead(data.toString('latin1', at, end));
      at = end + 4;
      if (head.statusCode >= 200) {
        this.headDone = true;
        this.sink.head(head);
        return at;
      }
      this.sink.informational(head);
    }
  }

  private parseHead(text: string): ResponseHead {
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0]!);
    if (status === null) throw new ResponseError('invalid status line');
    const statusCode = Number(status[2]);
    if (statusCode === 101) throw new ResponseError('101 Switching Protocols to a request without Upgrade');
    const rawHeaders: string[] = [];
    let length: number | undefined;
    let chunked: boolean | undefined;
    let close = false;
    this.keepAlive = false;
    for (let i = 1; i < lines.length; i++) {
      const [name, value] = field(lines[i]!);
      rawHeaders.push(name, value);
      const n = name.length;
      if (n !== 14 && n !== 17 && n !== 10) continue;
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (length !== undefined || !DIGITS.test(value)) throw new ResponseError('invalid or repeated Content-Length');
        length = Number(value);
      } else if (lower === 'transfer-encoding') {
        // The last coding decides the framing (empty list elements are allowed); any other is refused by response-guard.
        const codings = value.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '');
        chunked = codings[codings.length - 1] === 'chunked';
      } else if (lower === 'connection') {
        for (const t of value.toLowerCase().split(',')) {
          const token = t.trim();
          if (token === 'close') close = true;
          else if (token === 'keep-alive') this.keepAlive = true;
        }
      } else if (lower === 'keep-alive') {
        const hint = KEEP_ALIVE_TIMEOUT.exec(value);
        if (hint !== null) this.keepAliveHintS = Number(hint[1]);
      }
    }
    const head = { statusCode, reason: status[3] ?? '', rawHeaders };
    if (statusCode < 200) return head;
    if (chunked !== undefined && length !== undefined) throw new ResponseError('Content-Length with Transfer-Encoding');
    const persistent = !close && (status[1] === '1' || this.keepAlive);
    if (this.headRequest || statusCode === 204 || statusCode === 304) {
      this.state = State.Done;
      // A 204/304 announcing a body may send one anyway: its connection is not reused.
      this.reusable = persistent && (this.headRequest || (chunked === undefined && (length ?? 0) === 0));
    } else if (chunked === true) {
      this.state = State.ChunkSize;
      this.reusable = persistent;
    } else if (chunked === false || length === undefined) {
      this.state = State.UntilClose; // another final coding (refused upstream of the relay), or no framing at all
    } else {
      this.left = length;
      this.state = length === 0 ? State.Done : State.Length;
      this.reusable = persistent;
    }
    return head;
  }

  /** Body bytes of `data` from `at` into `out`; returns where the answer ended (or data.length). */
  private bodyBytes(data: Buffer, at: number, out: Buffer[]): number {
    while (at < data.length && this.state !== State.Done) {
      switch (this.state) {
        case State.UntilClose:
          out.push(at === 0 ? data : data.subarray(at));
          return data.length;
        case State.Length:
        case State.ChunkData: {
          const take = Math.min(this.left, data.length - at);
          out.push(at === 0 && take === data.length ? data : data.subarray(at, at + take));
          at += take;
          this.left -= take;
          if (this.left === 0) this.state = this.state === State.Length ? State.Done : State.ChunkEnd;
          break;
        }
        case State.ChunkEnd: {
          // The CRLF after a chunk's data (maybe split across reads).
          const want = this.left === 0 ? 13 : 10;
          if (data[at] !== want) throw new ResponseError('chunk data not followed by CRLF');
          at += 1;
          if (want === 13) this.left = 1;
          else {
            this.left = 0;
            this.state = State.ChunkSize;
          }
          break;
        }
        case State.ChunkSize:
        case State.Trailers:
          at = this.lineBytes(data, at);
          break;
      }
    }
    return at;
  }

  /** A chunk-size line or a trailer line; returns where it ended (or data.length while it goes on). */
  private lineBytes(data: Buffer, at: number): number {
    const lf = data.indexOf(10, at);
    const end = lf < 0 ? data.length : lf + 1;
    this.line += data.toString('latin1', at, end);
    if (this.line.length > (this.state === State.Trailers ? this.maxHeadBytes : 1024)) throw new ResponseError('chunk line too long');
    if (lf < 0) return end;
    const line = this.line;
    this.line = '';
    if (line.length < 2 || line.charCodeAt(line.length - 2) !== 13) throw new ResponseError('bare LF in chunked body');
    const text = line.slice(0, -2);
    if (this.state === State.ChunkSize) {
      const size = CHUNK_SIZE.exec(text);
      if (size === null) throw new ResponseError('invalid chunk size');
      this.left = parseInt(size[1]!, 16);
      this.state = this.left === 0 ? State.Trailers : State.ChunkData;
      return end;
    }
    if (text === '') {
      this.state = State.Done;
      return end;
    }
    this.trailerBytes += line.length;
    if (this.trailerBytes > this.maxHeadBytes) throw new ResponseError('trailer section too large');
    const [name, value] = field(text);
    this.trailers.push(name, value);
    return end;
  }
}

/** `name: value` of one field line, checked; the value without surrounding SP/HTAB. */
function field(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  if (!TOKEN.test(name)) throw new ResponseError('invalid field name');
  let start = colon + 1;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  const value = line.slice(start, end);
  if (!FIELD_VALUE.test(value)) throw new ResponseError('invalid field value');
  return [name, value];
}
