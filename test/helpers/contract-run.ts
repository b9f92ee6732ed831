/**
 * Shared by the transport contract tests (one file per protocol): runs one
 * exchange through an engine, called directly, and says what it came to.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Backend } from '../../src/upstream/backend.js';
import type { UpstreamPool } from '../../src/transport/pool.js';
import { AttemptError, type ExchangeRequest, type UpstreamCall, type UpstreamResponse } from '../../src/transport/contract.js';

export type ContractEngine = (backend: Backend, pool: UpstreamPool, request: ExchangeRequest, onCall: (call: UpstreamCall) => void) => Promise<UpstreamResponse>;

/** What one exchange came to. */
export type Outcome =
  | { answer: number; body: string; trailers: string[]; informational: number[] }
  | { error: string; kind: string; during: 'head' | 'body' };

export type Timeouts = Partial<Pick<ExchangeRequest, 'upstreamTimeoutMs' | 'idleTimeoutMs'>>;

export function contractRequest(path: string, timeouts: Timeouts | undefined, informational: number[]): ExchangeRequest {
  return {
    method: 'GET', path, headers: ['Host', 'contract.test'], body: undefined, exactHeaders: false,
    connectTimeoutMs: 1000, upstreamTimeoutMs: timeouts?.upstreamTimeoutMs ?? 5000, idleTimeoutMs: timeouts?.idleTimeoutMs ?? 5000,
    onInformational: (status) => informational.push(status),
  };
}

/** Runs one exchange to its end and says what it came to. */
export async function runExchange(engine: ContractEngine, backend: Backend, pool: UpstreamPool, req: ExchangeRequest, informational: number[]): Promise<Outcome> {
  let response: UpstreamResponse;
  try {
    response = await engine(backend, pool, req, () => undefined);
  } catch (err) {
    assert.ok(err instanceof AttemptError, `rejects with an AttemptError, not ${String(err)}`);
    return { error: err.error.constructor.name, kind: err.error.upstreamKind, during: 'head' };
  }
  let body = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { body += chunk.toString('latin1'); cb(); } });
  return new Promise((resolve) => response.relayBody(sink, (err, trailers) => {
    if (err !== undefined) resolve({ error: err.constructor.name, kind: err.upstreamKind, during: 'body' });
    else resolve({ answer: response.statusCode, body, trailers: [...trailers], informational });
  }));
}
