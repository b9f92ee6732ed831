/**
 * Test harness: starts the real built entrypoint (dist/main.js) as a child
 * process on 127.0.0.1 with ports 0, reads its JSON log lines, and stops it
 * with a signal. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = fileURLToPath(new URL('../../../dist/main.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Outrigger {
  readonly proxyPort: number;
  readonly adminPort: number;
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  waitForReady(timeoutMs?: number): Promise<void>;
  /** Sends `signal` and resolves with the exit code (or kills after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Defaults that keep tests fast; every test may override. */
const TEST_ENV: Record<string, string> = {
  PROXY_HOST: '127.0.0.1',
  PROXY_PORT: '0',
  ADMIN_HOST: '127.0.0.1',
  ADMIN_PORT: '0',
  SHUTDOWN_DELAY_MS: '0',
  DRAIN_TIMEOUT_MS: '2000',
  HEALTH_CHECK_INTERVAL_MS: '200',
  HEALTH_CHECK_TIMEOUT_MS: '200',
  LOG_LEVEL: 'info',
};

/** opts.node / opts.nodeArgs: another runtime and its flags (default: this test's node, no flags). */
export async function startOutrigger(env: Record<string, string>, opts: { waitReady?: boolean; node?: string; nodeArgs?: string[] } = {}): Promise<Outrigger> {
  const child = spawn(opts.node ?? process.execPath, [...(opts.nodeArgs ?? []), MAIN], {
    env: { PATH: process.env.PATH ?? '', ...TEST_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: Array<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (predicate: (l: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> => {
    const found = logs.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ predicate, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`outrigger exited (${code}) before the log line; stderr: ${stderr}`)); });
    });
  };

  const listening = await waitForLog((l) => l.msg === 'listening');
  const proxyPort = (listening.proxy as { port: number }).port;
  const adminPort = (listening.admin as { port: number }).port;

  const o: Outrigger = {
    proxyPort, adminPort, child, logs, exited, waitForLog,
    stderr: () => stderr,
    async waitForReady(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined);
        if (res?.status === 200) return;
        await res?.text();
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('outrigger not ready in time');
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  if (opts.waitReady !== false) await o.waitForReady();
  return o;
}

/** Runs the entrypoint to completion (for config errors); bounded. */
export function runOutrigger(env: Record<string, string>, timeoutMs = 5000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
