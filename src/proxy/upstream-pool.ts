/**
 * Pooled keep-alive connections to backends: one Agent per backend, idle
 * sockets closed after UPSTREAM_KEEPALIVE_MS (kept below the usual backend
 * keep-alive so that we close first), LIFO so the pool shrinks when load drops.
 * TLS to https backends verifies certificates (extra CAs: NODE_EXTRA_CA_CERTS).
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Backend } from '../upstream/backend.js';

export class UpstreamPool {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly keepaliveMs: number) {}

  agentFor(backend: Backend): http.Agent {
    let agent = this.agents.get(backend.id);
    if (agent === undefined) {
      const options: https.AgentOptions = {
        keepAlive: true,
        timeout: this.keepaliveMs,
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

  /** Closes the idle connections of a removed backend; in-flight ones finish. */
  forget(id: string): void {
    const agent = this.agents.get(id);
    if (agent === undefined) return;
    this.agents.delete(id);
    closeIdle(agent);
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

function closeIdle(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}
