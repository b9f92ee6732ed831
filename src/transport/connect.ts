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
  const tlsBackend = backend.scheme === 'https' || backend.scheme === 'h2';
  const socket = tlsBackend
    ? tls.connect({ host: backend.host, port: backend.port, ...upstreamTls.optionsFor(backend.host) })
    : net.connect({ host: backend.host, port: backend.port, noDelay: true, allowHalfOpen: options.allowHalfOpen });
  let cancel = (): void => undefined;
  const ready = new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => fail(new ConnectFailedError(backend.id, true)), connectTimeoutMs);
    const fail = (err: ConnectFailedError) => {
      clearTimeout(timer);
      socket.removeListener(tlsBackend ? 'secureConnect' : 'connect', onConnect);
      socket.destroy();
      reject(err);
    };
    const onConnect = () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException) => fail(new ConnectFailedError(backend.id, err.code === 'ETIMEDOUT', err));
    socket.once(tlsBackend ? 'secureConnect' : 'connect', onConnect);
    socket.once('error', onError);
    cancel = () => fail(new ConnectFailedError(backend.id, false, new Error('cancelled')));
  });
  return { socket: ready, cancel: () => cancel() };
}
