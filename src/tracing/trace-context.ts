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

/** The version-00 layout (a later version's first 55 characters): lower-case hex fields, dashes between. */
const LAYOUT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}/;

/** The incoming `traceparent` (Node's header value), or undefined when absent or invalid. */
export function parseTraceparent(value: string | string[] | undefined): TraceParent | undefined {
  if (typeof value !== 'string' || value.length < V00_LENGTH || !LAYOUT.test(value)) return undefined;
  if (value.charCodeAt(0) === 102 && value.charCodeAt(1) === 102) return undefined; // version ff
  const v00 = value.charCodeAt(0) === 48 && value.charCodeAt(1) === 48;
  if (v00 ? value.length !== V00_LENGTH : value.length > V00_LENGTH && value.charCodeAt(V00_LENGTH) !== 45) return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  // The sampled flag is bit 0 of the flags: the low bit of their last hex digit.
  const last = value.charCodeAt(54);
  return { traceId, spanId, sampled: ((last <= 57 ? last - 48 : last - 87) & 1) === 1 };
}

/** The version-00 `traceparent` naming `spanId` of `traceId`. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}
