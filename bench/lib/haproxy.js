/**
 * HAProxy for the benchmark, as bench/lib/nginx.js is for NGINX: one
 * configuration shape (1 thread, `mode http`, HTTP log lines to a file via
 * stdout, connection reuse to the backends) and one way to start it pinned
 * to the proxy's CPU. Each topology gives only what differs: the bind line,
 * the servers, and any extra global lines.
 */
import { openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBin } from './processes.js';

/** @param {{ bind: string, servers: string[], global?: string[], keepAlive?: boolean, balance?: string }} o */
export function haproxyConf({ bind, servers, global = [], keepAlive = true, balance }) {
  return ['global', '  nbthread 1', '  maxconn 4000', ...global.map((l) => `  ${l}`),
    'defaults', '  mode http', '  log stdout format raw local0', '  option httplog',
    ...(keepAlive ? ['  option http-keep-alive'] : []),
    '  option forwardfor', '  timeout connect 2s', '  timeout client 65s', '  timeout server 30s',
    'frontend fe', `  bind ${bind}`, '  default_backend be',
    'backend be', ...(balance ? [`  balance ${balance}`] : []), '  http-reuse always', ...servers.map((s) => `  ${s}`), ''].join('\n');
}

/** Writes `conf` as `<name>.cfg` in the run's directory and starts HAProxy on the proxy CPU; returns { child, logFile }. */
export function startHaproxy(ctx, name, conf) {
  const file = join(ctx.dir, `${name}.cfg`);
  writeFileSync(file, conf);
  const logFile = join(ctx.dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = ctx.group.start('haproxy', findBin('haproxy') ?? 'haproxy', ['-db', '-f', file], { cpu: ctx.proxyCpu, stdout: fd });
  closeSync(fd);
  return { child, logFile };
}
