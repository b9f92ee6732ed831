/**
 * The HTTP/2 topology (`--protocol h2`): three h2c backends in one NGINX
 * (one worker, one port each, pinned with the load generator), and the
 * proxies that spread h2c client streams over them — Outrigger with
 * `h2c://` backends, HAProxy with `proto h2` on both sides, NGINX with
 * `grpc_pass` — plus Outrigger over HTTP/1.1 to the NGINX-backend topology's
 * single backend, measured with wrk in the same run as the reference for
 * CPU per request.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { haproxyConf, startHaproxy } from './haproxy.js';
import { freePort } from './processes.js';
import { h2BackendConf, grpcProxyConf, startNginx } from './nginx.js';
import { outriggerTarget } from './targets.js';
import { waitForH2 } from './h2-client.js';

const BACKENDS = 3;
/** The backends' count log is flushed every second: wait this long before reading it. */
const FLUSH_WAIT_MS = 1300;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @returns {Promise<{ hostPorts: string[], label: string, mark(): Promise<number>, countSince(mark: number): Promise<number[]> }>}
 */
export async function startH2Backends({ group, dir, cpu }) {
  const ports = [];
  for (let i = 0; i < BACKENDS; i++) ports.push(await freePort());
  const nginxDir = join(dir, 'nginx-h2-backends');
  const countLog = join(nginxDir, 'count.log');
  await startNginx(group, {
    name: 'nginx-h2-backends', dir: nginxDir, conf: h2BackendConf(nginxDir, ports, countLog), cpu,
    readyUrl: `http://127.0.0.1:${ports[0]}/ping`, waitReady: waitForH2,
  });
  for (const port of ports.slice(1)) await waitForH2(`http://127.0.0.1:${port}/ping`);
  const size = () => statSync(countLog, { throwIfNoEntry: false })?.size ?? 0;
  return {
    hostPorts: ports.map((p) => `127.0.0.1:${p}`),
    label: `NGINX, 1 worker, ${BACKENDS} h2c ports, \`return 200\` with a 12-byte body`,
    /** Where the count log ends once earlier requests are flushed to it. */
    async mark() {
      await sleep(FLUSH_WAIT_MS);
      return size();
    },
    /** Requests per backend (in port order) logged after mark. */
    async countSince(mark) {
      await sleep(FLUSH_WAIT_MS);
      const lines = readFileSync(countLog, 'utf8').slice(mark).split('\n');
      return ports.map((p) => lines.filter((l) => l === String(p)).length);
    },
  };
}

/**
 * @param {{ mainJs: string, h2Backends: string[] }} o
 * @returns the targets of the HTTP/2 run; `load` says which tool measures each.
 */
export function h2Targets({ mainJs, h2Backends }) {
  const h1 = outriggerTarget({ name: 'outrigger-h1', label: 'Outrigger, HTTP/1.1 (wrk, 1 backend)', mainJs, accessLog: true });
  const h2 = outriggerTarget({
    name: 'outrigger', label: 'Outrigger, h2c (3 h2c backends)', mainJs, accessLog: true,
    env: { BACKENDS: h2Backends.map((hp) => `h2c://${hp}`).join(','), LB_ALGORITHM: 'round-robin' },
  });
  return [{ ...h1, load: 'wrk' }, { ...h2, load: 'h2load' }, haproxyH2Target(h2Backends), nginxGrpcTarget(h2Backends)];
}

/** NGINX, 1 worker: an h2c listener and grpc_pass to the three backends (see grpcProxyConf). */
function nginxGrpcTarget(h2Backends) {
  return {
    name: 'nginx', label: 'NGINX 1.22 (1 worker, grpc_pass)', kind: 'rival', load: 'h2load',
    async start(ctx) {
      const port = await freePort();
      const dir = join(ctx.dir, 'nginx-grpc');
      this.logFile = join(dir, 'access.log');
      this.url = `http://127.0.0.1:${port}/ping`;
      const conf = grpcProxyConf(dir, port, h2Backends, this.logFile);
      const { workers } = await startNginx(ctx.group, { name: 'nginx', dir, conf, cpu: ctx.proxyCpu, readyUrl: this.url, waitReady: waitForH2 });
      return workers;
    },
  };
}

/** HAProxy, 1 thread: `bind … proto h2`, round robin over `server … proto h2`, HTTP log to a file. */
function haproxyH2Target(h2Backends) {
  return {
    name: 'haproxy', label: 'HAProxy 2.6 (1 thread, proto h2)', kind: 'rival', load: 'h2load',
    async start(ctx) {
      const port = await freePort();
      const { child, logFile } = startHaproxy(ctx, 'haproxy-h2', haproxyConf({
        bind: `127.0.0.1:${port} proto h2`, keepAlive: false, balance: 'roundrobin',
        servers: h2Backends.map((hp, i) => `server s${i + 1} ${hp} proto h2`),
      }));
      this.logFile = logFile;
      this.url = `http://127.0.0.1:${port}/ping`;
      await waitForH2(this.url, { child });
      return child.pid;
    },
  };
}
