/**
 * A strict, incremental reader of one HTTP/1.1 answer (RFC 9112) for the lean engine
 * (transport/engine-lean): any 1xx answers, the final head (checked by transport/h1-head), then
 * the body framed by Content-Length, chunked coding (with trailers) or the connection's end. Bytes
 * go in as they arrive; heads, each read's body bytes (one Buffer per read, however many chunks it
 * held) and the end come out. No I/O. Work is linear however the bytes are split: an incomplete
 * head is kept in one growing buffer, each read searched and checked from where the last stopped.
 * Refused (ResponseError): what h1-head refuses, bytes that cannot begin `HTTP/1.`, a bare LF, a
 * head or trailer section above `maxHeadBytes`, a malformed chunk.
 */
import { fieldLine, parseHead, ResponseError, statusOf, type ResponseHead } from './h1-head.js';

export { ResponseError, type ResponseHead };

export interface ResponseSink {
  /** A 1xx answer (not 101). May throw ResponseError to refuse the answer. */
  informational(head: ResponseHead): void;
  /** The final answer's head. May throw ResponseError. */
  head(head: ResponseHead): void;
  /** Body bytes, in order. */
  body(chunk: Buffer): void;
  /** The answer is complete, with its trailers (raw pairs, maybe none). */
  end(trailers: string[]): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** What every status line this reader takes begins with. */
const VERSION = Buffer.from('HTTP/1.');
const CHUNK_SIZE = /^([0-9a-fA-F]{1,13})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;

/** Where the reader is in the answer. */
const State = { Head: 0, Length: 1, UntilClose: 2, ChunkSize: 3, ChunkData: 4, ChunkEnd: 5, Trailers: 6, Done: 7 } as const;
type State = (typeof State)[keyof typeof State];

export class ResponseReader {
  /** True once the answer is complete and the connection may carry another exchange. */
  reusable = false;
  /** Seconds from the final answer's `Keep-Alive: timeout=N`, when given. */
  keepAliveHintS: number | undefined = undefined;
  /** Bytes received so far (any at all: the backend answered something). */
  received = 0;
  private state: State = State.Head;
  /** An incomplete head: its bytes so far (`heldLength` of them), and how far they were searched and checked. */
  private held: Buffer | undefined;
  private heldLength = 0;
  private checked = 0;
  private statusChecked = false;
  private left = 0;
  /** A chunk-size or trailer line in progress. */
  private line = '';
  private trailers: string[] = [];
  private trailerBytes = 0;

  constructor(
    private readonly sink: ResponseSink,
    /** A HEAD request: the answer has no body, whatever its fields say. */
    private readonly headRequest: boolean,
    private readonly maxHeadBytes: number,
  ) {}

  /** True while the answer ends with the connection (no length, no chunking). */
  get untilClose(): boolean {
    return this.state === State.UntilClose;
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
      const inHeld = this.held !== undefined;
      if (inHeld) data = this.append(chunk);
      at = this.heads(data, inHeld);
      if (at < 0) return;
    }
    const out: Buffer[] = [];
    at = this.bodyBytes(data, at, out);
    if (out.length > 0) this.sink.body(out.length === 1 ? out[0]! : Buffer.concat(out));
    // (bodyBytes and the head moved the state on; TypeScript's narrowing from above does not see it.)
    if ((this.state as State) === State.Done) {
      if (at < data.length) this.reusable = false;
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

  /** Reads 1xx heads and the final head from `data` (`inHeld`: the held buffer); returns where the body starts, or -1 to wait for more. */
  private heads(data: Buffer, inHeld: boolean): number {
    let at = 0;
    for (;;) {
      // Empty lines before a status line are skipped, as llhttp and Node's client do (RFC 9112 §2.2's robustness).
      while (at + 1 < data.length && data[at] === 13 && data[at + 1] === 10) at += 2;
      // The terminator may straddle the previous read: search from three bytes before what is new.
      const end = data.indexOf(HEAD_END, Math.max(at, this.checked - 3));
      if (end < 0) {
        this.checkPartial(data, at, inHeld);
        return -1;
      }
      if (end - at > this.maxHeadBytes) throw new ResponseError('response head too large');
      const parsed = parseHead(data.toString('latin1', at, end), this.headRequest);
      at = end + 4;
      this.checked = at;
      this.statusChecked = false;
      if (parsed.head.statusCode < 200) {
        this.sink.informational(parsed.head);
        continue;
      }
      this.held = undefined;
      this.heldLength = 0;
      this.checked = 0;
      this.keepAliveHintS = parsed.keepAliveHintS;
      this.reusable = parsed.persistent;
      if (parsed.framing === 'none') this.state = State.Done;
      else if (parsed.framing === 'chunked') this.state = State.ChunkSize;
      else if (parsed.framing === 'close') this.state = State.UntilClose;
      else {
        this.left = parsed.length;
        this.state = parsed.length === 0 ? State.Done : State.Length;
      }
      this.sink.head(parsed.head);
      return at;
    }
  }

  /**
   * A head not complete yet, from `at` in `data`: what can never become one fails now (a head
   * too large, a bad first line, a bare LF), not at the timeout; the rest is kept for the next read.
   */
  private checkPartial(data: Buffer, at: number, inHeld: boolean): void {
    // Up to three of these bytes may be the terminator begun: the head's text is at least the rest.
    if (data.length - at - 3 > this.maxHeadBytes) throw new ResponseError('response head too large');
    const from = Math.max(at, this.checked);
    for (let lf = data.indexOf(10, from); lf >= 0; lf = data.indexOf(10, lf + 1)) {
      if (lf === at || data[lf - 1] !== 13) throw new ResponseError('bare LF in the head');
    }
    // Not HTTP at all (a binary protocol, an HTTP/2-only server, garbage): refused at its first bytes.
    const begun = Math.min(data.length - at, VERSION.length);
    if (!this.statusChecked && !(begun === 1 && data[at] === 13) && data.compare(VERSION, 0, begun, at, at + begun) !== 0) {
      throw new ResponseError('not an HTTP/1.x status line');
    }
    if (!this.statusChecked) {
      // (A CR that ended the previous read is looked at again: its LF may have come only now.)
      const firstEnd = data.indexOf(13, Math.max(at, this.checked - 1));
      if (firstEnd >= 0 && firstEnd + 1 < data.length) {
        statusOf(data.toString('latin1', at, firstEnd));
        this.statusChecked = true;
      }
    }
    // Keep the bytes from `at`: moved to the start of the held buffer (or copied into a new one).
    const rest = data.length - at;
    if (inHeld) {
      if (at > 0) this.held!.copy(this.held!, 0, at, this.heldLength);
    } else {
      this.held = Buffer.allocUnsafe(Math.max(4096, rest * 2));
      data.copy(this.held, 0, at);
    }
    this.heldLength = rest;
    this.checked = rest;
  }

  /** Adds `chunk` to the held head bytes (the buffer doubles as needed); returns them all. */
  private append(chunk: Buffer): Buffer {
    const need = this.heldLength + chunk.length;
    if (need > this.held!.length) this.held = Buffer.concat([this.held!.subarray(0, this.heldLength)], Math.max(need, this.held!.length * 2));
    chunk.copy(this.held!, this.heldLength);
    this.heldLength = need;
    return this.held!.subarray(0, need);
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
          // The CRLF after a chunk's data (maybe split across reads): `left` 0 wants the CR, 1 the LF.
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
    // A chunk-size line (extensions included) may be as long as a head; trailers share one head's worth.
    const limit = this.state === State.Trailers ? this.maxHeadBytes - this.trailerBytes : this.maxHeadBytes;
    if (this.line.length > limit) throw new ResponseError(this.state === State.Trailers ? 'trailer section too large' : 'chunk line too long');
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
    const [name, value] = fieldLine(text);
    this.trailers.push(name, value);
    return end;
  }
}
