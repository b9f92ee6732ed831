/**
 * Re-framing for trailers across HTTP/2 and HTTP/1.1 (SPEC §3: trailers are
 * forwarded as received, messages re-framed). HTTP/2 may end any message with
 * trailers, whatever its Content-Length; HTTP/1.1 carries trailers only in
 * chunked framing. Where Outrigger can tell that trailers may follow, the
 * HTTP/1.1 side goes chunked (its Content-Length dropped); where it cannot,
 * the Content-Length stays and trailers that come anyway are counted in
 * outrigger_trailers_dropped_total. Pure functions over the request head.
 */
import type { RequestHead } from './downstream.js';
import { isGrpc } from './grpc.js';

/**
 * True when the body goes to an HTTP/1.1 backend chunked: its length is
 * unknown, or it is an HTTP/2 request that may end with trailers (it announces
 * them with `trailer`, deals in them with `te: trailers`, or is gRPC), which
 * HTTP/1.1 carries only in chunked framing. Any other HTTP/2 body keeps its
 * Content-Length (backends that need one get it); trailers it still ends
 * with cannot be delivered and are counted as dropped (proxy/request-body).
 */
export function sendsChunked(head: RequestHead): boolean {
  const h = head.headers;
  if (h['transfer-encoding'] !== undefined || h['content-length'] === undefined) return true;
  if (head.protocol !== 'HTTP/2') return false;
  return h.trailer !== undefined || hasTrailersToken(h.te) || isGrpc(h);
}

/**
 * True when an answer from an HTTP/2 backend goes chunked to this client
 * (its Content-Length dropped), so that trailers can follow: an HTTP/1.1
 * client that asked for them (`TE: trailers`), on a request whose answer has
 * a body. Other HTTP/1.1 clients keep the Content-Length and lose the
 * trailers (counted by downstream's endAnswer).
 */
export function chunksForTrailers(head: RequestHead): boolean {
  if (head.protocol !== 'HTTP/1.1' || head.httpVersion !== '1.1' || head.method === 'HEAD') return false;
  return hasTrailersToken(head.headers.te);
}

/** `TE` (Node joins repeated lines with ", ") names `trailers`. */
function hasTrailersToken(te: string | string[] | undefined): boolean {
  if (te === undefined) return false;
  return String(te).split(',').some((t) => t.trim().toLowerCase() === 'trailers');
}

/** Removes every Content-Length field from a flat raw list, in place (the message goes chunked instead). */
export function dropContentLength(raw: string[]): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i]!.length === 14 && raw[i]!.toLowerCase() === 'content-length') raw.splice(i, 2);
  }
}
