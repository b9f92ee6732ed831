/**
 * The admin listener (SPEC §4): probes, metrics, the dashboard, status, the
 * dashboard's history and the operator's drain/enable. Reads snapshots;
 * writes only the drain flag. The history sampler runs while it listens.
 */
import http from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { BackendSet } from '../upstream/backend-set.js';
import type { Readiness } from '../lifecycle/readiness.js';
import type { RetryBudget } from '../proxy/retry-budget.js';
import { refreshStateGauges, statusSnapshot, backendSnapshot } from './status.js';
import { DASHBOARD_HTML } from './dashboard.js';
import { HistorySampler } from './history-sampler.js';

export interface AdminDeps {
  readonly config: Config;
  readonly set: BackendSet;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly version: string;
  readonly startedAt: number;
  /** The proxy's retry budget, for the dashboard (none in a test that has no proxy). */
  readonly budget?: Pick<RetryBudget, 'usage'>;
}

const BACKEND_ACTION = /^\/api\/backends\/([^/]+)\/(drain|enable)$/;

export function createAdminServer(d: AdminDeps): http.Server {
  const sampler = new HistorySampler({ metrics: d.metrics, set: d.set, budget: d.budget, logger: d.logger, intervalMs: d.config.adminHistoryIntervalMs });
  const server = http.createServer({ keepAliveTimeout: 5000, requestTimeout: 10_000, headersTimeout: 5000 }, (req, res) => {
    route(d, sampler, req, res).catch((err: unknown) => {
      d.logger.error({ err }, 'admin request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('listening', () => sampler.start());
  server.on('close', () => sampler.close());
  return server;
}

async function route(d: AdminDeps, sampler: HistorySampler, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    switch (path) {
      case '/healthz':
        return json(res, 200, { status: 'ok' });
      case '/readyz': {
        const report = d.readiness.report();
        return json(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', reasons: report.reasons });
      }
      case '/metrics': {
        refreshStateGauges(d.metrics, d.set);
        const body = await d.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': d.metrics.registry.contentType, 'cache-control': 'no-store' });
        return void res.end(body);
      }
      case '/api/status':
        return json(res, 200, statusSnapshot(d.config, d.set, d.readiness.report(), d.version, d.startedAt));
      case '/api/history':
        return json(res, 200, sampler.history.view(sinceOf(req.url)));
      case '/':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'" });
        return void res.end(DASHBOARD_HTML);
    }
  }
  const action = BACKEND_ACTION.exec(path);
  if (action !== null) {
    if (method !== 'POST') return json(res, 405, { error: 'use POST' }, { allow: 'POST' });
    return backendAction(d, req, res, decodeId(action[1]!), action[2] as 'drain' | 'enable');
  }
  if (['/healthz', '/readyz', '/metrics', '/api/status', '/api/history', '/'].includes(path)) return json(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
  json(res, 404, { error: 'not found' });
}

function backendAction(d: AdminDeps, req: http.IncomingMessage, res: http.ServerResponse, id: string | undefined, action: 'drain' | 'enable'): void {
  req.resume();
  if (d.config.adminToken === undefined) return json(res, 403, { error: 'the admin API is disabled: set ADMIN_TOKEN to enable it' });
  if (!tokenMatches(req.headers.authorization, d.config.adminToken)) {
    return json(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer realm="outrigger"' });
  }
  const backend = id === undefined ? undefined : d.set.get(id);
  if (backend === undefined) return json(res, 404, { error: `no backend ${JSON.stringify(id ?? '')}` });
  d.set.setDrained(backend, action === 'drain', { by: 'operator' });
  json(res, 200, backendSnapshot(backend, Date.now(), d.config.slowStartMs));
}

/** `?since=<ms>`: only the samples after that time (the dashboard polls for what it lacks). */
function sinceOf(url: string | undefined): number | undefined {
  const raw = new URLSearchParams((url ?? '').split('?')[1] ?? '').get('since');
  const since = raw === null || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isFinite(since) ? since : undefined;
}

function decodeId(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (m === null) return false;
  // Hash both so the comparison is constant-time whatever the lengths.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
