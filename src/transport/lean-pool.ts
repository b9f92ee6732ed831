/**
 * Keep-alive TCP connections to plain-http backends for the lean engine
 * (transport/engine-lean): per backend a stack of idle connections (the
 * most recently used first), opened on demand, never limited in number or
 * pipelined. An idle connection is closed after UPSTREAM_KEEPALIVE_MS, or
 * one second before the backend's own `Keep-Alive: timeout` when that is
 * shorter, and checked for age and a close from the backend when it is
 * taken, so a connection the backend is about to close is not written to.
 * Any byte or close from the backend while idle drops the connection.
 */
import net from 'node:net';
import type { Backend } from '../upstream/backend.js';

/** Who is using a connection now: its events go there. */
export interface ConnUser {
  connected(): void;
  data(chunk: Buffer): void;
  /** The backend ended or reset the connection, or it failed to open (`err` then). */
  closed(err: Error | undefined): void;
}

/** Closed this long before the backend's advertised keep-alive timeout runs out. */
const HINT_MARGIN_MS = 1000;

/** The pool was closed (shutdown) with the exchange on it still running. */
export class PoolClosedError extends Error {
  constructor() {
    super('the upstream connection pool was closed');
  }
}

export class LeanConn {
  user: ConnUser | undefined;
  connected = false;
  /** It carried an exchange before this one (a failure before any answer byte may be its idle close). */
  reused = false;
  idleSince = 0;
  idleLimitMs = 0;
  private failure: Error | undefined;

  constructor(readonly socket: net.Socket, private readonly forget: (c: LeanConn) => void) {
    socket.on('connect', () => {
      this.connected = true;
      this.user?.connected();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.user !== undefined) this.user.data(chunk);
      else socket.destroy(); // an idle connection has nothing to say
    });
    socket.on('end', () => {
      const user = this.user;
      this.user = undefined;
      user?.closed(undefined);
      socket.destroy();
    });
    socket.on('error', (err: Error) => {
      this.failure = err;
    });
    socket.on('close', () => {
      this.forget(this);
      const user = this.user;
      this.user = undefined;
      user?.closed(this.failure);
    });
  }

  /** Usable for another exchange: open both ways, nothing pending. */
  get alive(): boolean {
    const s = this.socket;
    return !s.destroyed && !s.readableEnded && s.writable;
  }
}

/** The lean engine's connections, for every backend. */
export class LeanPools {
  private readonly idle = new Map<string, LeanConn[]>();
  private readonly all = new Set<LeanConn>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly keepaliveMs: number) {}

  /** An idle connection to `backend` still young enough, or a new one (`fresh` forces a new one). */
  take(backend: Backend, user: ConnUser, fresh = false): LeanConn {
    const stack = fresh ? undefined : this.idle.get(backend.id);
    if (stack !== undefined) {
      const now = performance.now();
      for (let conn = stack.pop(); conn !== undefined; conn = stack.pop()) {
        if (conn.alive && now - conn.idleSince < conn.idleLimitMs) {
          conn.user = user;
          conn.reused = true;
          return conn;
        }
        conn.socket.destroy();
      }
    }
    const socket = net.connect({ host: backend.host, port: backend.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    const conn = new LeanConn(socket, this.forgetConn);
    conn.user = user;
    this.all.add(conn);
    return conn;
  }

  /** The exchange on `conn` is over and its connection may carry another (`hintS`: the backend's Keep-Alive timeout). */
  give(backend: Backend, conn: LeanConn, hintS: number | undefined): void {
    conn.user = undefined;
    const limit = hintS === undefined ? this.keepaliveMs : Math.min(this.keepaliveMs, hintS * 1000 - HINT_MARGIN_MS);
    if (!conn.alive || limit <= 0 || backend.removed || this.closed) {
      conn.socket.destroy();
      return;
    }
    conn.socket.resume();
    conn.idleSince = performance.now();
    conn.idleLimitMs = limit;
    let stack = this.idle.get(backend.id);
    if (stack === undefined) this.idle.set(backend.id, (stack = []));
    stack.push(conn);
    this.sweeper ??= setInterval(this.sweep, Math.min(this.keepaliveMs, 1000)).unref();
  }

  /** Closes the idle connections of a removed backend; in-flight ones finish. */
  forget(id: string): void {
    for (const conn of this.idle.get(id) ?? []) conn.socket.destroy();
    this.idle.delete(id);
  }

  /** Closes every connection, in flight or not: an exchange still running fails (never as complete, never sent again). */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const conn of this.all) conn.socket.destroy(conn.user === undefined ? undefined : new PoolClosedError());
    this.idle.clear();
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    let left = 0;
    for (const [id, stack] of this.idle) {
      const kept: LeanConn[] = [];
      for (const c of stack) {
        if (c.alive && now - c.idleSince < c.idleLimitMs) kept.push(c);
        else c.socket.destroy();
      }
      if (kept.length === 0) this.idle.delete(id);
      else this.idle.set(id, kept);
      left += kept.length;
    }
    if (left === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  };

  private readonly forgetConn = (conn: LeanConn): void => {
    this.all.delete(conn);
  };
}
