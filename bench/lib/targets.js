/**
 * What the benchmark measures, each behind the same URL path on 127.0.0.1:
 * the backend itself, Outrigger (access log on and off, plus any extra build
 * given with --variant), the floor (bench/floor-proxy.js), node-http-proxy, and
 * NGINX / HAProxy. A target's start() returns the pid(s) to sample — the
 * proxy's process, or its workers — or null.
 */
import { existsSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haproxyConf, startHaproxy } from './haproxy.js';
import { freePort, waitForHttp, findBin } from './processes.js';
import { proxyConf, startNginx } from './nginx.js';

const HTTP_PROXY_SERVER = fileURLToPath(new URL('../http-proxy-server.js', import.meta.url));
const FLOOR_PROXY = fileURLToPath(new URL('../floor-proxy.js', import.meta.url));

/**
 * @typedef {{ group: import('./processes.js').ProcessGroup, dir: string, backendUrl: string, proxyCpu: string|undefined }} Ctx
 * @typedef {{ name: string, label: string, kind: 'direct'|'outrigger'|'floor'|'rival', optional?: boolean, logFile?: string, url?: string, start(ctx: Ctx): Promise<number|number[]|null> }} Target
 */

export function directTarget() {
  return {
    name: 'direct', label: 'direct (no proxy)', kind: 'direct',
    async start(ctx) {
      this.url = `${ctx.backendUrl}/ping`;
      return null;
    },
  };
}

/**
 * @param {{ name: string, label: string, mainJs: string, accessLog: boolean, env?: Record<string, string>, node?: string, nodeArgs?: string[] }} o
 *   node, nodeArgs: the runtime and its flags (default: this bench's node, no flags)
 */
export function outriggerTarget({ name, label, mainJs, accessLog, env = {}, node = process.execPath, nodeArgs = [] }) {
  return {
    name, label, kind: 'outrigger',
    async start(ctx) {
      const [port, adminPort] = [await freePort(), await freePort()];
      // Access lines go to a file (what a node's log collector reads), or where BENCH_STDOUT says (e.g. /dev/null).
      const { BENCH_STDOUT: stdoutPath, ...outriggerEnv } = env;
      if (stdoutPath === undefined) this.logFile = join(ctx.dir, `${name}.log`);
      const fd = openSync(stdoutPath ?? this.logFile, 'a'); // O_APPEND: the runner may truncate it between runs
      const child = ctx.group.start(name, node, [...nodeArgs, mainJs], {
        cpu: ctx.proxyCpu, stdout: fd, cleanEnv: true,
        env: {
          BACKENDS: ctx.backendUrl, PROXY_HOST: '127.0.0.1', PROXY_PORT: String(port),
          ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), HEALTH_CHECK_TYPE: 'tcp',
          ACCESS_LOG: String(accessLog), LOG_LEVEL: 'info', ...outriggerEnv,
        },
      });
      closeSync(fd);
      await waitForHttp(`http://127.0.0.1:${adminPort}/readyz`, { child });
      this.url = `http://127.0.0.1:${port}/ping`;
      this.metricsUrl = `http://127.0.0.1:${adminPort}/metrics`;
      return child.pid;
    },
  };
}

/** bench/floor-proxy.js: node:http + an undici Pool and nothing else (see that file). No access log. */
export function floorTarget() {
  const t = outriggerTarget({ name: 'floor', label: 'floor (node:http + undici)', mainJs: FLOOR_PROXY, accessLog: false, env: { BENCH_STDOUT: '/dev/null' } });
  return { ...t, kind: 'floor' };
}

/** `--variant LABEL=path/to/main.js[,NAME=VALUE…]`: another Outrigger build (or settings) measured alongside. */
export function variantTarget(spec) {
  const [head, ...envPairs] = spec.split(',');
  const eq = head.indexOf('=');
  const [label, path] = [head.slice(0, eq), head.slice(eq + 1)];
  if (eq <= 0 || !existsSync(path)) throw new Error(`--variant wants LABEL=path/to/main.js[,NAME=VALUE…], got ${spec}`);
  const env = Object.fromEntries(envPairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const accessLog = env.ACCESS_LOG !== 'false';
  return outriggerTarget({ name: `variant:${label}`, label: `Outrigger ${label} (access log ${accessLog ? 'on' : 'off'})`, mainJs: path, accessLog, env });
}

export function httpProxyTarget() {
  return {
    name: 'http-proxy', label: 'node-http-proxy 1.18', kind: 'rival',
    async start(ctx) {
      const port = await freePort();
      const child = ctx.group.start('http-proxy', process.execPath, [HTTP_PROXY_SERVER, String(port), ctx.backendUrl], { cpu: ctx.proxyCpu });
      this.url = `http://127.0.0.1:${port}/ping`;
      await waitForHttp(this.url, { child });
      return child.pid;
    },
  };
}

export function found(cmd) {
  return findBin(cmd) !== null;
}

/** NGINX as a proxy: one worker (measured; its master is not), upstream keep-alive, access log to a file. */
export function nginxTarget({ optional = true } = {}) {
  return {
    name: 'nginx', label: 'NGINX (1 worker)', kind: 'rival', optional,
    async start(ctx) {
      const port = await freePort();
      const dir = join(ctx.dir, 'nginx');
      this.logFile = join(dir, 'access.log');
      this.url = `http://127.0.0.1:${port}/ping`;
      const conf = proxyConf(dir, port, ctx.backendUrl.replace('http://', ''), this.logFile);
      const { workers } = await startNginx(ctx.group, { name: 'nginx', dir, conf, cpu: ctx.proxyCpu, readyUrl: this.url });
      return workers;
    },
  };
}

/** HAProxy, one thread, connection reuse to the backend, HTTP log lines to a file via stdout. */
export function haproxyTarget({ optional = true } = {}) {
  return {
    name: 'haproxy', label: 'HAProxy (1 thread)', kind: 'rival', optional,
    async start(ctx) {
      const port = await freePort();
      const { child, logFile } = startHaproxy(ctx, 'haproxy', haproxyConf({
        bind: `127.0.0.1:${port}`, servers: [`server s1 ${ctx.backendUrl.replace('http://', '')}`],
      }));
      this.logFile = logFile;
      this.url = `http://127.0.0.1:${port}/ping`;
      await waitForHttp(this.url, { child });
      return child.pid;
    },
  };
}
