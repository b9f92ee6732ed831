/**
 * What the benchmark measures, each behind the same URL path on 127.0.0.1:
 * the backend itself, Outrigger (access log on and off, plus any extra build
 * given with --variant), node-http-proxy, and NGINX / HAProxy when installed.
 * A target's start() returns the pid to sample (the proxy), or null.
 */
import { openSync, closeSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { freePort, waitForHttp } from './processes.js';

const HTTP_PROXY_SERVER = fileURLToPath(new URL('../http-proxy-server.js', import.meta.url));

/**
 * @typedef {{ group: import('./processes.js').ProcessGroup, dir: string, backendUrl: string, proxyCpu: string|undefined }} Ctx
 * @typedef {{ name: string, label: string, kind: 'direct'|'outrigger'|'rival', logFile?: string, url?: string, start(ctx: Ctx): Promise<number|null> }} Target
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

/** @param {{ name: string, label: string, mainJs: string, accessLog: boolean, env?: Record<string, string> }} o */
export function outriggerTarget({ name, label, mainJs, accessLog, env = {} }) {
  return {
    name, label, kind: 'outrigger',
    async start(ctx) {
      const [port, adminPort] = [await freePort(), await freePort()];
      // Access lines go to a file (what a node's log collector reads), or where BENCH_STDOUT says (e.g. /dev/null).
      const { BENCH_STDOUT: stdoutPath, ...outriggerEnv } = env;
      if (stdoutPath === undefined) this.logFile = join(ctx.dir, `${name}.log`);
      const fd = openSync(stdoutPath ?? this.logFile, 'a'); // O_APPEND: the runner may truncate it between runs
      const child = ctx.group.start(name, process.execPath, [mainJs], {
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
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** NGINX, one worker, upstream keep-alive, access log to a file (combined format, unbuffered). */
export function nginxTarget() {
  return {
    name: 'nginx', label: 'NGINX (1 worker)', kind: 'rival', optional: true,
    async start(ctx) {
      const port = await freePort();
      const dir = join(ctx.dir, 'nginx');
      mkdirSync(dir, { recursive: true });
      this.logFile = join(dir, 'access.log');
      const conf = `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${this.logFile};
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream backend { server ${ctx.backendUrl.replace('http://', '')}; keepalive 256; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
      writeFileSync(join(dir, 'nginx.conf'), conf);
      const child = ctx.group.start('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { cpu: ctx.proxyCpu });
      this.url = `http://127.0.0.1:${port}/ping`;
      await waitForHttp(this.url, { child });
      return child.pid;
    },
  };
}

/** HAProxy, one thread, connection reuse to the backend, HTTP log lines to a file via stdout. */
export function haproxyTarget() {
  return {
    name: 'haproxy', label: 'HAProxy (1 thread)', kind: 'rival', optional: true,
    async start(ctx) {
      const port = await freePort();
      const conf = join(ctx.dir, 'haproxy.cfg');
      writeFileSync(conf, `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  log stdout format raw local0
  option httplog
  option http-keep-alive
  option forwardfor
  timeout connect 2s
  timeout client 65s
  timeout server 30s
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  http-reuse always
  server s1 ${ctx.backendUrl.replace('http://', '')}
`);
      this.logFile = join(ctx.dir, 'haproxy.log');
      const fd = openSync(this.logFile, 'a');
      const child = ctx.group.start('haproxy', 'haproxy', ['-db', '-f', conf], { cpu: ctx.proxyCpu, stdout: fd });
      closeSync(fd);
      this.url = `http://127.0.0.1:${port}/ping`;
      await waitForHttp(this.url, { child });
      return child.pid;
    },
  };
}
