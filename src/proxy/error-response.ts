/**
 * The one place that maps errors and refusals to HTTP answers. Every
 * proxy-generated answer carries `x-outrigger-error: <kind>` and a one-line
 * text body.
 */
import { STATUS_CODES } from 'node:http';
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import { cutAnswer, endAnswer, isHttp2, sendAnswer, type ClientResponse } from './downstream.js';

export type ErrorKind = ProxyError['kind'] | 'internal';

const STATUS: Record<ErrorKind, number> = {
  no_healthy_backend: 503,
  connect_failed: 502,
  upstream_reset: 502,
  upstream_timeout: 504,
  overloaded: 503,
  internal: 500,
};

/** The gRPC status of each kind, for answers to gRPC calls (SPEC §8): 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, 13 INTERNAL. */
const GRPC_STATUS: Record<ErrorKind, number> = {
  no_healthy_backend: 14,
  connect_failed: 14,
  upstream_reset: 14,
  overloaded: 14,
  upstream_timeout: 4,
  internal: 13,
};

/** Requests refused before anything is sent to a backend: by Node's parser, request-guard, or a client deadline. */
export type RefusalKind =
  | 'bad_request'
  | 'request_header_too_large'
  | 'request_timeout'
  | 'method_not_allowed'
  | 'expectation_failed'
  | 'unsupported_transfer_coding'
  | 'http_version_not_supported';

const REFUSAL_STATUS: Record<RefusalKind, number> = {
  bad_request: 400,
  method_not_allowed: 405,
  request_timeout: 408,
  expectation_failed: 417,
  request_header_too_large: 431,
  unsupported_transfer_coding: 501,
  http_version_not_supported: 505,
};

/** Node's parser errors that are not a plain 400. */
const PARSER_REFUSALS: Readonly<Record<string, RefusalKind>> = {
  HPE_HEADER_OVERFLOW: 'request_header_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
};

export function refusalStatus(kind: RefusalKind): number {
  return REFUSAL_STATUS[kind];
}

/** The refusal for an error Node's HTTP parser reported on a client connection. */
export function parserRefusal(code: string | undefined): RefusalKind {
  return PARSER_REFUSALS[code ?? ''] ?? 'bad_request';
}

export function errorStatus(err: unknown, logger?: Logger): { status: number; kind: ErrorKind } {
  if (err instanceof ProxyError) return { status: STATUS[err.kind], kind: err.kind };
  logger?.error({ err }, 'unexpected error while proxying');
  return { status: STATUS.internal, kind: 'internal' };
}

/** The wire form of a proxy answer, for sockets that have no ServerResponse (upgrade, clientError, deadlines). */
export function rawErrorResponse(status: number, kind: string): string {
  const body = `${kind}\n`;
  const reason = STATUS_CODES[status] ?? 'Error';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nx-outrigger-error: ${kind}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

/** Answers a refused request on its response; an HTTP/1.1 connection is closed after it (an HTTP/2 stream just ends). */
export function sendRefusal(res: ClientResponse, kind: RefusalKind): number {
  const status = REFUSAL_STATUS[kind];
  const body = `${kind}\n`;
  sendAnswer(res, status, { 'content-type': 'text/plain; charset=utf-8', 'x-outrigger-error': kind, 'content-length': body.length }, body, true);
  return status;
}

/**
 * Answers `res` for `err`. If the response already started, the client
 * connection is cut instead (a truncated body must not look complete).
 */
export function sendError(res: ClientResponse, err: unknown, o: { close: boolean; grpc: boolean }, logger?: Logger): ErrorKind {
  const { status, kind } = errorStatus(err, logger);
  if (res.headersSent) {
    if (!(o.grpc && endGrpcCall(res, kind))) cutAnswer(res);
    return kind;
  }
  if (o.grpc && isHttp2(res)) {
    // Trailers-only (gRPC over HTTP/2): the status travels in the one HEADERS frame that ends the stream.
    sendAnswer(res, 200, { 'content-type': 'application/grpc', 'grpc-status': String(GRPC_STATUS[kind]), 'grpc-message': kind, 'x-outrigger-error': kind }, undefined, false);
    return kind;
  }
  const message = err instanceof Error ? err.message : String(err);
  const body = `${kind}: ${message.replace(/[\r\n]+/g, ' ')}\n`;
  sendAnswer(res, status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-outrigger-error': kind }, body, o.close);
  return kind;
}

/**
 * A gRPC call over HTTP/2 whose answer had begun when the backend failed:
 * the client still gets a status (grpc-status for `kind` in the trailers),
 * not a stream reset without one, which gRPC clients report as INTERNAL.
 * False when the stream can take nothing more; the caller then cuts it.
 */
export function endGrpcCall(res: ClientResponse, kind: ErrorKind): boolean {
  if (!isHttp2(res) || !res.headersSent || res.writableEnded || res.destroyed) return false;
  endAnswer(res, [['grpc-status', String(GRPC_STATUS[kind])], ['grpc-message', kind]]);
  return true;
}

/** The gRPC status an answer of `kind` carries to a gRPC client. */
export function grpcStatusOf(kind: ErrorKind): number {
  return GRPC_STATUS[kind];
}
