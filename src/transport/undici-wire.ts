/**
 * What the undici engine (transport/engine-undici) hands on, in the
 * contract's terms: header bytes as Node's parser gives them, the reason
 * phrase's wire bytes, whether a 204/304 announces a body, and undici's
 * errors as the contract's typed upstream errors. Pure functions.
 */
import { errors } from 'undici';
import { ConnectFailedError, UpstreamError, UpstreamResetError } from '../errors.js';

/** undici refusing the request itself (a header or target it will not send): nothing reached the backend. */
export const REFUSED_LOCALLY: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/** An undici failure before the head: a connect failure until the socket connected, else a reset (protocol or not). */
export function classify(err: Error, code: string, backendId: string, connected: boolean): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (!connected) return new ConnectFailedError(backendId, code === 'UND_ERR_CONNECT_TIMEOUT', err);
  return new UpstreamResetError(backendId, isProtocolError(err, code), err);
}

/** An answer undici's parser refused (HTTPParserError often has no code), too large, or a 101/100 it never asked for. */
function isProtocolError(err: Error, code: string): boolean {
  if (err instanceof errors.HTTPParserError || code.startsWith('HPE_')) return true;
  if (code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return true;
  return (code === 'UND_ERR_SOCKET' && err.message === 'bad upgrade') || isUnaskedContinue(err, code);
}

/**
 * undici's refusal of a `100 Continue` to a request that did not ask for one (the only
 * 'bad response' a running request gets: undici 7, client-h1.js, onHeadersComplete).
 */
export function isUnaskedContinue(err: Error, code: string): boolean {
  return code === 'UND_ERR_SOCKET' && err.message === 'bad response';
}

/** Header bytes as Node's own parser gives them: latin1 strings. */
export function latin1(raw: ReadonlyArray<Buffer | string>): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    out[i] = typeof v === 'string' ? v : v.toString('latin1');
  }
  return out;
}

const PLAIN_REASON = /^[\t\x20-\x7e]*$/;

/** undici decodes the reason phrase as UTF-8; Node's server writes latin1: back to the wire bytes, or undefined when they are lost. */
export function reasonPhrase(text: string): string | undefined {
  if (PLAIN_REASON.test(text)) return text;
  if (text.includes('\ufffd')) return undefined;
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** A 204 or 304 whose head still announces a body (Transfer-Encoding, or a non-zero Content-Length). */
export function announcesBody(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'transfer-encoding' || (name === 'content-length' && raw[i + 1]!.trim() !== '0')) return true;
  }
  return false;
}
