/**
 * A client's request and response as the data plane handles them, whichever
 * protocol carried them: Node's HTTP/1.1 IncomingMessage/ServerResponse, or
 * one HTTP/2 stream of Node's core API, which is both the request (a
 * readable body) and the response (proxy/h2-answer writes on it). The few
 * places where the two differ (the head's shape, the status line,
 * connection-level fields, trailers, 1xx, "gone") are decided here and
 * nowhere else.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { constants as h2constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { earlyHintLink, endWithTrailers, HeldHead, respondInformational, respondOwn, respondRelayed, sentStatus } from './h2-answer.js';

export type ClientRequest = IncomingMessage | ServerHttp2Stream;
export type ClientResponse = ServerResponse | ServerHttp2Stream;
export type Protocol = 'HTTP/1.1' | 'HTTP/2';
export type { HeldHead };

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

// A property test rather than instanceof: it runs many times per request, and a stream's prototype chain is long.
export function isHttp2(res: ClientResponse): res is ServerHttp2Stream {
  return (res as { respond?: unknown }).respond !== undefined;
}

export function isHttp2Request(req: ClientRequest): req is ServerHttp2Stream {
  return (req as { respond?: unknown }).respond !== undefined;
}

/** The head of an HTTP/1.1 request, as parsed. */
export function http1Head(req: IncomingMessage): RequestHead {
  return { method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, headers: req.headers, protocol: 'HTTP/1.1' };
}

/**
 * The head of an HTTP/2 request in HTTP/1.1 shape: pseudo-headers dropped,
 * `:authority` as the first `Host`. `headers` is Node's object for this
 * stream alone; it gains `host` in place when the request had none.
 */
export function http2Head(headers: IncomingHttpHeaders, raw: readonly string[]): RequestHead {
  // Room for Host first; dropped when the request carries its own (HTTP/2 clients rarely do).
  const out: string[] = ['host', ''];
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
  if (host || authority === undefined) out.splice(0, 2);
  else {
    out[1] = authority;
    headers.host = authority;
  }
  return { method: String(headers[':method']), url: String(headers[':path']), httpVersion: '1.1', rawHeaders: out, headers, protocol: 'HTTP/2' };
}

/**
 * True when the backend's 100 Continue goes on to the client: an HTTP/1.1
 * client that asked for it. An HTTP/2 stream got its 100 when it arrived
 * (proxy/h2-server), so the backend's would be a second one; an HTTP/1.0
 * client's expectation is ignored (RFC 9110 §10.1.1).
 */
export function relaysContinue(head: RequestHead): boolean {
  return head.protocol === 'HTTP/1.1' && head.httpVersion === '1.1' && head.headers.expect?.toLowerCase() === '100-continue';
}

/** True when no 1xx may reach this client: HTTP/1.0 has none (RFC 9110 §15.2), and would take one for the answer. */
export function refusesInformational(head: RequestHead): boolean {
  return head.httpVersion === '1.0';
}

/** True when the request has a body to forward (an HTTP/2 stream not ended by its HEADERS). */
export function carriesBody(req: ClientRequest, head: RequestHead): boolean {
  if (isHttp2Request(req)) return !req.endAfterHeaders;
  const te = head.headers['transfer-encoding'];
  const cl = head.headers['content-length'];
  return te !== undefined || (cl !== undefined && cl !== '0');
}

const SOCKET = Symbol('outrigger.sessionSocket');
type WithSocket = Http2Session & { [SOCKET]?: Socket };

/** Remembers the socket an HTTP/2 session runs on: `session.socket` is a proxy object, slow to read through. */
export function rememberSocket(session: Http2Session, socket: Socket): void {
  (session as WithSocket)[SOCKET] = socket;
}

/** The client's connection (for HTTP/2, its session's socket). */
export function clientSocket(req: ClientRequest): Socket | undefined {
  if (!isHttp2Request(req)) return req.socket;
  const session = req.session as WithSocket | undefined;
  return session?.[SOCKET] ?? session?.socket;
}

/** True once the request was read whole, or can no longer be (aborted, its stream closed). */
export function requestComplete(req: ClientRequest): boolean {
  return isHttp2Request(req) ? req.readableEnded || req.closed || req.destroyed : req.complete;
}

/** Calls `onEnd` with the request's raw trailers (maybe none) once its body has ended. */
export function onRequestEnd(req: ClientRequest, onEnd: (rawTrailers: readonly string[]) => void): void {
  if (!isHttp2Request(req)) {
    req.once('end', () => onEnd(req.rawTrailers));
    return;
  }
  let trailers: readonly string[] = [];
  // HTTP/2 trailers arrive (as a HEADERS frame that ends the stream) before the body's 'end'.
  req.once('trailers', (_fields: IncomingHttpHeaders, _flags: number, raw: string[]) => (trailers = raw));
  req.once('end', () => onEnd(trailers));
}

/** True once the client can no longer be answered on this request (its connection, or its stream, is gone). */
export function clientGone(res: ClientResponse): boolean {
  return res.destroyed;
}

/**
 * Cuts an answer that cannot be completed, so that the client cannot take
 * what it got for all of it: an HTTP/1.1 connection is closed; an HTTP/2
 * stream is reset with INTERNAL_ERROR (Node's destroy() would send
 * NO_ERROR, which clients read as a normal end of the stream).
 */
export function cutAnswer(res: ClientResponse): void {
  if (!isHttp2(res)) return void res.destroy();
  if (!res.destroyed) res.close(h2constants.NGHTTP2_INTERNAL_ERROR);
}

/**
 * True when the answer went out whole. For HTTP/2: its stream ended without
 * a reset, and was not closed by the client before Outrigger ended it (a
 * client reset with NO_ERROR mid-answer leaves no error code, but Node marks
 * the stream aborted and ends its writable side itself).
 */
export function answered(res: ClientResponse): boolean {
  if (!isHttp2(res)) return res.writableFinished;
  const rst = res.rstCode;
  return res.writableFinished && !res.aborted && (rst === undefined || rst === 0);
}

/** The status the client was sent, 0 before the head went out. */
export function statusSent(res: ClientResponse): number {
  if (!res.headersSent) return 0;
  return isHttp2(res) ? sentStatus(res) : res.statusCode;
}

/**
 * Writes a relayed answer's head: HTTP/2 has no reason phrase and no
 * connection-level fields (already stripped), and its end may carry trailers.
 * No Date is added: the backend's, if any, is in `raw`. `raw` is the
 * caller's own list and may be used up (HTTP/2 appends `:status`).
 */
export function writeHead(res: ClientResponse, status: number, reason: string, raw: string[]): void {
  if (isHttp2(res)) return respondRelayed(res, status, raw);
  res.sendDate = false;
  // An HTTP/2 backend sends no reason phrase: an HTTP/1.1 client gets the standard one.
  res.writeHead(status, reason === '' ? STATUS_CODES[status] ?? '' : reason, raw);
}

/**
 * Holds an HTTP/2 answer's head instead of sending it: it goes out with the
 * end of the stream when nothing else follows (a gRPC trailers-only answer).
 * The body, if one comes anyway, goes to the returned sink.
 */
export function holdHead(res: ServerHttp2Stream, status: number, raw: string[]): HeldHead {
  return new HeldHead(res, status, raw);
}

/**
 * Ends a relayed answer with its trailers ([name, value] pairs, maybe none); a held head goes out now.
 * Returns how many trailer fields an HTTP/1.1 answer could not carry: one framed by Content-Length
 * (or to an HTTP/1.0 client, or without a body) has no room for them, and Node would drop them silently.
 */
export function endAnswer(res: ClientResponse, pairs: Array<[string, string]>, held?: HeldHead): number {
  if (!isHttp2(res)) {
    let lost = 0;
    if (pairs.length > 0 && !res.chunkedEncoding) lost = pairs.length;
    else if (pairs.length > 0) {
      try {
        res.addTrailers(pairs);
      } catch {
        lost = pairs.length; // fields Node refuses to encode (the body is complete; they are metadata)
      }
    }
    res.end();
    return lost;
  }
  if (held === undefined) {
    endWithTrailers(res, pairs);
    return 0;
  }
  held.release(pairs.length > 0);
  // Body chunks may still wait in the held sink (each waits for the stream to take the one before): the end follows them.
  held.end(() => endWithTrailers(res, pairs));
  return 0;
}

/**
 * Outrigger's own answer, whole: `fields` in lower case, and a body or none.
 * `close`: an HTTP/1.1 connection closes after it (HTTP/2 has no connection-level field; its stream just ends).
 */
export function sendAnswer(res: ClientResponse, status: number, fields: OutgoingHttpHeaders, body: string | undefined, close: boolean): void {
  if (isHttp2(res)) return respondOwn(res, { ':status': status, ...fields }, body);
  res.writeHead(status, close ? { ...fields, connection: 'close' } : fields);
  res.end(body);
}

/** True when a 1xx may not go out now: the head went, the client is gone, or its connection has unsent bytes queued. */
export function informationalBlocked(res: ClientResponse): boolean {
  if (res.headersSent || res.destroyed) return true;
  const socket = isHttp2(res) ? (res.closed ? undefined : res.session?.socket) : res.socket;
  return socket == null || socket.writableNeedDrain;
}

export function sendContinue(res: ClientResponse): void {
  if (isHttp2(res)) respondInformational(res, 100);
  else res.writeContinue();
}

/** A 103 with `hints` (one `link` value per array entry); throws when a link is not of the form Node accepts. */
export function sendEarlyHints(res: ClientResponse, hints: Record<string, string | string[]>): void {
  if (!isHttp2(res)) return res.writeEarlyHints(hints);
  const { link, ...rest } = hints;
  const value = link === undefined ? undefined : earlyHintLink(link);
  if (value === undefined) throw new TypeError('an Early Hints link Node would not accept');
  respondInformational(res, 103, { ...rest, link: value });
}
