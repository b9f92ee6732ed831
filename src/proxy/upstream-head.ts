/**
 * The head a backend receives for one client request, built once before the
 * first attempt: hop-by-hop fields removed, Outrigger's client-certificate
 * header (SPEC §9), the forwarded headers and request id (SPEC §3), and room
 * for each attempt's `traceparent` (SPEC §10). With FORWARDED_HEADERS=false
 * the fields stay as received, apart from what may not cross a proxy.
 */
import { randomUUID } from 'node:crypto';
import { addForwarded, makeTraceparentRoom, stripHopByHop } from './headers.js';
import { applyClientCert, type TlsPeer } from '../tls/xfcc.js';
import type { RequestHead } from './downstream.js';
import type { Tracing } from '../tracing/tracing.js';
import type { ServerSpan } from '../tracing/spans.js';

/** A request's SERVER span, and where its attempts' `traceparent` goes in the upstream head (-1: nowhere, FORWARDED_HEADERS=false). */
export interface Trace {
  readonly span: ServerSpan;
  readonly at: number;
}

export interface UpstreamHead {
  readonly headers: string[];
  /** The request's X-Request-Id: the client's, or a new one. */
  readonly requestId: string;
}

/** `peer`: the TLS connection's (tls/xfcc), undefined in plain text. */
export function upstreamHead(head: RequestHead, clientIp: string, peer: TlsPeer | undefined, forwardedHeaders: boolean): UpstreamHead {
  const headers = stripHopByHop(head.rawHeaders, { keepTeTrailers: true });
  applyClientCert(headers, peer, forwardedHeaders); // only Outrigger vouches for a client certificate (SPEC §9)
  if (forwardedHeaders) {
    return { headers, requestId: addForwarded(headers, { clientIp, proto: peer === undefined ? 'http' : 'https', newRequestId: randomUUID }) };
  }
  const given = head.headers['x-request-id'];
  return { headers, requestId: typeof given === 'string' ? given : randomUUID() };
}

/** The SERVER span, and room for the backend's `traceparent` in `headers` unless they must stay as received. */
export function startTrace(tracing: Tracing | undefined, head: RequestHead, started: number, scheme: 'http' | 'https', headers: string[], forwardedHeaders: boolean): Trace | undefined {
  if (tracing === undefined) return undefined;
  const span = tracing.server(head.headers.traceparent, started, head.headers.host, scheme);
  return { span, at: forwardedHeaders ? makeTraceparentRoom(headers, span.parentSpanId === undefined) : -1 };
}
