/**
 * Head translation between the HTTP/1.1-shaped exchange contract and HTTP/2
 * (RFC 9113 §8.3), as pure functions. A request head becomes pseudo-header
 * fields plus lower-case fields, without Host (it becomes `:authority`) and
 * without every connection-specific field HTTP/2 forbids (§8.2.2); an answer
 * head becomes a flat raw list without its pseudo-header fields.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/** Fields that never cross into HTTP/2 (`te` is kept only as exactly `trailers`). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host']);

export interface H2RequestHead {
  readonly method: string;
  readonly path: string;
  readonly scheme: 'http' | 'https';
  /** Flat [name, value, …] as the contract carries them. */
  readonly rawHeaders: readonly string[];
  /** `:authority` when the head has no Host. */
  readonly defaultAuthority: string;
}

/**
 * The HTTP/2 header block for a request. Repeated fields are combined into one
 * line (`, `; `; ` for Cookie), which RFC 9110 §5.3 allows for list fields and
 * which Node requires for the fields it only takes once.
 */
export function toH2RequestHeaders(head: H2RequestHead): OutgoingHttpHeaders {
  // Built in place (no intermediate Map): the pseudo-header fields first, `:authority` filled in at the end.
  const out: Record<string, string> = { ':method': head.method, ':path': head.path, ':scheme': head.scheme, ':authority': head.defaultAuthority };
  let authority: string | undefined;
  let te = false;
  const raw = head.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    let value = raw[i + 1]!;
    if (CONNECTION_SPECIFIC.has(name)) {
      if (name === 'host') authority ??= value;
      continue;
    }
    if (name === 'te') {
      if (value.trim().toLowerCase() !== 'trailers' || te) continue;
      te = true;
      value = 'trailers'; // the only form HTTP/2 (and Node) accept
    }
    if (name.charCodeAt(0) === 58 /* : */) continue; // an HTTP/1.1 head has none; never let one through
    const before = Object.hasOwn(out, name) ? out[name] : undefined;
    out[name] = before === undefined ? value : `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  if (authority !== undefined) out[':authority'] = authority;
  return out;
}

/** An HTTP/2 head's raw [name, value, …] list without pseudo-header fields. */
export function withoutPseudoHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.startsWith(':')) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** A received head or trailer block as a raw list without pseudo-header fields: Node's raw list when it passed one. */
export function receivedFields(headers: IncomingHttpHeaders, raw: readonly string[] | undefined): string[] {
  return withoutPseudoHeaders(raw ?? flatten(headers));
}

/** A header object as a raw list (Node before the raw list was passed to listeners). */
function flatten(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, String(value));
  }
  return out;
}

/** Trailer pairs (as a request body source hands them) as an HTTP/2 trailer block. */
export function toH2Trailers(pairs: ReadonlyArray<readonly [string, string]>): OutgoingHttpHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(key) || key === 'te' || key.startsWith(':')) continue;
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
  }
  return out;
}
