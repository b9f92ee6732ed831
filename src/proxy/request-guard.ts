/**
 * The checks a proxy needs on top of Node's strict parser (llhttp): request
 * heads llhttp accepts but that the next hop may read differently (framing,
 * Host, target, field values), and upgrades that cannot be tunnelled without
 * ambiguity. Pure: a parsed head in, a verdict out, before anything is sent.
 */
import { isUtf8 } from 'node:buffer';
import { METHODS } from 'node:http';

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  /** Node's flat raw header array, [name, value, …]; values are Latin-1 strings of the received bytes. */
  readonly rawHeaders: readonly string[];
}

/** Statuses are mapped in proxy/error-response (400, 405, 417, 501, 505). */
export type RejectionKind = 'bad_request' | 'method_not_allowed' | 'expectation_failed' | 'unsupported_transfer_coding' | 'http_version_not_supported';

export interface Rejection {
  readonly kind: RejectionKind;
  /** For the debug log; never contains request bytes. */
  readonly reason: string;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;
const ABSOLUTE = /^(https?):\/\/([^/?#]*)/i;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Bytes or characters that some servers strip from field values as whitespace. */
const LATIN1_SPACE_EDGE = /^[\x85\xa0]|[\x85\xa0]$/;
const UNICODE_SPACE_EDGE = /^[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]|[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]$/;
const FRAMING_LOOKALIKES = new Set(['contentlength', 'transferencoding']);
const LOOKALIKE_MIN = Math.min(...[...FRAMING_LOOKALIKES].map((n) => n.length));

const reject = (kind: RejectionKind, reason: string): Rejection => ({ kind, reason });

/** Returns why `head` must not be forwarded, or undefined when it may be. */
export function checkRequest(head: RequestHead): Rejection | undefined {
  if (head.httpVersion !== '1.1' && head.httpVersion !== '1.0') return reject('http_version_not_supported', 'HTTP version other than 1.0 or 1.1');
  const hosts: string[] = [];
  const transferEncodings: string[] = [];
  const contentLengths: string[] = [];
  const raw = head.rawHeaders;
  let expect: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'host') hosts.push(value);
    else if (name === 'expect') expect = expect === undefined ? value : `${expect},${value}`;
    else if (name === 'transfer-encoding') transferEncodings.push(value);
    else if (name === 'content-length') contentLengths.push(value);
    // Removing - and _ only shortens a name: one shorter than both lookalikes cannot become one.
    else if (name.length >= LOOKALIKE_MIN && FRAMING_LOOKALIKES.has(name.replace(/[-_]/g, ''))) return reject('bad_request', 'field name resembling Content-Length or Transfer-Encoding');
    if (hasAmbiguousEdges(value)) return reject('bad_request', 'field value beginning or ending with non-ASCII whitespace');
  }
  if (hosts.length > 1) return reject('bad_request', 'more than one Host');
  if (hosts.length === 0 && head.httpVersion === '1.1') return reject('bad_request', 'HTTP/1.1 request without Host');
  // RFC 9110 §10.1.1: 100-continue is the only expectation defined; a list without it cannot be met
  // (with it, the list goes on to the backend, as Node's server lets it).
  if (expect !== undefined && !expect.split(',').some((e) => trimOws(e).toLowerCase() === '100-continue')) {
    return reject('expectation_failed', 'Expect without 100-continue');
  }
  if (hosts.length === 1 && !HOST.test(hosts[0]!)) return reject('bad_request', 'invalid Host');
  return checkFraming(head.httpVersion, transferEncodings, contentLengths) ?? checkTarget(head, hosts[0]);
}

/** checkRequest, plus what a tunnel needs: GET over HTTP/1.1, no body, nothing sent before the backend's 101. */
export function checkUpgrade(head: RequestHead, earlyBytes: number): Rejection | undefined {
  const problem = checkRequest(head);
  if (problem !== undefined) return problem;
  if (head.method !== 'GET' || head.httpVersion !== '1.1') return reject('bad_request', 'Upgrade other than on an HTTP/1.1 GET');
  for (let i = 0; i < head.rawHeaders.length; i += 2) {
    const name = head.rawHeaders[i]!.toLowerCase();
    if (name === 'transfer-encoding' || (name === 'content-length' && trimOws(head.rawHeaders[i + 1]!) !== '0')) return reject('bad_request', 'Upgrade request with a body');
  }
  if (earlyBytes > 0) return reject('bad_request', 'bytes sent before the upgrade was accepted');
  return undefined;
}

/**
 * Outrigger re-frames bodies: only `chunked` alone (once) or one plain
 * decimal Content-Length keeps its meaning. Other transfer codings would
 * be dropped by the re-framing, so they are refused rather than altered.
 */
function checkFraming(version: string, transferEncodings: readonly string[], contentLengths: readonly string[]): Rejection | undefined {
  if (contentLengths.length > 1) return reject('bad_request', 'more than one Content-Length');
  if (contentLengths.length === 1 && !/^(?:0|[1-9][0-9]*)$/.test(trimOws(contentLengths[0]!))) return reject('bad_request', 'Content-Length not a plain decimal');
  if (transferEncodings.length === 0) return undefined;
  if (contentLengths.length > 0) return reject('bad_request', 'both Content-Length and Transfer-Encoding');
  if (version !== '1.1') return reject('bad_request', 'Transfer-Encoding in HTTP/1.0');
  const codings = transferEncodings.join(',').split(',').map((c) => trimOws(c).toLowerCase());
  if (codings.length === 1 && codings[0] === 'chunked') return undefined;
  const wellFormed = codings.every((c) => TOKEN.test(c)) && codings.indexOf('chunked') === codings.length - 1;
  return wellFormed ? reject('unsupported_transfer_coding', 'transfer coding other than chunked') : reject('bad_request', 'malformed Transfer-Encoding');
}

/** Origin-form, `*` for OPTIONS, or absolute-form naming the same authority as Host. */
function checkTarget(head: RequestHead, host: string | undefined): Rejection | undefined {
  if (head.url.startsWith('/')) return undefined;
  if (head.url === '*') return head.method === 'OPTIONS' ? undefined : reject('bad_request', 'asterisk-form target other than OPTIONS');
  const target = ABSOLUTE.exec(head.url);
  if (target === null) return reject('bad_request', 'request-target form not accepted');
  if (host === undefined || !sameAuthority(target[2]!, host, target[1]!)) return reject('bad_request', 'absolute-form target naming another authority than Host');
  return undefined;
}

/**
 * The target an origin server gets for an accepted `url` (RFC 9112 §3.2.1):
 * an absolute-form target becomes origin-form, its path and query byte for
 * byte (an empty path is `/`; for OPTIONS with no query either, `*`, as
 * §3.2.4 asks). Every other target is returned as it is.
 */
export function originForm(method: string, url: string): string {
  if (url.charCodeAt(0) === 47 /* / */ || url === '*') return url;
  const target = ABSOLUTE.exec(url);
  if (target === null) return url;
  const rest = url.slice(target[0].length);
  if (rest === '') return method === 'OPTIONS' ? '*' : '/';
  return rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
}

/** The methods Node's HTTP/1.1 parser (llhttp) accepts; it answers any other 400 before the guard runs. */
const LLHTTP_METHODS: ReadonlySet<string> = new Set(METHODS);

/**
 * An HTTP/2 request's method: HTTP/1.1 refuses any method llhttp does not
 * know (400), so HTTP/2 does too, and the two listeners forward the same
 * methods. CONNECT is refused on both (405).
 */
export function checkHttp2Method(method: string): Rejection | undefined {
  if (method === 'CONNECT') return reject('method_not_allowed', 'CONNECT');
  return LLHTTP_METHODS.has(method) ? undefined : reject('bad_request', 'method unknown to the HTTP/1.1 parser');
}

/** Anything but visible ASCII: what llhttp refuses in an HTTP/1.1 request-target. */
const NOT_VISIBLE_ASCII = /[^\x21-\x7e]/;

/**
 * An HTTP/2 request's `:path` (RFC 9113 §8.3.1): an absolute path with an
 * optional query, or `*` for OPTIONS, in the bytes an HTTP/1.1 request-target
 * may carry. Node's http2 refuses spaces and control bytes itself; bytes above
 * 0x7E and a path without its leading slash would reach a backend as a request
 * line it refuses, which made the backend look broken (a reset, a retry, an
 * ejection): they are the client's error, 400 here as on HTTP/1.1.
 */
export function checkHttp2Path(path: string, method: string): Rejection | undefined {
  if (path.charCodeAt(0) !== 47 /* / */ && !(path === '*' && method === 'OPTIONS')) return reject('bad_request', ':path is not an absolute path');
  return NOT_VISIBLE_ASCII.test(path) ? reject('bad_request', ':path has bytes a request-target cannot carry') : undefined;
}

/**
 * RFC 9113 §8.3.1: an HTTP/2 request whose Host names another authority than
 * its `:authority` is malformed (HTTP/1.1's absolute-form target gets the same
 * rule in checkTarget). `raw` is the stream's list with its pseudo-headers.
 */
export function checkHttp2Host(raw: readonly string[]): Rejection | undefined {
  let authority: string | undefined;
  let scheme = '';
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === ':authority') authority = raw[i + 1];
    else if (raw[i] === ':scheme') scheme = raw[i + 1]!;
  }
  if (authority === undefined) return undefined; // Host alone names the target
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === 'host' && !sameAuthority(authority, raw[i + 1]!, scheme)) return reject('bad_request', 'Host differs from :authority');
  }
  return undefined;
}

/** Equal after scheme-based normalisation (RFC 3986 §6.2.3): case, and an empty or default port. */
function sameAuthority(a: string, b: string, scheme: string): boolean {
  return normalAuthority(a, scheme) === normalAuthority(b, scheme);
}

function normalAuthority(authority: string, scheme: string): string {
  const s = authority.toLowerCase();
  const port = /:([0-9]*)$/.exec(s);
  if (port === null || s.endsWith(']')) return s;
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : scheme.toLowerCase() === 'http' ? '80' : undefined;
  return port[1] === '' || port[1] === defaultPort ? s.slice(0, port.index) : s;
}

/**
 * Field values are opaque, but one that begins or ends with NEL or NBSP
 * (as Latin-1 bytes or, for valid UTF-8, as Unicode space characters) reads
 * differently at a server that strips Unicode whitespace.
 */
function hasAmbiguousEdges(value: string): boolean {
  if (!/[\x80-\xff]/.test(value)) return false;
  const bytes = Buffer.from(value, 'latin1');
  return isUtf8(bytes) ? UNICODE_SPACE_EDGE.test(bytes.toString('utf8')) : LATIN1_SPACE_EDGE.test(value);
}

function trimOws(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}
