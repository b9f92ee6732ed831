/**
 * The connect path shared by the connection-level entries (WebSocket/Upgrade
 * tunnels and TCP mode): one socket to one backend within CONNECT_TIMEOUT_MS
 * (for `https` and `h2` backends the TLS handshake included, with the
 * identity, trust and name of tls/upstream-tls), failures classified once as
 * ConnectFailedError. The caller owns the socket once it resolves.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ConnectFailedError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';

/** A connect in progress; `cancel()` ends it (the promise then rejects, not counted as the backend's fault). */
export interface Connecting {
  readonly socket: Promise<net.Socket>;
  cancel(): void;
}

/** `allowHalfOpen` applies to plain TCP (MODE=tcp entries have no TLS). */
export function connectBackend(backend: Backend, connectTimeoutMs: number, upstreamTls: UpstreamTls, options: { allowHalfOpen?: boolean } = {}): Connecting {
  let cancel = (): void => undefined;
  const socket = new Promise<net.Socket>((resolve, reject) => {
    cancel = openBackend(backend, connectTimeoutMs, upstreamTls, options, (err, s) => (err === undefined ? resolve(s) : reject(err)));
  });
  return { socket, cancel: () => cancel() };
}

/** What openBackend calls once: the connected socket (now the caller's), or why there is none. */
export type Opened = (err: ConnectFailedError | undefined, socket: net.Socket) => void;

/**
 * connectBackend without a promise (MODE=tcp, where it runs once per client
 * connection): `done` is called once; the returned function cancels.
 */
export function openBackend(backend: Backend, connectTimeoutMs: number, upstreamTls: UpstreamTls, options: { allowHalfOpen?: boolean }, done: Opened): () => void {
  const tlsBackend = backend.scheme === 'https' || backend.scheme === 'h2';
  const socket = tlsBackend
    ? tls.connect({ host: backend.host, port: backend.port, ...upstreamTls.optionsFor(backend.host) })
    : net.connect({ host: backend.host, port: backend.port, noDelay: true, allowHalfOpen: options.allowHalfOpen });
  const connectEvent = tlsBackend ? 'secureConnect' : 'connect';
  let settled = false;
  const fail = (err: ConnectFailedError): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener(connectEvent, onConnect);
    socket.destroy();
    done(err, socket);
  };
  const onConnect = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('error', onError);
    done(undefined, socket);
  };
  const onError = (err: NodeJS.ErrnoException): void => fail(new ConnectFailedError(backend.id, err.code === 'ETIMEDOUT', err));
  const timer = setTimeout(() => fail(new ConnectFailedError(backend.id, true)), connectTimeoutMs);
  socket.once(connectEvent, onConnect);
  socket.once('error', onError);
  return () => fail(new ConnectFailedError(backend.id, false, new Error('cancelled')));
}
