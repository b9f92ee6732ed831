/**
 * The TLS identity and trust Outrigger uses towards `https` and `h2`
 * backends (SPEC §9), in one place for every path that speaks TLS to a
 * backend: the node:http Agents and HTTP/2 sessions of transport/, the
 * tunnels of transport/connect, and the health probes.
 *
 * - Trust: Node's default CAs (NODE_EXTRA_CA_CERTS included) plus
 *   UPSTREAM_TLS_CA_FILE; verification is always on.
 * - Identity: UPSTREAM_TLS_CERT_FILE/UPSTREAM_TLS_KEY_FILE as a client
 *   certificate (mTLS). Rotated by tls/rotation: setMaterial() makes new
 *   connections use the new pair (`generation` tells transport/pool to
 *   replace its https Agents); established connections carry on with theirs.
 * - Name: UPSTREAM_TLS_SERVER_NAME is the SNI and the name verified; unset,
 *   the backend's host, with no SNI for an IP (the IP is then verified).
 */
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { Metrics } from '../metrics.js';
import type { TlsMaterial } from './cert-files.js';
import type { UpstreamTlsConfig } from './tls-config.js';

/** The TLS options of one connection, as tls.connect, https.Agent and http2.connect take them. */
/** The TLS options of one connection, as tls.connect, https.Agent and http2.connect take them. */
export type UpstreamTlsOptions = Pick<tls.ConnectionOptions, 'secureContext' | 'servername' | 'rejectUnauthorized'>;

/** The native part of a SecureContext, typed `any` by @types/node: only the method used here. */
interface NativeContext {
  addCACert(pem: string): void;
}

/**
 * A secure context with the client pair, trusting Node's default CAs
 * (NODE_EXTRA_CA_CERTS included) plus `material.ca`: a context made without
 * `ca` starts from the default store, and adding to it copies that store.
 */
function contextFor(material: TlsMaterial): tls.SecureContext {
  const context = tls.createSecureContext({ cert: material.cert, key: material.key });
  if (material.ca !== undefined) (context.context as NativeContext).addCACert(material.ca);
  return context;
}

export class UpstreamTls {
  /** Bumped by every setMaterial(): an Agent made under an older generation is replaced. */
  generation = 0;
  private base: UpstreamTlsOptions = { rejectUnauthorized: true };

  constructor(private readonly config: Pick<UpstreamTlsConfig, 'serverName' | 'material'>, private readonly metrics?: Metrics) {
    if (config.material !== undefined) this.setMaterial(config.material);
  }

  /** Rotation: connections opened from now on use `material` (already checked by tls/cert-files). */
  setMaterial(material: TlsMaterial): void {
    this.base = { rejectUnauthorized: true, secureContext: contextFor(material) };
    if (this.config.material !== material) this.generation += 1;
    if (material.notAfter !== undefined) this.metrics?.tlsCertificateExpiry.set({ cert: 'upstream_client' }, material.notAfter);
  }

  /**
   * The options for a new TLS connection to `host`. An empty servername
   * sends no SNI; Node then verifies the certificate against `host`.
   */
  optionsFor(host: string): UpstreamTlsOptions {
    const servername = this.config.serverName ?? (isIP(host) === 0 ? host : '');
    return { ...this.base, servername };
  }
}
