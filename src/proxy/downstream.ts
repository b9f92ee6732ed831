/**
 * A client's request and response as the data plane handles them, whichever
 * protocol carried them: Node's HTTP/1.1 IncomingMessage/ServerResponse, or
 * its HTTP/2 compatibility request/response for one stream. The few places
 * where the two differ (the head's shape, the status line, connection-level
 * fields, trailers, "gone") are decided here and nowhere else.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type ClientRequest = IncomingMessage | Http2ServerRequest;
export type ClientResponse = ServerResponse | Http2ServerResponse;
export type Protocol = 'HTTP/1.1' | 'HTTP/2';

/** A request head in HTTP/1.1 shape, whatever the protocol: what the guard checks and the backend gets. */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  /** '1.0' or '1.1' for HTTP/1.x; HTTP/2 requests are handled as '1.1'. */
  readonly httpVersion: string;
  /** Flat [name, value, …]; for HTTP/2, without pseudo-headers and with `Host` first (from `:authority`). */
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly protocol: Protocol;
}

export function isHttp2(res: ClientResponse): res is Http2ServerResponse {
  return res instanceof Http2ServerResponse;
}

/** The head of an HTTP/1.1 request, as parsed. */
export function http1Head(req: IncomingMessage): RequestHead {
  return { method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, headers: req.headers, protocol: 'HTTP/1.1' };
}

/** The head of an HTTP/2 request in HTTP/1.1 shape: pseudo-headers dropped, `:authority` as the first `Host`. */
export function http2Head(req: Http2ServerRequest): RequestHead {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let authority: string | undefined;
  let host = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority') authority = raw[i + 1];
      continue;
    }
    if (name === 'host') host = true;
    out.push(name, raw[i + 1]!);
  }
  if (!host && authority !== undefined) out.unshift('host', authority);
  const headers = host || authority === undefined ? req.headers : { ...req.headers, host: authority };
  return { method: req.method, url: req.url, httpVersion: '1.1', rawHeaders: out, headers, protocol: 'HTTP/2' };
}

/** True when the request has a body to forward (an HTTP/2 stream not ended by its HEADERS). */
export function carriesBody(req: ClientRequest, head: RequestHead): boolean {
  if (req instanceof Http2ServerRequest) return !req.stream.endAfterHeaders;
  const te = head.headers['transfer-encoding'];
  const cl = head.headers['content-length'];
  return te !== undefined || (cl !== undefined && cl !== '0');
}

/** True once the client can no longer be answered on this request (its connection, or its stream, is gone). */
export function clientGone(res: ClientResponse): boolean {
  return isHttp2(res) ? res.stream.destroyed : res.destroyed;
}

/** True when the answer went out whole (for HTTP/2: its stream ended without a reset). */
export function answered(res: ClientResponse): boolean {
  if (!isHttp2(res)) return res.writableFinished;
  const rst = res.stream.rstCode;
  return res.writableFinished && (rst === undefined || rst === 0);
}

/** Writes the response head: HTTP/2 has no reason phrase and no connection-level fields (already stripped). */
export function writeHead(res: ClientResponse, status: number, reason: string, raw: string[]): void {
  if (isHttp2(res)) res.writeHead(status, toObject(raw));
  // An HTTP/2 backend sends no reason phrase: an HTTP/1.1 client gets the standard one.
  else res.writeHead(status, reason === '' ? STATUS_CODES[status] ?? '' : reason, raw);
}

/**
 * Sets the response head without sending it: HTTP/2 then sends it with the
 * end of the stream when nothing else follows (a gRPC trailers-only answer).
 */
export function holdHead(res: Http2ServerResponse, status: number, raw: string[]): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(toObject(raw))) if (value !== undefined) res.setHeader(name, value);
}

/** Trailer [name, value] pairs, in the form each protocol's addTrailers takes. */
export function addTrailers(res: ClientResponse, pairs: Array<[string, string]>): void {
  if (!isHttp2(res)) return res.addTrailers(pairs);
  const trailers: OutgoingHttpHeaders = {};
  for (const [name, value] of pairs) append(trailers, name.toLowerCase(), value);
  res.addTrailers(trailers);
}

function toObject(raw: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) append(out, raw[i]!.toLowerCase(), raw[i + 1]!);
  return out;
}

function append(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const prior = headers[name];
  if (prior === undefined) headers[name] = value;
  else headers[name] = Array.isArray(prior) ? [...prior, value] : [String(prior), value];
}
