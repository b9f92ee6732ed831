/**
 * `npm run demo`: three demo backends on 127.0.0.1:8081-8083 and the balancer
 * on :8080 (admin :9901) with weights 1:3:2, logs made readable by
 * pino-pretty. Ctrl-C stops everything. Any variable set in the environment
 * overrides the demo's choice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const PORTS = [8081, 8082, 8083];
const WEIGHTS = [1, 3, 2];

const children: ChildProcess[] = [];
for (const port of PORTS) {
  // detached: Ctrl-C reaches only this launcher, which stops the balancer with one SIGTERM.
  const child = spawn(process.execPath, [join(here, 'backend.js'), String(port)], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  children.push(child);
}

const env = {
  BACKENDS: PORTS.map((p, i) => `http://127.0.0.1:${p};weight=${WEIGHTS[i]}`).join(','),
  HEALTH_CHECK_TYPE: 'http',
  HEALTH_CHECK_INTERVAL_MS: '2000',
  UNHEALTHY_THRESHOLD: '2',
  SHUTDOWN_DELAY_MS: '1000',
  DRAIN_TIMEOUT_MS: '5000',
  ...process.env,
};
const balancer = spawn(process.execPath, [join(here, '..', 'main.js')], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
children.push(balancer);

// pino-pretty is a dev dependency: the demo is for people, production logs stay JSON.
const require = createRequire(import.meta.url);
const pretty = (require('pino-pretty') as (o: object) => NodeJS.WritableStream)({ colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' });
balancer.stdout?.pipe(pretty);

// The ports the balancer will use: the environment's, or the defaults (SPEC §2).
const proxyPort = process.env.PROXY_PORT ?? '8080';
const adminPort = process.env.ADMIN_PORT ?? '9901';
process.stdout.write(`\nOutrigger demo: backends ${PORTS.join(', ')} (weights ${WEIGHTS.join(':')})\n` +
  `  try:  curl localhost:${proxyPort}/ping      dashboard: http://localhost:${adminPort}/\n` +
  `        curl localhost:${adminPort}/metrics   Ctrl-C to stop\n\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  balancer.kill('SIGTERM');
  balancer.once('exit', () => {
    for (const child of children) child.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200).unref();
  });
};
process.on('SIGINT', stop);
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
process.on('SIGTERM', stop);
balancer.once('exit', (code) => {
  if (stopping) return;
  process.stderr.write(`balancer exited with code ${code}\n`);
  for (const child of children) child.kill('SIGTERM');
  process.exitCode = code ?? 1;
});
