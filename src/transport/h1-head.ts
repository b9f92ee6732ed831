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

import { CHAR_CLASS, isFieldValue, isToken, TOKEN_CHAR, VALUE_CHAR } from './h1-chars.js';

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

const DIGITS = /^\d{1,15}$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

/**
 * The status code of the status line `text.slice(0, end)` (its CRLF not included): `HTTP/1.0` or
 * `HTTP/1.1`, SP, three digits from 100, then nothing or SP and a reason; else a ResponseError.
 */
export function statusOf(text: string, end = text.length): number {
  const d1 = text.charCodeAt(9) - 48;
  const d2 = text.charCodeAt(10) - 48;
  const d3 = text.charCodeAt(11) - 48;
  let ok = end >= 12 && text.startsWith('HTTP/1.') && (text.charCodeAt(7) === 48 || text.charCodeAt(7) === 49) && text.charCodeAt(8) === 32
    && d1 >= 1 && d1 <= 9 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9 && (end === 12 || text.charCodeAt(12) === 32);
  for (let i = 13; ok && i < end; i++) ok = (CHAR_CLASS[text.charCodeAt(i)]! & VALUE_CHAR) !== 0;
  if (!ok) throw new ResponseError('invalid status line');
  return d1 * 100 + d2 * 10 + d3;
}

/** The head whose text (without the blank line) is `text`; `headRequest`: the answer to a HEAD has no body. */
export function parseHead(text: string, headRequest: boolean): ParsedHead {
  const firstEnd = text.indexOf('\r\n');
  const statusCode = statusOf(text, firstEnd < 0 ? text.length : firstEnd);
  const http10 = text.charCodeAt(7) === 48;
  if (statusCode === 101) throw new ResponseError('101 Switching Protocols to a request without Upgrade');
  const rawHeaders: string[] = [];
  let length: number | undefined;
  /** Every Transfer-Encoding line's codings, as one list (RFC 9110 §5.3). */
  let codings: string[] | undefined;
  let close = false;
  let keepAlive = false;
  let keepAliveHintS: number | undefined;
  // The field lines in one pass over the text (h1-chars' table): no line array, no expression per field.
  for (let at = firstEnd < 0 ? text.length : firstEnd + 2; at < text.length;) {
    let i = at;
    while (i < text.length && (CHAR_CLASS[text.charCodeAt(i)]! & TOKEN_CHAR) !== 0) i++;
    if (i === at || text.charCodeAt(i) !== 58 /* : */) throw new ResponseError('invalid field name');
    const name = text.slice(at, i);
    i++;
    while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const start = i;
    let end = i;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13) break;
      if ((CHAR_CLASS[c]! & VALUE_CHAR) === 0) throw new ResponseError('invalid field value');
      if (c !== 32 && c !== 9) end = i + 1;
    }
    if (i < text.length && text.charCodeAt(i + 1) !== 10) throw new ResponseError('bare CR in the head');
    at = i + 2;
    const value = text.slice(start, end);
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
      const tokens = value.toLowerCase();
      if (tokens === 'keep-alive') keepAlive = true;
      else if (tokens === 'close') close = true;
      else {
        for (const t of tokens.split(',')) {
          const token = t.trim();
          if (token === 'close') close = true;
          else if (token === 'keep-alive') keepAlive = true;
        }
      }
    } else if (lower === 'keep-alive') {
      const hint = KEEP_ALIVE_TIMEOUT.exec(value);
      if (hint !== null) keepAliveHintS = Number(hint[1]);
    }
  }
  const head = { statusCode, reason: firstEnd === 12 || text.length === 12 ? '' : text.slice(13, firstEnd < 0 ? text.length : firstEnd), rawHeaders };
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
  if (!isToken(name)) throw new ResponseError('invalid field name');
  let start = colon + 1;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  const value = line.slice(start, end);
  if (!isFieldValue(value)) throw new ResponseError('invalid field value');
  return [name, value];
}
