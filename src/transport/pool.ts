/**
 * Pooled keep-alive connections to backends, for every engine of
 * transport/: per backend one undici Pool and one `node:http` Agent,
 * each created on first use, and HTTP/2 sessions (transport/h2-sessions). Idle connections close after
 * UPSTREAM_KEEPALIVE_MS (kept below the usual backend keep-alive so that we
 * close first); connections are not limited in number and never pipelined.
 * TLS to https backends verifies certificates (extra CAs: NODE_EXTRA_CA_CERTS).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Pool } from 'undici';
import type { Backend } from '../upstream/backend.js';
import { H2SessionPool } from './h2-sessions.js';

export interface PoolOptions {
  readonly keepaliveMs: number;
  readonly connectTimeoutMs: number;
}

export class UpstreamPool {
  private readonly agents = new Map<string, http.Agent>();
  private readonly pools = new Map<string, Pool>();
  /** Multiplexed sessions to `h2c`/`h2` backends. */
  readonly h2: H2SessionPool;

  constructor(private readonly o: PoolOptions) {
    this.h2 = new H2SessionPool(o);
  }

  agentFor(backend: Backend): http.Agent {
    let agent = this.agents.get(backend.id);
    if (agent === undefined) {
      const options: https.AgentOptions = {
        keepAlive: true,
        timeout: this.o.keepaliveMs,
        scheduling: 'lifo',
        maxSockets: Infinity,
        maxFreeSockets: 1024,
      };
      if (backend.scheme === 'https') {
        agent = new https.Agent({ ...options, ...(isIP(backend.host) === 0 ? { servername: backend.host } : {}) });
      } else {
        agent = new http.Agent(options);
      }
      this.agents.set(backend.id, agent);
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

  /** Closes the idle connections of a removed backend; in-flight ones finish. */
  forget(id: string): void {
    const agent = this.agents.get(id);
    if (agent !== undefined) {
      this.agents.delete(id);
      closeIdle(agent);
    }
    const pool = this.pools.get(id);
    if (pool !== undefined) {
      this.pools.delete(id);
      pool.close().catch(() => undefined);
    }
    this.h2.forget(id);
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    for (const pool of this.pools.values()) pool.destroy().catch(() => undefined);
    this.pools.clear();
    this.h2.close();
  }
}

function closeIdle(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}
