/**
 * The one place that maps errors to HTTP answers. Every proxy-generated
 * answer carries `x-outrigger-error: <kind>` and a one-line text body.
 */
import type { ServerResponse } from 'node:http';
import { ProxyError } from '../errors.js';
import type { Logger } from '../log.js';

export type ErrorKind = ProxyError['kind'] | 'internal';

const STATUS: Record<ErrorKind, number> = {
  no_healthy_backend: 503,
  connect_failed: 502,
  upstream_reset: 502,
  upstream_timeout: 504,
  overloaded: 503,
  internal: 500,
};

export function errorStatus(err: unknown, logger?: Logger): { status: number; kind: ErrorKind } {
  if (err instanceof ProxyError) return { status: STATUS[err.kind], kind: err.kind };
  logger?.error({ err }, 'unexpected error while proxying');
  return { status: STATUS.internal, kind: 'internal' };
}

/** The wire form of a proxy answer, for sockets that have no ServerResponse (upgrade, clientError). */
export function rawErrorResponse(status: number, reason: string, kind: string): string {
  const body = `${kind}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nx-outrigger-error: ${kind}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Answers `res` for `err`. If the response already started, the client
 * connection is cut instead (a truncated body must not look complete).
 */
export function sendError(res: ServerResponse, err: unknown, close: boolean, logger?: Logger): ErrorKind {
  const { status, kind } = errorStatus(err, logger);
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return kind;
  }
  const message = err instanceof Error ? err.message : String(err);
  const body = `${kind}: ${message.replace(/[\r\n]+/g, ' ')}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-outrigger-error': kind,
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
  return kind;
}
