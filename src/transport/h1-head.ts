/**
 * One HTTP/1.1 answer head (RFC 9112 §4–§6), as the lean engine's reader
 * (transport/h1-response) hands it over once its blank line arrived: the
 * status line and fields checked, and what they say about the body's framing
 * and the connection's reuse. Pure.
 *
 * Refused, as `ResponseError`: a status line that is not `HTTP/1.0` or
 * `HTTP/1.1` with a three-digit status from 100, a 101 (no request here
 * asks for an upgrade), a field name that is not a token (which covers
 * obs-fold and whitespace before the colon), a value with control bytes
 * (bare CR and LF included), a repeated or non-numeric Content-Length, and
 * Content-Length with Transfer-Encoding.
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

/** How the body after a final head is delimited: not at all, by a length, chunked, or by the connection's close. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface ParsedHead {
  readonly head: ResponseHead;
  readonly framing: Framing;
  /** With framing `length`. */
  readonly length: number;
  /** The connection may carry another exchange once this answer is complete. */
  readonly persistent: boolean;
  /** Seconds from `Keep-Alive: timeout=N`, when given. */
  readonly keepAliveHintS: number | undefined;
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^\d{1,15}$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

/** True when `line` (without its CRLF) is a status line this reader takes. */
export function isStatusLine(line: string): boolean {
  return STATUS_LINE.test(line);
}

/** The head whose text (without the blank line) is `text`; `headRequest`: the answer to a HEAD has no body. */
export function parseHead(text: string, headRequest: boolean): ParsedHead {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (status === null) throw new ResponseError('invalid status line');
  const statusCode = Number(status[2]);
  if (statusCode === 101) throw new ResponseError('101 Switching Protocols to a request without Upgrade');
  const rawHeaders: string[] = [];
  let length: number | undefined;
  /** Every Transfer-Encoding line's codings, as one list (RFC 9110 §5.3). */
  let codings: string[] | undefined;
  let close = false;
  let keepAlive = false;
  let keepAliveHintS: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const [name, value] = fieldLine(lines[i]!);
    rawHeaders.push(name, value);
    const n = name.length;
    if (n !== 14 && n !== 17 && n !== 10) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (length !== undefined || !DIGITS.test(value)) throw new ResponseError('invalid or repeated Content-Length');
      length = Number(value);
    } else if (lower === 'transfer-encoding') {
      codings ??= [];
      for (const c of value.toLowerCase().split(',')) {
        const coding = c.trim();
        if (coding !== '') codings.push(coding);
      }
    } else if (lower === 'connection') {
      for (const t of value.toLowerCase().split(',')) {
        const token = t.trim();
        if (token === 'close') close = true;
        else if (token === 'keep-alive') keepAlive = true;
      }
    } else if (lower === 'keep-alive') {
      const hint = KEEP_ALIVE_TIMEOUT.exec(value);
      if (hint !== null) keepAliveHintS = Number(hint[1]);
    }
  }
  const head = { statusCode, reason: status[3] ?? '', rawHeaders };
  const http10 = status[1] === '0';
  // HTTP/1.0 with Transfer-Encoding is faulty framing: read it, then close (RFC 9112 §6.1).
  const persistent = !close && (http10 ? keepAlive && codings === undefined : true);
  if (statusCode < 200) return { head, framing: 'none', length: 0, persistent, keepAliveHintS };
  if (codings !== undefined && length !== undefined) throw new ResponseError('Content-Length with Transfer-Encoding');
  if (headRequest || statusCode === 204 || statusCode === 304) {
    // A 204/304 announcing a body may send one anyway: its connection is not reused.
    const announces = codings !== undefined || (length ?? 0) > 0;
    return { head, framing: 'none', length: 0, persistent: persistent && (headRequest || !announces), keepAliveHintS };
  }
  if (codings !== undefined) {
    // Only a final `chunked` frames the body; any other coding is refused before the relay (transport/response-guard).
    const chunked = codings[codings.length - 1] === 'chunked';
    return { head, framing: chunked ? 'chunked' : 'close', length: 0, persistent: chunked && persistent, keepAliveHintS };
  }
  if (length === undefined) return { head, framing: 'close', length: 0, persistent: false, keepAliveHintS };
  return { head, framing: 'length', length, persistent, keepAliveHintS };
}

/** `name: value` of one field line (a head's or a trailer section's), checked; the value without surrounding SP/HTAB. */
export function fieldLine(line: string): [string, string] {
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
