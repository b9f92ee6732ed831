/**
 * Multiplexed HTTP/2 sessions to `h2c` and `h2` backends. Per backend, one
 * session carries every stream; another opens only when each open session
 * holds as many streams as its peer's SETTINGS_MAX_CONCURRENT_STREAMS (we
 * count them ourselves). A session is usable once the peer's first SETTINGS
 * arrived, within CONNECT_TIMEOUT_MS (TLS included); transport/h2-session
 * keeps each one alive (PING) or ends it. A GOAWAY from the backend drains
 * it: no new stream, the open ones finish.
 */
import http2 from 'node:http2';
import { isIP } from 'node:net';
import { ConnectFailedError } from '../errors.js';
import type { Backend } from '../upstream/backend.js';
import { H2Session, type H2SessionOptions } from './h2-session.js';

/** Sessions per backend, at most (each with the peer's stream limit): a peer advertising 0 streams cannot make us open more. */
export const MAX_SESSIONS_PER_BACKEND = 64;

interface Waiter {
  readonly onSession: (session: H2Session) => void;
  readonly onError: (err: ConnectFailedError) => void;
}

class BackendSessions {
  readonly sessions: H2Session[] = [];
  readonly waiters: Waiter[] = [];
  connecting: H2Session | undefined;
}

export class H2SessionPool {
  private readonly backends = new Map<string, BackendSessions>();

  constructor(private readonly o: H2SessionOptions) {}

  /**
   * Calls `onSession` (synchronously, from the pool) with a session that has
   * room for one stream, which the caller opens at once; or `onError` when
   * the session could not be opened. Returns a cancel for the wait.
   */
  acquire(backend: Backend, onSession: Waiter['onSession'], onError: Waiter['onError']): () => void {
    let entry = this.backends.get(backend.id);
    if (entry === undefined) this.backends.set(backend.id, (entry = new BackendSessions()));
    const waiter: Waiter = { onSession, onError };
    entry.waiters.push(waiter);
    this.pump(backend, entry);
    return () => {
      const i = entry.waiters.indexOf(waiter);
      if (i >= 0) entry.waiters.splice(i, 1);
    };
  }

  /** Open sessions to `id` (for tests and the admin view). */
  sessionCount(id: string): number {
    return this.backends.get(id)?.sessions.length ?? 0;
  }

  /** A removed backend: its sessions close once their streams finished; waiters fail. */
  forget(id: string): void {
    const entry = this.backends.get(id);
    if (entry === undefined) return;
    this.backends.delete(id);
    this.failWaiters(entry, new ConnectFailedError(id, false, new Error('backend removed')));
    for (const s of [...entry.sessions]) {
      s.draining = true;
      if (s.ready) s.session.close();
      else s.session.destroy();
    }
  }

  close(): void {
    for (const [id, entry] of this.backends) {
      this.failWaiters(entry, new ConnectFailedError(id, false, new Error('closing')));
      for (const s of [...entry.sessions]) s.session.destroy();
    }
    this.backends.clear();
  }

  /** Hands waiters the sessions with room; opens one more session when none has room. */
  private pump(backend: Backend, entry: BackendSessions): void {
    while (entry.waiters.length > 0) {
      const session = entry.sessions.find((s) => s.hasRoom);
      if (session === undefined) break;
      entry.waiters.shift()!.onSession(session);
    }
    if (entry.waiters.length === 0 || entry.connecting !== undefined) return;
    if (this.backends.get(backend.id) !== entry || entry.sessions.length >= MAX_SESSIONS_PER_BACKEND) return;
    entry.connecting = this.connect(backend, entry);
  }

  private connect(backend: Backend, entry: BackendSessions): H2Session {
    const tlsBackend = backend.scheme === 'h2';
    const host = isIP(backend.host) === 6 ? `[${backend.host}]` : backend.host;
    const session = http2.connect(`${tlsBackend ? 'https' : 'http'}://${host}:${backend.port}`, {
      ...(tlsBackend ? this.o.upstreamTls.optionsFor(backend.host) : {}),
      settings: { enablePush: false },
    });
    const s = new H2Session(session, this.o, () => this.pump(backend, entry));
    entry.sessions.push(s);
    let connected = false;
    let settingsSeen = false;
    const connectTimer = this.o.connectTimeoutMs > 0
      ? setTimeout(() => session.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), this.o.connectTimeoutMs)
      : undefined;
    const onReady = () => {
      // Usable once both the connection is up and the peer's first SETTINGS (its stream limit) arrived.
      if (!connected || !settingsSeen || s.ready || session.destroyed) return;
      clearTimeout(connectTimer);
      s.ready = true;
      if (entry.connecting === s) entry.connecting = undefined;
      s.startKeepalive();
      this.pump(backend, entry);
    };
    session.once('connect', () => {
      connected = true;
      onReady();
    });
    session.once('remoteSettings', () => {
      settingsSeen = true;
      onReady();
    });
    session.on('goaway', (_code: number, lastStreamId: number) => {
      s.draining = true;
      s.lastStreamId = Math.min(s.lastStreamId, lastStreamId);
      this.pump(backend, entry);
    });
    let failure: Error | undefined;
    // Without a listener a session error would crash the process; the streams report their own.
    session.on('error', (err: Error) => (failure ??= err));
    session.once('close', () => {
      clearTimeout(connectTimer);
      s.stop();
      s.draining = true;
      const i = entry.sessions.indexOf(s);
      if (i >= 0) entry.sessions.splice(i, 1);
      if (!s.ready) {
        if (entry.connecting === s) entry.connecting = undefined;
        const code = (failure as NodeJS.ErrnoException | undefined)?.code;
        this.failWaiters(entry, new ConnectFailedError(backend.id, code === 'ETIMEDOUT', failure));
      }
      if (entry.sessions.length === 0 && entry.waiters.length === 0 && this.backends.get(backend.id) === entry) this.backends.delete(backend.id);
      else this.pump(backend, entry);
    });
    return s;
  }

  private failWaiters(entry: BackendSessions, err: ConnectFailedError): void {
    for (const w of entry.waiters.splice(0)) w.onError(err);
  }
}
