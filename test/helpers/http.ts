/** Small HTTP helpers for tests: real requests on 127.0.0.1, bounded by timeouts. */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createDemoBackend } from '../../src/demo/backend.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
  trailers: NodeJS.Dict<string>;
}

export function request(port: number, path: string, opts: http.RequestOptions & { body?: Buffer | string; timeoutMs?: number } = {}): Promise<Reply> {
  const { body, timeoutMs = 5000, ...rest } = opts;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, ...rest }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: buf, text: buf.toString(), trailers: res.trailers });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`request ${path} timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

export interface TestBackend {
  readonly port: number;
  readonly server: http.Server;
  close(): Promise<void>;
}

/** A demo backend on 127.0.0.1, port 0 (or a given port, to restart a killed one). */
export async function startBackend(port = 0): Promise<TestBackend> {
  const server = createDemoBackend(port);
  // Upgraded sockets leave the HTTP server's books; track them so close() ends them too.
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A plain server with a custom handler on 127.0.0.1:0. */
export async function startServer(handler: http.RequestListener): Promise<{ port: number; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Sends raw bytes and collects everything until the peer closes (or timeout). */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(out); }, timeoutMs);
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => { clearTimeout(timer); resolve(out); });
    socket.on('error', () => undefined);
    socket.write(data);
  });
}

/** A port that refuses connections (bound then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
