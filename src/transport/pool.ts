/**
 * Pooled keep-alive connections to backends, for every engine of
 * transport/: per backend one undici Pool and one `node:http` Agent,
 * each created on first use, and HTTP/2 sessions (transport/h2-sessions). Idle connections close after
 * UPSTREAM_KEEPALIVE_MS (kept below the usual backend keep-alive so that we
 * close first); connections are not limited in number and never pipelined.
 * TLS to `https`/`h2` backends takes its identity, trust and name from
 * tls/upstream-tls; when the client certificate rotates, the https Agents
 * are replaced so that new connections use the new pair (pooled ones carry
 * on until idle).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Pool } from 'undici';
import type { Backend } from '../upstream/backend.js';
import { H2SessionPool } from './h2-sessions.js';
import { UpstreamTls } from '../tls/upstream-tls.js';
import { LeanPools } from './lean-pool.js';

export interface PoolOptions {
  readonly keepaliveMs: number;
  readonly connectTimeoutMs: number;
  /** Defaults to Node's CAs, no client certificate, the backend's host as the name. */
  readonly upstreamTls?: UpstreamTls;
  /** HTTP/2: a PING unanswered this long ends a session with streams in flight (transport/h2-session; tests shorten it). */
  readonly pingDeadMs?: number;
  /** A backend was moved to `node:http` for an unasked 100 Continue (once per backend; app.ts logs it). */
  readonly onUnaskedContinue?: (backendId: string) => void;
}

export class UpstreamPool {
  private readonly agents = new Map<string, { agent: http.Agent; generation: number }>();
  readonly upstreamTls: UpstreamTls;
  private readonly pools = new Map<string, Pool>();
  /** Multiplexed sessions to `h2c`/`h2` backends. */
  readonly h2: H2SessionPool;
  /** The lean engine's connections to `http` backends (transport/lean-pool). */
  readonly lean: LeanPools;
  /**
   * Backends that sent a `100 Continue` nobody asked for. RFC 9110 §15.2 lets a
   * server do that and asks clients to read past it; undici refuses the
   * answer, `node:http` reads past it, so their requests go through `node:http`.
   */
  private readonly unaskedContinue = new Set<string>();

  constructor(private readonly o: PoolOptions) {
    this.upstreamTls = o.upstreamTls ?? new UpstreamTls({ serverName: undefined, material: undefined });
    this.h2 = new H2SessionPool({ ...o, upstreamTls: this.upstreamTls });
    this.lean = new LeanPools(o.keepaliveMs);
  }

  agentFor(backend: Backend): http.Agent {
    const tlsGeneration = this.upstreamTls.generation;
    const known = this.agents.get(backend.id);
    // An https Agent made before a rotation is dropped: its pooled sockets close when idle, new ones use the new pair.
    let agent = known !== undefined && (backend.scheme !== 'https' || known.generation === tlsGeneration) ? known.agent : undefined;
    if (agent === undefined) {
      const options: https.AgentOptions = {
        keepAlive: true,
        timeout: this.o.keepaliveMs,
        scheduling: 'lifo',
        maxSockets: Infinity,
        maxFreeSockets: 1024,
      };
      if (backend.scheme === 'https') {
        agent = new https.Agent({ ...options, ...this.upstreamTls.optionsFor(backend.host) });
      } else {
        agent = new http.Agent(options);
      }
      this.agents.set(backend.id, { agent, generation: tlsGeneration });
    }
    return agent;
  }

  dispatcherFor(backend: Backend): Pool {
    let pool = this.pools.get(backend.id);
    if (pool === undefined) {
      const host = isIP(backend.host) === 6 ? `[${backend.host}]` : backend.host;
      pool = new Pool(`${backend.scheme}://${host}:${backend.port}`, {
        connections: null,
        pipelining: 1,
        keepAliveTimeout: this.o.keepaliveMs,
        keepAliveMaxTimeout: this.o.keepaliveMs,
        // The exchange times the connect itself (undici's timer ticks every 0.5 s); this is only a backstop.
        connectTimeout: this.o.connectTimeoutMs > 0 ? this.o.connectTimeoutMs + 1000 : 0,
        strictContentLength: true,
      });
      // A connection that fails is reported per request (onError); the event needs no listener.
      this.pools.set(backend.id, pool);
    }
    return pool;
  }

  /** False once `backend` has sent a 100 Continue nobody asked for (transport/select reads it). */
  undiciReads(backend: Backend): boolean {
    return this.unaskedContinue.size === 0 || !this.unaskedContinue.has(backend.id);
  }

  /** `backend` sent a 100 Continue to a request without Expect: its requests go through `node:http` from now on. */
  sentUnaskedContinue(backend: Backend): void {
    // A backend removed while this request was in flight is forgotten already: nothing to remember.
    if (backend.removed || this.unaskedContinue.has(backend.id)) return;
    this.unaskedContinue.add(backend.id);
    this.o.onUnaskedContinue?.(backend.id);
  }

  /** Closes the idle connections of a removed backend; in-flight ones finish. */
  forget(id: string): void {
    this.unaskedContinue.delete(id);
    const known = this.agents.get(id);
    if (known !== undefined) {
      this.agents.delete(id);
      closeIdle(known.agent);
    }
    const pool = this.pools.get(id);
    if (pool !== undefined) {
      this.pools.delete(id);
      pool.close().catch(() => undefined);
    }
    this.h2.forget(id);
    this.lean.forget(id);
  }

  close(): void {
    for (const { agent } of this.agents.values()) agent.destroy();
    this.agents.clear();
    for (const pool of this.pools.values()) pool.destroy().catch(() => undefined);
    this.pools.clear();
    this.h2.close();
    this.lean.close();
  }
}

function closeIdle(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}
