/**
 * The wire form of a bodiless HTTP/1.1 request for the lean engine
 * (transport/engine-lean): one string, the fields in the order and case
 * given. Pure. It refuses (undefined) anything that could split the head or
 * would not survive the latin1 write: a method that is not a token, a target
 * that is not origin-form bytes 0x21–0xff, a field name that is not a token,
 * a value with controls (bar HTAB) or characters above 0xff; node:http then
 * takes the request and says what is wrong.
 */
import { PAYLOAD_METHODS, type ExchangeRequest } from './contract.js';
import { isFieldValue, isToken } from './h1-chars.js';

/** An origin-form target of bytes 0x21–0xff (what undici takes, too: transport/select). */
export const ORIGIN_FORM = /^\/[\x21-\xff]*$/;

/** The request's head as it goes on the wire, or undefined when a part of it could not go as is (node:http then says why). */
export function requestHead(o: Pick<ExchangeRequest, 'method' | 'path' | 'headers'>): string | undefined {
  if (!isToken(o.method) || !ORIGIN_FORM.test(o.path)) return undefined;
  let head = `${o.method} ${o.path} HTTP/1.1\r\n`;
  const h = o.headers;
  // A payload method says its length even when empty (RFC 9110 §8.6), as undici wrote it.
  let length = !PAYLOAD_METHODS.has(o.method);
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (!isToken(name) || !isFieldValue(value)) return undefined;
    if (!length && name.length === 14 && name.toLowerCase() === 'content-length') length = true;
    head += `${name}: ${value}\r\n`;
  }
  return length ? `${head}\r\n` : `${head}Content-Length: 0\r\n\r\n`;
}
