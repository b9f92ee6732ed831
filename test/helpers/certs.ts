/**
 * Throwaway certificates for TLS tests, made with the openssl command line in
 * a fresh temporary directory (nothing is committed): a CA, server
 * certificates for localhost and 127.0.0.1, client certificates with a
 * SPIFFE URI SAN. EC P-256 keys, so that making them is quick.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** openssl -subj form: `/O=shop/CN=orders`. */
  readonly subject: string;
  /** subjectAltName value: `DNS:localhost,IP:127.0.0.1`. */
  readonly san?: string;
  /** Hex serial number, without 0x. */
  readonly serial: string;
  readonly clientAuth?: boolean;
  readonly days?: number;
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'outrigger-pki-'));
  private n = 0;

  /** A self-signed CA. */
  async ca(name: string): Promise<CertFiles> {
    const base = join(this.dir, `ca-${this.n++}`);
    await run('openssl', ['req', '-x509', ...KEY_ARGS, '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', '3', '-subj', `/CN=${name}`]);
    return { cert: `${base}.crt`, key: `${base}.key` };
  }

  /** A certificate signed by `ca`. */
  async issue(ca: CertFiles, o: IssueOptions): Promise<CertFiles> {
    const base = join(this.dir, `leaf-${this.n++}`);
    await run('openssl', ['req', ...KEY_ARGS, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', o.subject, '-utf8']);
    const ext = [o.san === undefined ? '' : `subjectAltName=${o.san}`, o.clientAuth === true ? 'extendedKeyUsage=clientAuth' : 'extendedKeyUsage=serverAuth'];
    writeFileSync(`${base}.ext`, ext.filter((l) => l !== '').join('\n') + '\n');
    await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${o.serial}`,
      '-days', String(o.days ?? 2), '-extfile', `${base}.ext`, '-out', `${base}.crt`]);
    return { cert: `${base}.crt`, key: `${base}.key` };
  }

  /** A server certificate for localhost and 127.0.0.1. */
  server(ca: CertFiles, serial: string): Promise<CertFiles> {
    return this.issue(ca, { subject: '/CN=localhost', san: 'DNS:localhost,IP:127.0.0.1', serial });
  }

  read(path: string): string {
    return readFileSync(path, 'utf8');
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The synchronous flavour for unit tests' setup: a CA, a server pair and a second, unrelated pair. */
export function makePkiSync(): { dir: string; ca: CertFiles; server: CertFiles; other: CertFiles; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-pki-'));
  const p = (name: string) => join(dir, name);
  const sh = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  sh(['req', '-x509', ...KEY_ARGS, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '3', '-subj', '/CN=Unit CA']);
  sh(['req', ...KEY_ARGS, '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=localhost']);
  sh(['x509', '-req', '-in', p('srv.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-set_serial', '0x51', '-days', '2', '-out', p('srv.crt')]);
  sh(['req', '-x509', ...KEY_ARGS, '-keyout', p('other.key'), '-out', p('other.crt'), '-days', '3', '-subj', '/CN=other']);
  return {
    dir, ca: { cert: p('ca.crt'), key: p('ca.key') }, server: { cert: p('srv.crt'), key: p('srv.key') }, other: { cert: p('other.crt'), key: p('other.key') },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
