/**
 * The one place an engine is chosen for an exchange. HTTP/2 backends (`h2c`,
 * `h2`) have their engine; two HTTP/1.1 engines sit behind the contract for
 * the others (docs/benchmarks.md has the measurements): undici
 * where it sends the request as received, which is most traffic and costs a
 * third less CPU there; `node:http` for everything else. A new engine is one
 * file plus one line here.
 */
import type { Backend } from '../upstream/backend.js';
import type { UpstreamPool } from './pool.js';
import { PAYLOAD_METHODS, type ExchangeRequest, type UpstreamCall, type UpstreamResponse } from './contract.js';
import { sendWithNodeHttp } from './engine-node.js';
import { sendWithUndici } from './engine-undici.js';
import { sendLean } from './engine-lean.js';
import { ORIGIN_FORM } from './h1-request.js';
import { sendWithH2 } from './engine-h2.js';

/** Sends `request` to `backend` with the engine that fits it; rejects with an AttemptError. */
export function send(backend: Backend, pool: UpstreamPool, request: ExchangeRequest, onCall: (call: UpstreamCall) => void): Promise<UpstreamResponse> {
  if (backend.scheme === 'h2c' || backend.scheme === 'h2') return sendWithH2(backend, pool, request, onCall);
  const viaNode = () => sendWithNodeHttp(backend, pool, request, onCall);
  if (leanCanSend(backend.scheme, request)) return sendLean(backend, pool.lean, request, onCall, viaNode);
  return undiciCanSend(backend.scheme, request) && pool.undiciReads(backend) ? sendWithUndici(backend, pool, request, onCall, viaNode) : viaNode();
}


/**
 * True when the lean engine takes it: a request without a body to a plain-http
 * backend, with headers that may be adjusted (FORWARDED_HEADERS=false keeps
 * node:http's byte-for-byte path). It hands node:http what it will not write
 * (transport/h1-request: a target that is not origin-form, say).
 */
export function leanCanSend(scheme: Backend['scheme'], o: Pick<ExchangeRequest, 'body' | 'exactHeaders'>): boolean {
  return scheme === 'http' && o.body === undefined && !o.exactHeaders;
}


/**
 * True when undici sends this request as received. It writes `host` first
 * (so Host must already be first; its name goes out in lower case) and
 * `content-length` last (in lower case), cannot stream trailers or wait for
 * 100 Continue, refuses any `Expect` and `Transfer-Encoding`, drops
 * `Content-Length: 0` on GET, closes the connection after every HEAD, and
 * takes its TLS server name from the Host header (https backends stay with
 * node:http, which names the backend). A body goes only on POST, PUT and
 * PATCH, framed by one Content-Length.
 */
export function undiciCanSend(scheme: Backend['scheme'], o: Pick<ExchangeRequest, 'method' | 'path' | 'headers' | 'body' | 'exactHeaders'>): boolean {
  if (scheme !== 'http' || o.exactHeaders || o.method === 'HEAD' || !ORIGIN_FORM.test(o.path)) return false;
  const withBody = o.body !== undefined;
  if (withBody && !PAYLOAD_METHODS.has(o.method)) return false;
  const h = o.headers;
  if (h.length === 0 || h[0]!.length !== 4 || h[0]!.toLowerCase() !== 'host') return false;
  let lengths = 0;
  for (let i = 2; i < h.length; i += 2) {
    const n = h[i]!.length;
    if (n !== 6 && n !== 14 && n !== 4 && n !== 17) continue;
    const name = h[i]!.toLowerCase();
    if (name === 'expect' || name === 'host' || name === 'transfer-encoding') return false;
    if (name === 'content-length') lengths += 1;
  }
  return withBody ? lengths === 1 : lengths === 0;
}
