/**
 * A scripted HTTP/2 backend on 127.0.0.1 port 0 (cleartext, or TLS with a
 * given key and certificate): every stream goes to `onStream`; sessions are
 * counted; close() ends every session first so that it never hangs. Also a
 * throwaway self-signed certificate made with openssl (for 127.0.0.1).
 */
import http2, { type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type OnStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]) => void;

export interface H2Backend {
  readonly port: number;
  /** Sessions accepted so far. */
  readonly sessionsOpened: () => number;
  /** Sessions still open. */
  readonly open: Set<Http2Session>;
  close(): Promise<void>;
}

export async function startH2Backend(onStream: OnStream, options: http2.SecureServerOptions = {}, tls = false): Promise<H2Backend> {
  const server = tls ? http2.createSecureServer(options) : http2.createServer(options);
  const open = new Set<Http2Session>();
  let opened = 0;
  server.on('session', (session: Http2Session) => {
    opened += 1;
    open.add(session);
    session.on('error', () => undefined);
    session.once('close', () => open.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    stream.on('error', () => undefined);
    onStream(stream, headers, raw);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessionsOpened: () => opened,
    open,
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    }),
  };
}

export interface SelfSigned {
  readonly key: string;
  readonly cert: string;
  /** The certificate as a file, for NODE_EXTRA_CA_CERTS. */
  readonly certFile: string;
  remove(): Promise<void>;
}

/** A key and a one-day self-signed certificate for 127.0.0.1 and localhost, in a temporary directory. */
export async function selfSigned(): Promise<SelfSigned> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-h2-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { timeout: 20_000 });
  return {
    key: await readFile(keyFile, 'utf8'),
    cert: await readFile(certFile, 'utf8'),
    certFile,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
