/**
 * A raw TCP backend on 127.0.0.1:0 that plays scripted answers byte by
 * byte, including answers no real server should send. Each request head is
 * matched by its path: `/good` gets a valid `200 good`; any other path gets
 * what `script(path)` says. It records, per path, the first header name it
 * received, which tells the proxy's upstream clients apart (undici
 * writes `host` in lower case first; node:http and the lean engine keep the
 * client's `Host`, and node:http adds `Connection: keep-alive`).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export const GOOD_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood';

/** What the backend does once a request head arrived (it does not wait for the body). */
export type Play =
  | string
  | { readonly bytes: string; readonly close?: boolean }
  | ((socket: net.Socket) => void);

export interface ScriptedBackend {
  readonly port: number;
  /** First header name of the latest request per path. */
  readonly firstHeader: Map<string, string>;
  /** Every header name of the latest request per path, in order (node:http adds `Connection`; the lean engine does not). */
  readonly headerNames: Map<string, string[]>;
  close(): Promise<void>;
}

export async function startScriptedBackend(script: (path: string) => Play): Promise<ScriptedBackend> {
  const firstHeader = new Map<string, string>();
  const headerNames = new Map<string, string[]>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let skip = 0;
    let chunked = false;
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buffered.length);
          buffered = buffered.slice(n);
          skip -= n;
        }
        if (chunked) {
          // Chunked bodies in these tests carry no trailers: the last chunk ends them.
          const last = buffered.indexOf('0\r\n\r\n');
          if (last < 0) return;
          buffered = buffered.slice(last + 5);
          chunked = false;
        }
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0 || socket.destroyed) return;
        const lines = buffered.slice(0, end).split('\r\n');
        buffered = buffered.slice(end + 4);
        const path = lines[0]!.split(' ')[1] ?? '/';
        firstHeader.set(path, lines[1]?.split(':')[0] ?? '');
        headerNames.set(path, lines.slice(1).map((l) => l.split(':')[0]!));
        // Bodies in these tests come with a Content-Length or chunked; skip them to find the next head.
        const cl = lines.find((l) => /^content-length:/i.test(l));
        skip = cl === undefined ? 0 : Number(cl.slice(cl.indexOf(':') + 1).trim());
        chunked = lines.some((l) => /^transfer-encoding:\s*chunked\s*$/i.test(l));
        play(socket, path === '/good' ? GOOD_ANSWER : script(path));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    firstHeader,
    headerNames,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function play(socket: net.Socket, p: Play): void {
  if (typeof p === 'function') return p(socket);
  const { bytes, close } = typeof p === 'string' ? { bytes: p, close: false } : p;
  socket.write(Buffer.from(bytes, 'latin1'));
  if (close === true) socket.end();
}

/**
 * Writes `unit` again and again with backpressure (the socket's own), until
 * the peer goes away or `maxBytes`/`maxMs` are reached: bounded either way.
 */
export function flood(socket: net.Socket, unit: string, maxBytes: number, maxMs: number): void {
  const chunk = Buffer.from(unit.repeat(Math.max(1, Math.floor(16384 / unit.length))), 'latin1');
  const timer = setTimeout(() => socket.destroy(), maxMs);
  socket.once('close', () => clearTimeout(timer));
  let sent = 0;
  const pump = (): void => {
    while (!socket.destroyed && sent < maxBytes) {
      sent += chunk.length;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
    socket.destroy();
  };
  pump();
}
