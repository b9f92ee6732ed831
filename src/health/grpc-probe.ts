/**
 * HEALTH_CHECK_TYPE=grpc: the standard gRPC health check
 * (`grpc.health.v1.Health/Check`) over HTTP/2 (h2c, or h2 for `h2`/`https`
 * backends), one connection per probe. SERVING is a success; any other
 * status, a non-zero grpc-status, or no answer within the timeout is a
 * failure. The two tiny messages are encoded by hand (protobuf field 1:
 * `service` string in the request, `status` enum in the answer).
 */
import type { Backend } from '../upstream/backend.js';
import { probeOverHttp2, type ProbeOutcome } from './probe.js';
import { grpcCodeName } from '../grpc-codes.js';
import type { UpstreamTls } from '../tls/upstream-tls.js';

const SERVING = 1;
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** A length-prefixed gRPC message holding HealthCheckRequest{service}. */
export function healthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

/** The `status` of a length-prefixed HealthCheckResponse, or undefined when it cannot be read. */
export function healthStatus(data: Buffer): number | undefined {
  if (data.length < 5 || data[0] !== 0) return undefined;
  const length = data.readUInt32BE(1);
  const message = data.subarray(5, 5 + length);
  if (message.length !== length) return undefined;
  if (length === 0) return 0; // every field at its default: UNKNOWN
  for (let i = 0; i < message.length;) {
    const tag = message[i++]!;
    const [value, next] = readVarint(message, i);
    if (next < 0) return undefined;
    if (tag === 0x08) return value;
    if ((tag & 7) === 2) i = next + value; // a length-delimited field we do not know
    else if ((tag & 7) === 0) i = next;
    else return undefined;
  }
  return 0;
}

export function probeGrpc(backend: Backend, service: string, timeoutMs: number, upstreamTls: UpstreamTls): Promise<ProbeOutcome> {
  return probeOverHttp2(backend, timeoutMs, upstreamTls, /^(?:https|h2)$/.test(backend.scheme), (session, done) => {
    const stream = session.request({
      ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers',
      'user-agent': 'outrigger-health-check',
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    stream.on('response', (headers) => { grpcStatus = headers['grpc-status'] as string | undefined; });
    stream.on('trailers', (trailers) => { grpcStatus = trailers['grpc-status'] as string | undefined ?? grpcStatus; });
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    stream.on('end', () => {
      if (grpcStatus !== '0') return done({ ok: false, error: probeStatusError(grpcStatus) });
      const status = healthStatus(Buffer.concat(chunks));
      done(status === SERVING ? { ok: true } : { ok: false, error: status === undefined ? 'bad answer' : STATUS_NAMES[status] ?? `status ${status}` });
    });
    stream.end(healthRequest(service));
  });
}

/** A failed call's status as the probe reports it: `grpc-status 12 UNIMPLEMENTED`; a value that is not a code is shown as sent. */
export function probeStatusError(grpcStatus: string | undefined): string {
  if (grpcStatus === undefined) return 'grpc-status missing';
  return /^\d{1,3}$/.test(grpcStatus) ? `grpc-status ${grpcStatus} ${grpcCodeName(Number(grpcStatus))}` : `grpc-status ${JSON.stringify(grpcStatus)}`;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let shift = 0, i = at; i < buf.length && shift < 35; shift += 7, i++) {
    value |= (buf[i]! & 0x7f) << shift;
    if ((buf[i]! & 0x80) === 0) return [value, i + 1];
  }
  return [0, -1];
}
