/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the
 * `traceparent` field, parsed strictly and written. A pure module: no I/O,
 * no randomness.
 *
 * `version-traceid-parentid-flags`, all lower-case hex. Version `ff` is
 * invalid; version `00` is exactly 55 characters; a later version is read
 * by the version-00 layout and may carry more after a `-` (its extra fields
 * are ignored). An all-zero trace id or parent id is invalid. Several
 * `traceparent` fields (joined by Node into one value, or an array) are
 * invalid. An invalid value is treated as absent: a new trace starts.
 */

export interface TraceParent {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span: 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** The `sampled` flag (bit 0 of the flags). */
  readonly sampled: boolean;
}

const V00_LENGTH = 55;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** True when s[from, to) is lower-case hex only. */
function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The incoming `traceparent` (Node's header value), or undefined when absent or invalid. */
export function parseTraceparent(value: string | string[] | undefined): TraceParent | undefined {
  if (typeof value !== 'string' || value.length < V00_LENGTH) return undefined;
  if (!isLowerHex(value, 0, 2) || value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return undefined;
  const version = value.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' ? value.length !== V00_LENGTH : value.length > V00_LENGTH && value.charCodeAt(V00_LENGTH) !== 45) return undefined;
  if (!isLowerHex(value, 3, 35) || !isLowerHex(value, 36, 52) || !isLowerHex(value, 53, 55)) return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (parseInt(value.slice(53, 55), 16) & 1) === 1 };
}

/** The version-00 `traceparent` naming `spanId` of `traceId`. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}
