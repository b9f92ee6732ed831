/**
 * Where Outrigger's idle memory goes: the RSS (and V8 heap in use) of a
 * fresh process that loads one more piece at a time, per runtime.
 *
 *   node bench/startup-memory.js [--node-bin LABEL=PATH]… [--flags "NODE FLAGS"]
 *
 * Steps, each in its own process so nothing carries over: bare node with a
 * timer; + node:http/net/tls/http2; + each runtime dependency alone (pino,
 * prom-client with its default collectors, undici, envalid, the
 * OpenTelemetry trace SDK and exporter); + all of them; then the built
 * Outrigger itself idle (dist/main.js with one backend, admin and traffic
 * ports on 127.0.0.1:0). Each value is read after a settle time and a GC.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runtimes } from './lib/runtimes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SETTLE_MS = 3000;
const { values: args } = parseArgs({ options: { 'node-bin': { type: 'string', multiple: true, default: [] }, flags: { type: 'string', default: '' } } });

const CORE = "await import('node:http'); await import('node:net'); await import('node:tls'); await import('node:http2');";
const STEPS = [
  ['bare node (a timer)', ''],
  ['+ node:http, net, tls, http2', CORE],
  ['+ pino', `${CORE} const { pino } = await import('pino'); pino({}, process.stdout);`],
  ['+ prom-client, default collectors', `${CORE} const p = await import('prom-client'); p.collectDefaultMetrics();`],
  ['+ undici (Pool)', `${CORE} const { Pool } = await import('undici'); new Pool('http://127.0.0.1:9');`],
  ['+ envalid', `${CORE} await import('envalid');`],
  ['+ OpenTelemetry SDK + OTLP exporter', `${CORE} await import('@opentelemetry/sdk-trace-base'); await import('@opentelemetry/exporter-trace-otlp-proto');`],
  ['+ pino, prom-client, undici, envalid', `${CORE} const { pino } = await import('pino'); pino({}, process.stdout); const p = await import('prom-client'); p.collectDefaultMetrics(); const { Pool } = await import('undici'); new Pool('http://127.0.0.1:9'); await import('envalid');`],
];

/** RSS and heap of a process running `code`, read from inside after SETTLE_MS and a GC. */
function measure(bin, flags, code, env = {}) {
  const report = `setTimeout(() => { globalThis.gc?.(); const m = process.memoryUsage(); process.stderr.write('MEM ' + JSON.stringify(m) + '\\n'); process.exit(0); }, ${SETTLE_MS});`;
  return run(bin, [...flags, '--expose-gc', '--input-type=module', '-e', `${code} setInterval(() => {}, 1000); ${report}`], env);
}

/** The built Outrigger idle: its own process, measured from /proc after SETTLE_MS (the report comes from a preload). */
function measureOutrigger(bin, flags) {
  const preload = `data:text/javascript,${encodeURIComponent(`setTimeout(() => { globalThis.gc?.(); process.stderr.write('MEM ' + JSON.stringify(process.memoryUsage()) + '\\n'); process.exit(0); }, ${SETTLE_MS * 2}).unref();`)}`;
  return run(bin, [...flags, '--expose-gc', '--import', preload, 'dist/main.js'], {
    BACKENDS: 'http://127.0.0.1:9', PROXY_HOST: '127.0.0.1', PROXY_PORT: '0', ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0', HEALTH_CHECK_TYPE: 'tcp', NODE_ENV: 'production',
  });
}

function run(bin, argv, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), SETTLE_MS * 4);
    child.on('close', () => {
      clearTimeout(watchdog);
      const line = err.split('\n').find((l) => l.startsWith('MEM '));
      if (line === undefined) reject(new Error(`${argv.join(' ')}: no report: ${err.slice(-500)}`));
      else resolve(JSON.parse(line.slice(4)));
    });
  });
}

const mib = (b) => (b / 1048576).toFixed(1);
const flags = args.flags.split(/\s+/).filter(Boolean);
const rts = runtimes(args['node-bin']);
console.log(`startup memory, ${flags.length ? `flags ${flags.join(' ')}` : 'no flags'}; RSS / V8 heap used, MiB, after ${SETTLE_MS / 1000} s and a GC\n`);
console.log(`| step | ${rts.map((r) => `Node ${r.label} RSS | heap used`).join(' | ')} |`);
console.log(`|---|${rts.map(() => '---:|---:').join('|')}|`);
for (const [label, code] of STEPS) {
  const cells = [];
  for (const rt of rts) {
    const m = await measure(rt.bin, flags, code);
    cells.push(mib(m.rss), mib(m.heapUsed));
  }
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
const cells = [];
for (const rt of rts) {
  const m = await measureOutrigger(rt.bin, flags);
  cells.push(mib(m.rss), mib(m.heapUsed));
}
console.log(`| Outrigger idle (dist/main.js) | ${cells.join(' | ')} |`);
