/**
 * Tools for hostile-client tests: raw client sockets that record what the
 * proxy sent and when it closed, the Outrigger process's own resource use
 * (RSS and open file descriptors, read from /proc), a /metrics scrape, and
 * a parser for the raw HTTP/1.1 responses a pipelining client receives.
 */
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import type { Outrigger } from './outrigger.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A client socket that records every byte received and when the connection closed. */
export interface Watched {
  readonly socket: net.Socket;
  /** When the TCP connection was established (Date.now()). */
  readonly openedAt: number;
  /** Everything received, Latin-1. */
  received(): string;
  /** ms after openedAt when the socket closed, or undefined while open. */
  closedAfter(): number | undefined;
  /** The peer sent FIN (or the socket closed). */
  ended(): boolean;
  /** Resolves when closed or after `timeoutMs` (then false). */
  waitClosed(timeoutMs: number): Promise<boolean>;
  /** Resolves when `pattern` matches what was received, or after `timeoutMs` (then false). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<boolean>;
}

/** Opens a TCP connection to 127.0.0.1:port, optionally writing `first` once connected. */
export function connectWatched(port: number, first?: string | Buffer): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let openedAt = 0;
    let closedAt: number | undefined;
    let gotEnd = false;
    const waiters: Array<() => void> = [];
    const wake = () => { for (const w of waiters.splice(0)) w(); };
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); wake(); });
    socket.on('end', () => { gotEnd = true; wake(); });
    socket.on('error', () => undefined);
    socket.once('close', () => { closedAt = Date.now(); wake(); });
    socket.once('connect', () => {
      openedAt = Date.now();
      if (first !== undefined) socket.write(first);
      const until = (done: () => boolean, timeoutMs: number) => new Promise<boolean>((res) => {
        if (done()) return res(true);
        const timer = setTimeout(() => res(done()), timeoutMs);
        const check = () => { if (done()) { clearTimeout(timer); res(true); } else waiters.push(check); };
        waiters.push(check);
      });
      resolve({
        socket, openedAt,
        received: () => text,
        closedAfter: () => (closedAt === undefined ? undefined : closedAt - openedAt),
        ended: () => gotEnd || closedAt !== undefined,
        waitClosed: (ms) => until(() => closedAt !== undefined, ms),
        waitFor: (pattern, ms) => until(() => pattern.test(text), ms),
      });
    });
    socket.once('error', (err) => { if (openedAt === 0) reject(err); });
  });
}

/** The Outrigger child's resident set size in bytes (VmRSS from /proc). */
export function rssBytes(lb: Outrigger): number {
  const status = readFileSync(`/proc/${lb.child.pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (m === null) throw new Error('no VmRSS in /proc status');
  return Number(m[1]) * 1024;
}

/** How many file descriptors the Outrigger child has open. */
export function openFds(lb: Outrigger): number {
  return readdirSync(`/proc/${lb.child.pid}/fd`).length;
}

/** Samples RSS every `everyMs` until stopped; returns the peak seen. */
export function rssSampler(lb: Outrigger, everyMs = 50): { stop(): number; peak(): number } {
  let peak = rssBytes(lb);
  const timer = setInterval(() => {
    try { peak = Math.max(peak, rssBytes(lb)); } catch { /* process gone: the test will say so */ }
  }, everyMs);
  return { stop: () => { clearInterval(timer); return peak; }, peak: () => peak };
}

export const MiB = 1024 * 1024;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/** The /metrics text of the admin listener. */
export async function scrape(lb: Outrigger): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** Sum of every series of `name` in a Prometheus text exposition. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Polls `probe` every `everyMs` until it returns true or `timeoutMs` passes; returns the last result. */
export async function pollUntil(probe: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Splits raw bytes into HTTP/1.1 responses framed by Content-Length or
 * chunked coding (1xx skipped); `rest` is what is left after the last
 * complete one.
 */
export function parseResponses(raw: string): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let i = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', i);
    if (end < 0) break;
    const head = raw.slice(i, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
    if (!Number.isFinite(status)) break;
    let j = end + 4;
    if (status < 200) { i = j; continue; }
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let body: string;
    if (cl !== null) {
      if (raw.length < j + Number(cl[1])) break;
      body = raw.slice(j, j + Number(cl[1]));
      j += Number(cl[1]);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      body = '';
      let complete = false;
      for (;;) {
        const le = raw.indexOf('\r\n', j);
        if (le < 0) break;
        const size = parseInt(raw.slice(j, le), 16);
        if (!Number.isFinite(size)) break;
        if (size === 0) {
          const te = raw.indexOf('\r\n\r\n', le);
          if (te < 0) break;
          j = te + 4;
          complete = true;
          break;
        }
        if (raw.length < le + 2 + size + 2) break;
        body += raw.slice(le + 2, le + 2 + size);
        j = le + 2 + size + 2;
      }
      if (!complete) break;
    } else {
      body = raw.slice(j); // delimited by close
      j = raw.length;
    }
    responses.push({ status, head, body });
    i = j;
  }
  return { responses, rest: raw.slice(i) };
}
