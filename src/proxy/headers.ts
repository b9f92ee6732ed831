/**
 * Hop-by-hop handling (RFC 9110 §7.6.1) as pure functions over Node's flat
 * raw header arrays ([name, value, name, value, …]), used for requests and
 * responses alike. Names, values and order are kept for everything else.
 */

/** Always removed: they describe one connection, not the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const HOP_BY_HOP_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP].map((name) => name.length));

export interface StripOptions {
  /** Keep `TE: trailers` (requests only). */
  readonly keepTeTrailers?: boolean;
  /** Keep `Connection: upgrade` and `Upgrade` (a valid upgrade request or 101 answer). */
  readonly keepUpgrade?: boolean;
}

/** Lower-cased tokens of every Connection header. */
export function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const token of raw[i + 1]!.split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== '') tokens.add(t);
      }
    }
  }
  return tokens;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/**
 * End-to-end fields a message cannot be forwarded without: a Connection
 * token naming one is ignored (RFC 9110 §7.6.1 forbids such options), so
 * `Connection: Host` cannot strip Host, nor a body lose its length.
 * Transfer-Encoding needs no entry: it is always removed and re-framed.
 */
const NEVER_NAMED = new Set(['host', 'content-length']);

/** True when a Connection header names something besides the usual keep-alive/close (which are removed anyway). */
function hasConnectionHeader(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    const value = raw[i + 1]!.toLowerCase();
    if (value !== 'keep-alive' && value !== 'close') return true;
  }
  return false;
}

/** Returns a new flat array without hop-by-hop headers and without any header a Connection header names (except NEVER_NAMED). */
export function stripHopByHop(raw: readonly string[], options: StripOptions = {}): string[] {
  const named = hasConnectionHeader(raw) ? connectionTokens(raw) : NO_TOKENS;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    // Most fields: no hop-by-hop name has their length, and no Connection token names them.
    if (named === NO_TOKENS && !HOP_BY_HOP_LENGTHS.has(name.length)) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'te' && options.keepTeTrailers === true && value.trim().toLowerCase() === 'trailers') {
        out.push(name, value);
      } else if (options.keepUpgrade === true && (lower === 'upgrade' || lower === 'connection')) {
        out.push(name, lower === 'connection' ? 'Upgrade' : value);
      }
      continue;
    }
    if (named.has(lower) && !NEVER_NAMED.has(lower) && !(options.keepUpgrade === true && lower === 'upgrade')) continue;
    out.push(name, value);
  }
  return out;
}

/** The first value of `name` (lower-case), or undefined. */
export function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

export interface ForwardedInfo {
  readonly clientIp: string;
  readonly proto: 'http' | 'https';
  /** Generated when the request has none. */
  readonly newRequestId: () => string;
}

const FORWARDED_LENGTHS: ReadonlySet<number> = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'host'].map((n) => n.length));

/**
 * Adds X-Forwarded-For (client appended to the last one), X-Forwarded-Proto
 * and X-Forwarded-Host (if absent) and X-Request-Id (if absent), in place.
 * Returns the request id the request carries.
 */
export function addForwarded(headers: string[], info: ForwardedInfo): string {
  let xffIndex = -1;
  let host: string | undefined;
  let hasProto = false;
  let hasXfHost = false;
  let requestId: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!FORWARDED_LENGTHS.has(name.length)) continue; // none of the names below
    switch (name.toLowerCase()) {
      case 'x-forwarded-for': xffIndex = i; break;
      case 'x-forwarded-proto': hasProto = true; break;
      case 'x-forwarded-host': hasXfHost = true; break;
      case 'x-request-id': requestId ??= headers[i + 1]; break;
      case 'host': host ??= headers[i + 1]; break;
    }
  }
  if (xffIndex >= 0) {
    const prior = headers[xffIndex + 1]!.trim();
    headers[xffIndex + 1] = prior === '' ? info.clientIp : `${prior}, ${info.clientIp}`;
  } else {
    headers.push('X-Forwarded-For', info.clientIp);
  }
  if (!hasProto) headers.push('X-Forwarded-Proto', info.proto);
  if (!hasXfHost && host !== undefined) headers.push('X-Forwarded-Host', host);
  if (requestId === undefined) {
    requestId = info.newRequestId();
    headers.push('X-Request-Id', requestId);
  }
  return requestId;
}

/**
 * Makes room for Outrigger's `traceparent` (SPEC §10), in place: the first
 * incoming `traceparent` keeps its place (and name), any other goes, and one
 * is appended when there was none. `dropTracestate`: the incoming trace
 * context was not valid, so its `tracestate` goes too (W3C Trace Context:
 * a restarted trace does not carry the old vendors' state). Returns the
 * index of the value to set for each attempt.
 */
export function makeTraceparentRoom(headers: string[], dropTracestate: boolean): number {
  let at = -1;
  for (let i = 0; i < headers.length;) {
    const name = headers[i]!;
    if (name.length === 11 && name.toLowerCase() === 'traceparent') {
      if (at < 0) {
        at = i + 1;
        i += 2;
      } else {
        headers.splice(i, 2);
      }
      continue;
    }
    if (dropTracestate && name.length === 10 && name.toLowerCase() === 'tracestate') {
      headers.splice(i, 2);
      continue;
    }
    i += 2;
  }
  if (at >= 0) return at;
  headers.push('traceparent', '');
  return headers.length - 1;
}

/**
 * Fields a trailer section must not carry (RFC 9110 §6.5.1): message framing,
 * routing, request modifiers, authentication, response control data and
 * content processing, plus the hop-by-hop fields. A recipient that merged
 * them into the head would act on fields the sender could not have vetted.
 */
const FORBIDDEN_IN_TRAILERS = new Set([
  'content-length', 'transfer-encoding', 'trailer', 'content-encoding', 'content-type', 'content-range',
  'connection', 'keep-alive', 'proxy-connection', 'te', 'upgrade', 'host',
  'cache-control', 'expect', 'max-forwards', 'pragma', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range',
  'authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate', 'cookie', 'set-cookie',
  'age', 'expires', 'warning', 'vary', 'location', 'retry-after', 'allow', 'accept-ranges', 'server',
  // Only Outrigger vouches for a client certificate (SPEC §9), in the head: never a client's, here either.
  'x-forwarded-client-cert',
]);

/** Node's rawTrailers (flat) as the [name, value] pairs addTrailers() takes, without the forbidden fields; same rule both ways. */
export function allowedTrailers(raw: readonly string[]): { pairs: Array<[string, string]>; dropped: number } {
  const pairs: Array<[string, string]> = [];
  let dropped = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (FORBIDDEN_IN_TRAILERS.has(raw[i]!.toLowerCase())) dropped += 1;
    else pairs.push([raw[i]!, raw[i + 1]!]);
  }
  return { pairs, dropped };
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) shown as plain IPv4. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
