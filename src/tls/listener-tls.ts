/**
 * TLS on the traffic port (SPEC §9). The front door accepts TCP and hands
 * each socket here; a tls.Server that never listens itself runs the
 * handshake, then the socket goes back to the front door, which routes it by
 * the ALPN protocol chosen: `h2` to the HTTP/2 server, anything else to
 * HTTP/1.1.
 *
 * - CLIENT_HEADERS_TIMEOUT_MS bounds the handshake (Node's handshake timer,
 *   which runs from accept and is not renewed by the bytes of a slow
 *   handshake): a client that never says hello, or stalls halfway, is closed
 *   without an answer. Then the head clock of proxy/head-deadline starts.
 * - With TLS_CLIENT_CA_FILE a client certificate signed by those CAs is
 *   required: none, or one that does not verify, and the connection ends
 *   before any HTTP byte is read.
 * - Failed handshakes count in outrigger_tls_handshake_errors_total and are
 *   logged at debug level only. A peer that leaves before finishing the
 *   handshake without a TLS error (a TCP health check) is not a failure.
 * - Rotation: setMaterial() swaps the secure context; new handshakes use the
 *   new pair, established connections carry on with theirs.
 */
import tls from 'node:tls';
import type net from 'node:net';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ListenerTlsConfig } from './tls-config.js';
import type { TlsMaterial } from './cert-files.js';
import { setTlsPeer, xfccFor, type TlsPeer } from './xfcc.js';

const NO_CLIENT_CERT: TlsPeer = Object.freeze({ xfcc: undefined });

export interface ListenerTlsDeps {
  readonly config: ListenerTlsConfig;
  readonly http2: boolean;
  readonly handshakeTimeoutMs: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export class ListenerTls {
  private readonly server: tls.Server;
  /** Accepted sockets not yet closed, so that the end of the drain can cut those still in their handshake. */
  private readonly raw = new Set<net.Socket>();
  private material: TlsMaterial;

  /** `onSecure` gets the TLS socket and, where Node tells, the TCP connection it runs on (as `accept` got it). */
  constructor(private readonly d: ListenerTlsDeps, onSecure: (socket: tls.TLSSocket, raw: net.Socket | undefined) => void) {
    const { config } = d;
    this.material = config.material;
    this.server = tls.createServer({
      ...this.contextOptions(config.material),
      ALPNProtocols: d.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      requestCert: config.requireClientCert,
      rejectUnauthorized: config.requireClientCert,
      handshakeTimeout: d.handshakeTimeoutMs,
    });
    this.server.on('secureConnection', (socket: tls.TLSSocket) => {
      setTlsPeer(socket, config.requireClientCert ? this.peerOf(socket) : NO_CLIENT_CERT);
      onSecure(socket, tcpOf(socket));
    });
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => this.failed(err, socket));
    this.recordExpiry();
  }

  /** A TCP connection accepted on the traffic port: its handshake starts now. */
  accept(socket: net.Socket): void {
    this.raw.add(socket);
    socket.once('close', () => this.raw.delete(socket));
    this.server.emit('connection', socket);
  }

  /** Rotation: new handshakes use `material` (already checked by tls/cert-files). */
  setMaterial(material: TlsMaterial): void {
    this.server.setSecureContext(this.contextOptions(material));
    this.material = material;
    this.recordExpiry();
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** The end of the drain: every connection still open, in its handshake or not, is cut. */
  closeAll(): void {
    for (const socket of this.raw) socket.destroy();
  }

  private contextOptions(m: TlsMaterial): tls.SecureContextOptions {
    return { cert: m.cert, key: m.key, ca: m.ca, minVersion: this.d.config.minVersion };
  }

  private recordExpiry(): void {
    if (this.material.notAfter !== undefined) this.d.metrics.tlsCertificateExpiry.set({ cert: 'listener' }, this.material.notAfter);
  }

  /** Only reached for a verified client (rejectUnauthorized ended the others). */
  private peerOf(socket: tls.TLSSocket): TlsPeer {
    const cert = socket.getPeerX509Certificate();
    return cert === undefined ? NO_CLIENT_CERT : { xfcc: xfccFor(cert) };
  }

  private failed(err: NodeJS.ErrnoException, socket: tls.TLSSocket): void {
    const client = socket.remoteAddress;
    socket.destroy();
    // At run time Node sets an OpenSSL code string here (typed as an Error): why a client certificate was refused.
    const refused = (socket.authorizationError as unknown as string | null) ?? undefined;
    // A peer that left mid-handshake is reported as ECONNRESET; only a refused certificate makes that a failure.
    if (err.code === 'ECONNRESET' && refused === undefined) return;
    this.d.metrics.tlsHandshakeErrors.inc();
    if (this.d.logger.isLevelEnabled('debug')) {
      this.d.logger.debug({ client, code: refused ?? err.code, reason: err.message.trim() }, 'TLS handshake failed');
    }
  }
}

/**
 * The TCP connection a server-side TLS socket wraps. Node keeps it as `_parent` (not documented;
 * the same on Node 20, 22 and 24); undefined if that ever changes, and callers must cope.
 */
function tcpOf(socket: tls.TLSSocket): net.Socket | undefined {
  // A property Node's TLSSocket sets and its types do not declare: read through a narrow view.
  const parent = (socket as unknown as { _parent?: unknown })._parent;
  return parent instanceof Object && parent !== socket ? parent as net.Socket : undefined;
}
