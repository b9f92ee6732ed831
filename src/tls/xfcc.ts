/**
 * X-Forwarded-Client-Cert (SPEC §9), in Envoy's format:
 *   Hash=<sha256 of the DER, hex>;Subject="<RFC 2253 subject>";URI=<first URI SAN>
 * Keys are separated by `;`; a value holding `,`, `;`, `=` or `"` is quoted,
 * with `"` and `\` escaped by a backslash. The value is computed once per
 * connection, when its handshake completes (tls/listener-tls.ts), and kept
 * on the socket: a request only reads it.
 *
 * A client never gets to send this header: dropClientCert() removes it from
 * every request, whatever FORWARDED_HEADERS says.
 */
import { createHash, type X509Certificate } from 'node:crypto';

export const XFCC = 'X-Forwarded-Client-Cert';
const XFCC_LOWER = XFCC.toLowerCase();

/** What a request needs to know about its TLS connection. */
export interface TlsPeer {
  /** The XFCC value for a verified client certificate; undefined without one. */
  readonly xfcc: string | undefined;
}

/**
 * Where a TLS connection's TlsPeer lives: a property of the TLSSocket, so
 * that it is reached from `req.socket` for HTTP/1.1 and from an HTTP/2
 * stream's session socket (proxy/downstream `clientSocket`) alike.
 */
const PEER = Symbol('outrigger.tlsPeer');

type WithPeer = { [PEER]?: TlsPeer };

export function setTlsPeer(socket: object, peer: TlsPeer): void {
  (socket as WithPeer)[PEER] = peer;
}

/** The connection's TlsPeer; undefined on a plain-text connection. */
export function tlsPeerOf(socket: object | null | undefined): TlsPeer | undefined {
  return socket == null ? undefined : (socket as WithPeer)[PEER];
}

/** Removes every X-Forwarded-Client-Cert from a flat raw header array, in place. */
export function dropClientCert(headers: string[]): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (headers[i]!.length === XFCC_LOWER.length && headers[i]!.toLowerCase() === XFCC_LOWER) headers.splice(i, 2);
  }
}

/**
 * The TLS part of the forwarded-headers step, in place: any incoming
 * X-Forwarded-Client-Cert removed; with FORWARDED_HEADERS (`forwarded`) and
 * a verified client certificate, Outrigger's own added.
 */
export function applyClientCert(headers: string[], peer: TlsPeer | undefined, forwarded: boolean): void {
  dropClientCert(headers);
  if (forwarded && peer?.xfcc !== undefined) headers.push(XFCC, peer.xfcc);
}

/** Non-ASCII as the RFC 2253 `\XX` escapes of its UTF-8 bytes (what OpenSSL prints), so that the value is a valid field value. */
function asciiOnly(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Node's X509Certificate.subject is one RDN per line, most general first,
 * values already escaped as RFC 2253 asks (`\,`, `\"`, `\\`, `\+`, control
 * bytes as `\XX`), the attributes of a multi-valued RDN joined by ` + `.
 * RFC 2253 order (OpenSSL's `-nameopt RFC2253`) is the reverse throughout:
 * RDNs comma-separated, a multi-valued RDN's attributes `+`-separated.
 */
export function rfc2253Subject(subject: string): string {
  const rdns = subject.split('\n').filter((l) => l !== '').reverse();
  return asciiOnly(rdns.map((rdn) => (rdn.includes(' + ') ? rdn.split(' + ').reverse().join('+') : rdn)).join(','));
}

/** An XFCC value: quoted when it holds a separator or a quote (Envoy's rule). */
function xfccValue(value: string, alwaysQuote: boolean): string {
  if (!alwaysQuote && !/[,;="\\]/.test(value)) return value;
  // RFC 2253 text already escapes `"` and `\`; escape only what is not escaped yet.
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      out += ch + value[i + 1]!;
      i += 1;
    } else {
      out += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
    }
  }
  return `"${out}"`;
}

/** The URI entries of Node's subjectAltName text (`URI:a, DNS:b, URI:"quoted, value"`). */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  const out: string[] = [];
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = entry.exec(subjectAltName); m !== null; m = entry.exec(subjectAltName)) {
    if (m[1] !== 'URI') continue;
    const raw = m[2]!;
    out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return out;
}

/** The XFCC value for a verified client certificate. */
export function xfccFor(cert: X509Certificate): string {
  const parts = [`Hash=${createHash('sha256').update(cert.raw).digest('hex')}`, `Subject=${xfccValue(rfc2253Subject(cert.subject), true)}`];
  const uri = uriSans(cert.subjectAltName)[0];
  // A URI SAN is ASCII (IA5String); anything else is left out rather than mangled.
  if (uri !== undefined && /^[\x21-\x7e]+$/.test(uri)) parts.push(`URI=${xfccValue(uri, false)}`);
  return parts.join(';');
}
