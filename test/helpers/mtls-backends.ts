/**
 * TLS backends for the UPSTREAM_TLS_* tests, on 127.0.0.1 port 0: an HTTPS
 * and an HTTP/2 server that require a client certificate from a mesh CA and
 * present a certificate for `orders.shop.svc` only (signed by a backend CA,
 * made with openssl by helpers/certs), each recording the client
 * certificate it saw; and a Kubernetes Secret volume to rotate files in.
 */
import https from 'node:https';
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPki, type CertFiles } from './certs.js';

export interface Peer {
  readonly subject: string;
  readonly serial: string;
}

export interface Pki {
  readonly pki: TestPki;
  readonly backendCa: CertFiles;
  readonly clientCa: CertFiles;
  readonly server: CertFiles;
  readonly client: CertFiles;
}

export async function makePki(): Promise<Pki> {
  const pki = new TestPki();
  const backendCa = await pki.ca('Backend CA');
  const clientCa = await pki.ca('Mesh CA');
  const server = await pki.issue(backendCa, { subject: '/CN=orders.shop.svc', san: 'DNS:orders.shop.svc', serial: '5e' });
  const client = await pki.issue(clientCa, { subject: '/O=shop/CN=outrigger', san: 'URI:spiffe://shop/outrigger', serial: 'c1', clientAuth: true });
  return { pki, backendCa, clientCa, server, client };
}

function peerOf(socket: TLSSocket): Peer {
  const cert = socket.getPeerX509Certificate();
  return { subject: cert?.subject.replace(/\n/g, ',') ?? '', serial: cert?.serialNumber ?? '' };
}

/** An HTTPS backend that requires a client certificate signed by the mesh CA and reports what it saw. */
export async function httpsBackend(p: Pki) {
  const seen: Array<Peer & { method: string; body: string }> = [];
  const server = https.createServer({
    cert: p.pki.read(p.server.cert), key: p.pki.read(p.server.key), ca: p.pki.read(p.clientCa.cert), requestCert: true, rejectUnauthorized: true,
  }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const peer = peerOf(req.socket as TLSSocket);
      if (req.url !== '/health') seen.push({ ...peer, method: req.method ?? '', body });
      res.end(`${peer.serial}`);
    });
  });
  server.on('tlsClientError', () => undefined);
  // An upgrade tunnel: answers 101, then the serial of the client certificate, then closes.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\ntunnel:${peerOf(req.socket as TLSSocket).serial}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port, seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The same as an `h2` backend. */
export async function h2Backend(p: Pki) {
  const seen: Array<Peer & { method: string }> = [];
  const server = http2.createSecureServer({
    cert: p.pki.read(p.server.cert), key: p.pki.read(p.server.key), ca: p.pki.read(p.clientCa.cert), requestCert: true, rejectUnauthorized: true,
  });
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s: http2.Http2Session) => {
    sessions.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => undefined);
    const peer = peerOf(stream.session!.socket as TLSSocket);
    if (headers[':path'] !== '/health') seen.push({ ...peer, method: String(headers[':method']) });
    stream.resume();
    stream.once('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(peer.serial);
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port, seen,
    close: () => new Promise<void>((resolve) => {
      for (const s of sessions) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A Secret volume: tls.crt, tls.key (and ca.crt) → ..data/… → ..<n>/…, updated by an atomic swap of ..data. */
export class SecretVolume {
  private n = 0;
  constructor(readonly dir: string) {
    mkdirSync(dir);
  }
  get cert(): string {
    return join(this.dir, 'tls.crt');
  }
  get key(): string {
    return join(this.dir, 'tls.key');
  }
  get ca(): string {
    return join(this.dir, 'ca.crt');
  }
  /** `ca`: a ca.crt too (give it on every publish once the first had it). */
  publish(cert: string, key: string, ca?: string): void {
    const version = `..v${this.n++}`;
    mkdirSync(join(this.dir, version));
    writeFileSync(join(this.dir, version, 'tls.crt'), cert);
    writeFileSync(join(this.dir, version, 'tls.key'), key);
    if (ca !== undefined) writeFileSync(join(this.dir, version, 'ca.crt'), ca);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.n === 1) {
      symlinkSync('..data/tls.crt', this.cert);
      symlinkSync('..data/tls.key', this.key);
      if (ca !== undefined) symlinkSync('..data/ca.crt', this.ca);
    }
  }
}

