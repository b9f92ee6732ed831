/**
 * One active probe: a TCP connect, or an HTTP(S) GET that must answer 2xx,
 * within a timeout (over HTTP/2 for `h2c`/`h2` backends, on a session of its
 * own). TLS as every connection to a backend (tls/upstream-tls). Resolves
 * with the outcome; never rejects.
 */
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly error?: string;
}

export function probeTcp(backend: Backend, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: backend.host, port: backend.port });
    const done = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
  });
}

export function probeHttp(backend: Backend, path: string, timeoutMs: number, upstreamTls: UpstreamTls): Promise<ProbeOutcome> {
  if (backend.scheme === 'h2c' || backend.scheme === 'h2') return probeHttp2(backend, path, timeoutMs, upstreamTls);
  return new Promise((resolve) => {
    const tlsBackend = backend.scheme === 'https';
    const client = tlsBackend ? https : http;
    const req = client.request({
      ...(tlsBackend ? upstreamTls.optionsFor(backend.host) : {}),
      host: backend.host,
      port: backend.port,
      method: 'GET',
      path,
      agent: false,
      headers: { host: backend.id, 'user-agent': 'outrigger-health-check', connection: 'close' },
    });
    let settled = false;
    const done = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `status ${status}` });
    });
    req.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    req.end();
  });
}

/**
 * One HTTP/2 session for one probe (TLS for `tls`, with the upstream TLS
 * settings), ended by the first outcome: `send` makes the request and calls
 * `done`; an error, the session closing or the timeout end it too.
 */
export function probeOverHttp2(
  backend: Backend, timeoutMs: number, upstreamTls: UpstreamTls, tls: boolean,
  send: (session: http2.ClientHttp2Session, done: (outcome: ProbeOutcome) => void) => void,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const host = net.isIP(backend.host) === 6 ? `[${backend.host}]` : backend.host;
    const session = http2.connect(`${tls ? 'https' : 'http'}://${host}:${backend.port}`, tls ? upstreamTls.optionsFor(backend.host) : {});
    let settled = false;
    const done = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), timeoutMs);
    session.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    session.once('close', () => done({ ok: false, error: 'closed' }));
    send(session, done);
  });
}

function probeHttp2(backend: Backend, path: string, timeoutMs: number, upstreamTls: UpstreamTls): Promise<ProbeOutcome> {
  const tls = backend.scheme === 'h2';
  return probeOverHttp2(backend, timeoutMs, upstreamTls, tls, (session, done) => {
    const req = session.request({
      ':method': 'GET', ':path': path, ':scheme': tls ? 'https' : 'http', ':authority': backend.id, 'user-agent': 'outrigger-health-check',
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    req.once('close', () => done({ ok: false, error: `stream closed (${req.rstCode ?? 0})` }));
    req.once('response', (headers) => {
      const status = Number(headers[':status']);
      done(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `status ${status}` });
    });
  });
}
