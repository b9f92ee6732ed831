/**
 * WebSocket and other Upgrade requests: the chosen backend gets the request
 * with its Upgrade headers; a 101 answer turns both connections into a
 * tunnel, any other answer is relayed and the connection closed.
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Picker } from '../balancer/picker.js';
import type { BackendSet } from '../upstream/backend-set.js';
import { addForwarded, clientAddress, stripHopByHop } from './headers.js';
import { errorStatus, rawErrorResponse } from './error-response.js';
import { ConnectFailedError, NoHealthyBackendError, UpstreamResetError } from '../errors.js';
import type { SpliceRegistry } from './splice.js';
import { hashKeyOf } from './hash-key.js';

const REASONS: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

export interface TunnelDeps {
  readonly config: Config;
  readonly set: BackendSet;
  readonly picker: Picker;
  readonly splices: SpliceRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly rng: () => number;
}

export class Tunnels {
  constructor(private readonly d: TunnelDeps) {}

  open(req: http.IncomingMessage, client: Socket, head: Buffer): void {
    client.on('error', () => client.destroy());
    const clientIp = clientAddress(client.remoteAddress);
    const now = Date.now();
    const backend = this.d.picker.pick(this.d.set.eligible(now), {
      now, rng: this.d.rng, slowStartMs: this.d.config.slowStartMs, clientIp,
      hashKey: this.d.config.algorithm === 'hash' ? hashKeyOf(req, this.d.config.hashKey) : undefined,
    });
    if (backend === undefined) return this.fail(client, new NoHealthyBackendError());
    const headers = stripHopByHop(req.rawHeaders, { keepUpgrade: true, keepTeTrailers: true });
    const reqId = this.d.config.forwardedHeaders ? addForwarded(headers, { clientIp, proto: 'http', newRequestId: randomUUID }) : '';
    const upReq = (backend.scheme === 'https' ? https : http).request({
      host: backend.host, port: backend.port, method: req.method, path: req.url, headers, agent: false, setHost: false,
    });
    let connected = false;
    const connectTimer = setTimeout(() => upReq.destroy(new ConnectFailedError(backend.id, true)), this.d.config.connectTimeoutMs);
    upReq.once('socket', (s) => s.once('connect', () => { connected = true; clearTimeout(connectTimer); }));
    client.once('close', () => { if (!connected) upReq.destroy(); });
    upReq.once('upgrade', (upRes: http.IncomingMessage, upstream: Socket, upHead: Buffer) => {
      clearTimeout(connectTimer);
      client.write(statusLine(upRes) + headerLines(stripHopByHop(upRes.rawHeaders, { keepUpgrade: true })) + '\r\n', 'latin1');
      if (upHead.length > 0) client.write(upHead);
      if (head.length > 0) upstream.write(head);
      const websocket = /websocket/i.test(req.headers.upgrade ?? '');
      this.d.splices.join(client, upstream, websocket);
      this.d.logger.info({ reqId, client: clientIp, method: req.method, path: req.url?.split('?')[0], backend: backend.id, status: 101, upgrade: req.headers.upgrade }, 'tunnel opened');
    });
    upReq.once('response', (upRes: http.IncomingMessage) => {
      clearTimeout(connectTimer);
      // The backend declined the upgrade: relay its answer, delimited by close.
      client.write(statusLine(upRes) + headerLines([...stripHopByHop(upRes.rawHeaders), 'Connection', 'close']) + '\r\n', 'latin1');
      upRes.pipe(client);
      upRes.on('error', () => client.destroy());
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (client.destroyed) return;
      const error = err instanceof ConnectFailedError ? err : connected ? new UpstreamResetError(backend.id, false, err) : new ConnectFailedError(backend.id, false, err);
      this.d.metrics.upstreamErrors.inc({ backend: backend.id, kind: error.upstreamKind });
      this.fail(client, error);
    });
    upReq.end();
  }

  private fail(client: Socket, err: unknown): void {
    const { status, kind } = errorStatus(err, this.d.logger);
    this.d.metrics.proxyErrors.inc({ kind });
    if (client.writable) client.end(rawErrorResponse(status, REASONS[status] ?? 'Error', kind));
    client.destroySoon();
  }
}

function statusLine(res: http.IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
}

function headerLines(raw: readonly string[]): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return out;
}
