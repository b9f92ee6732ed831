/**
 * What the data plane needs to know about gRPC (SPEC §8), as pure functions:
 * which requests are gRPC calls, the status a response carries, and
 * `grpc-timeout` (the names of status codes are in grpc-codes.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';

export const GRPC_UNAVAILABLE = 14;

/** Codes that say the backend failed (INTERNAL, UNAVAILABLE, DATA_LOSS): they feed outlier detection. */
export function isBackendFailure(code: number): boolean {
  return code === 13 || code === 14 || code === 15;
}

export function isGrpc(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return type !== undefined && type.startsWith('application/grpc');
}

/** The `grpc-status` in a flat raw header (or trailer) list, or undefined. */
export function grpcStatusIn(raw: readonly string[]): number | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 11 && raw[i]!.toLowerCase() === 'grpc-status') {
      const code = Number(raw[i + 1]);
      return Number.isInteger(code) && code >= 0 ? code : undefined;
    }
  }
  return undefined;
}

/**
 * The status a gRPC client reads from an answer without `grpc-status` whose HTTP status is not 200
 * (gRPC's "HTTP to gRPC status code mapping"): an HTTP error page from a backend or a proxy before it.
 */
export function grpcStatusOfHttp(status: number): number | undefined {
  switch (status) {
    case 200: return undefined; // no status: the client decides (UNKNOWN or INTERNAL)
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 429: case 502: case 503: case 504: return GRPC_UNAVAILABLE;
    default: return status === 0 ? undefined : 2; // UNKNOWN
  }
}

const TIMEOUT_UNITS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** `grpc-timeout` (1–8 digits and a unit) in milliseconds, at least 1; undefined when absent or malformed. */
export function grpcTimeoutMs(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (m === null) return undefined;
  return Math.max(1, Math.ceil(Number(m[1]) * TIMEOUT_UNITS[m[2]!]!));
}
