/**
 * The backend entry grammar (SPEC §2), as a pure parser shared by the env
 * variable, the config file and DNS discovery:
 *
 *   [[dns+](http|https|h2c|h2)://]host:port[;weight=N]
 *
 * `http` and `https` speak HTTP/1.1, `h2c` HTTP/2 with prior knowledge in
 * cleartext, `h2` HTTP/2 over TLS (ALPN `h2`).
 *
 * IPv6 literals are written in brackets (`[::1]:8081`). In tcp mode an entry
 * has no scheme.
 */
import { isIP } from 'node:net';

export type Scheme = 'http' | 'https' | 'h2c' | 'h2';

export interface BackendAddress {
  /** `host:port`, with IPv6 hosts in brackets; the stable id used in metrics and the admin API. */
  readonly id: string;
  readonly scheme: Scheme;
  /** Host without brackets, as passed to `net.connect`. */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** True for `dns+` entries: `host` is a name whose A/AAAA records are the backends. */
  readonly dns: boolean;
}

export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 1000;
export const DEFAULT_WEIGHT = 1;

const SCHEMES: ReadonlyArray<readonly [string, Scheme, boolean]> = [
  ['dns+https://', 'https', true],
  ['dns+http://', 'http', true],
  ['dns+h2c://', 'h2c', true],
  ['dns+h2://', 'h2', true],
  ['https://', 'https', false],
  ['http://', 'http', false],
  ['h2c://', 'h2c', false],
  ['h2://', 'h2', false],
];

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

/** Digits and dots that are not an IPv4 address (127.000.0.1, 999.1.1.1): resolvers read some as octal. */
const DIGITS_AND_DOTS = /^[\d.]+$/;

/** Why `host` (no brackets) is not an IP address or a host name, or undefined when it is one. */
export function hostProblem(host: string): string | undefined {
  if (isIP(host) !== 0) return undefined;
  if (!HOSTNAME.test(host)) return 'is not a valid host';
  return DIGITS_AND_DOTS.test(host) ? 'is not a valid IPv4 address' : undefined;
}

export function formatId(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses one entry; throws an Error whose message says what is wrong with it. */
export function parseBackendEntry(entry: string, mode: 'http' | 'tcp' = 'http'): BackendAddress {
  const text = entry.trim();
  if (text === '') throw new Error('empty entry');
  const [address = '', ...options] = text.split(';');
  let rest = address;
  let scheme: Scheme = 'http';
  let dns = false;
  for (const [prefix, s, d] of SCHEMES) {
    if (rest.toLowerCase().startsWith(prefix)) {
      if (mode === 'tcp') throw new Error(`"${entry}": tcp mode entries take no scheme`);
      rest = rest.slice(prefix.length);
      scheme = s;
      dns = d;
      break;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    throw new Error(`"${entry}": unknown scheme (use http://, https://, h2c:// or h2://, each also with dns+)`);
  }
  if (rest.includes('@')) throw new Error(`"${entry}": user:password@ is not supported in a backend address`);
  const { host, port } = splitHostPort(rest, entry);
  if (dns && isIP(host) !== 0) throw new Error(`"${entry}": a dns+ entry needs a DNS name, not an IP address`);
  if (options.length > 1) throw new Error(`"${entry}": one option at most (;weight=N)`);
  let weight = DEFAULT_WEIGHT;
  for (const option of options) {
    const m = /^\s*weight=(\d{1,4})\s*$/.exec(option);
    if (m === null) throw new Error(`"${entry}": unknown option "${option}" (only ;weight=N)`);
    weight = Number(m[1]);
    if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
      throw new Error(`"${entry}": weight must be an integer from ${MIN_WEIGHT} to ${MAX_WEIGHT}`);
    }
  }
  return { id: formatId(host, port), scheme, host, port, weight, dns };
}

function splitHostPort(text: string, entry: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') throw new Error(`"${entry}": expected [ipv6]:port`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) throw new Error(`"${entry}": "${host}" is not an IPv6 address`);
    host = new URL(`http://[${host}]`).hostname.slice(1, -1); // one spelling per address: [0::1] is [::1]
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw new Error(`"${entry}": missing :port`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw new Error(`"${entry}": IPv6 addresses must be in brackets, e.g. [::1]:8081`);
    const problem = hostProblem(host);
    if (problem !== undefined) throw new Error(`"${entry}": "${host}" ${problem}`);
    host = host.toLowerCase(); // DNS names are case-insensitive: LOCALHOST is localhost
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    // The port text as read shows what went wrong: a leading zero, a space before `;weight=`, a name.
    throw new Error(`"${entry}": port must be 1-65535 (got ${JSON.stringify(portText)})`);
  }
  return { host, port: Number(portText) };
}

/** Parses a comma-separated list; collects every bad entry into one error. */
export function parseBackendList(list: string, mode: 'http' | 'tcp' = 'http'): BackendAddress[] {
  const out: BackendAddress[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of list.split(',')) {
    if (entry.trim() === '') continue;
    try {
      const parsed = parseBackendEntry(entry, mode);
      const key = `${parsed.dns ? 'dns+' : ''}${parsed.id}`;
      if (seen.has(key)) throw new Error(`"${entry.trim()}": listed twice`);
      seen.add(key);
      out.push(parsed);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  if (out.length === 0) throw new Error('no backend entries');
  return out;
}
