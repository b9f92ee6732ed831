/**
 * The TLS topology (`--protocol tls`): one self-signed EC P-256 certificate
 * for 127.0.0.1, made with openssl in the run's temp directory, and the three
 * proxies terminating it in front of the NGINX-backend topology's plain-HTTP
 * backend — Outrigger (TLS_CERT_FILE/TLS_KEY_FILE), HAProxy (`bind … ssl crt`)
 * and NGINX (`listen … ssl`). Also the client settings that keep wrk from
 * resuming TLS sessions, and a probe that shows whether a target resumes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haproxyConf, startHaproxy } from './haproxy.js';
import { freePort, waitForHttp } from './processes.js';
import { tlsProxyConf, startNginx } from './nginx.js';
import { outriggerTarget } from './targets.js';

/**
 * Writes cert.pem, key.pem and (for HAProxy) both in one file into dir.
 * @returns {{ certFile: string, keyFile: string, pemFile: string, label: string }}
 */
export function makeCertificate(dir) {
  const [certFile, keyFile, pemFile] = ['cert.pem', 'key.pem', 'haproxy.pem'].map((f) => join(dir, f));
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.error?.message ?? r.stderr}`);
  writeFileSync(pemFile, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'));
  return { certFile, keyFile, pemFile, label: 'self-signed, EC P-256 (ECDSA), CN and subjectAltName IP 127.0.0.1' };
}

/**
 * OpenSSL configuration for the load tool (via OPENSSL_CONF): `-SessionTicket`
 * makes the client ask for no session ticket, so a reconnecting wrk cannot
 * resume by ticket; resumption by session ID needs a server-side session cache,
 * which none of the targets keeps (HAProxy's is set to 0 below).
 */
export function writeClientConf(dir) {
  const file = join(dir, 'openssl-client.cnf');
  writeFileSync(file, `openssl_conf = conf
[conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = client
[client]
Options = -SessionTicket
`);
  return file;
}

/**
 * `openssl s_client -tls1_2 -reconnect` (TLS 1.2: what wrk negotiates) against
 * hostPort (one full handshake, then 5
 * reconnects offering the session), with or without the bench's client
 * settings: how many reconnects the target resumed, and the negotiated cipher.
 */
export function probeResumption(hostPort, clientConf) {
  const env = { ...process.env };
  if (clientConf === undefined) delete env.OPENSSL_CONF;
  else env.OPENSSL_CONF = clientConf;
  const r = spawnSync('openssl', ['s_client', '-connect', hostPort, '-tls1_2', '-reconnect'], { input: '', env, encoding: 'utf8', timeout: 15000 });
  const lines = (r.stdout ?? '').split('\n');
  const reused = lines.filter((l) => l.startsWith('Reused,')).length;
  const fresh = lines.filter((l) => l.startsWith('New,'));
  return { reused, of: reused + fresh.length - 1, cipher: fresh[0]?.replace(/^New, /, '') ?? `(no handshake: ${(r.stderr ?? '').slice(-200)})` };
}

/** @param {{ mainJs: string, cert: ReturnType<typeof makeCertificate> }} o */
export function tlsTargets({ mainJs, cert }) {
  const o = outriggerTarget({
    name: 'outrigger', label: 'Outrigger (TLS, access log on)', mainJs, accessLog: true,
    env: { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile },
  });
  const outrigger = {
    ...o,
    async start(ctx) {
      const pid = await o.start.call(this, ctx); // waits for /readyz on the (plain) admin port
      this.url = this.url.replace('http://', 'https://');
      return pid;
    },
  };
  return [outrigger, haproxyTlsTarget(cert), nginxTlsTarget(cert)];
}

/** HAProxy, 1 thread, `bind … ssl crt`, no session cache, connection reuse to the backend, HTTP log to a file. */
function haproxyTlsTarget(cert) {
  return {
    name: 'haproxy', label: 'HAProxy (TLS, 1 thread)', kind: 'rival',
    async start(ctx) {
      const port = await freePort();
      const { child, logFile } = startHaproxy(ctx, 'haproxy-tls', haproxyConf({
        bind: `127.0.0.1:${port} ssl crt ${cert.pemFile}`, global: ['tune.ssl.cachesize 0'],
        servers: [`server s1 ${ctx.backendUrl.replace('http://', '')}`],
      }));
      this.logFile = logFile;
      this.url = `https://127.0.0.1:${port}/ping`;
      await waitForHttp(this.url, { child });
      return child.pid;
    },
  };
}

/** NGINX, 1 worker (measured; its master is not), `listen … ssl`, upstream keep-alive, access log to a file. */
function nginxTlsTarget(cert) {
  return {
    name: 'nginx', label: 'NGINX (TLS, 1 worker)', kind: 'rival',
    async start(ctx) {
      const port = await freePort();
      const dir = join(ctx.dir, 'nginx-tls');
      this.logFile = join(dir, 'access.log');
      this.url = `https://127.0.0.1:${port}/ping`;
      const conf = tlsProxyConf(dir, port, ctx.backendUrl.replace('http://', ''), this.logFile, cert.certFile, cert.keyFile);
      const { workers } = await startNginx(ctx.group, { name: 'nginx', dir, conf, cpu: ctx.proxyCpu, readyUrl: this.url });
      return workers;
    },
  };
}
