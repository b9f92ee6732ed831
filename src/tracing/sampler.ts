/**
 * The standard samplers of OTEL_TRACES_SAMPLER, decided on the hot path
 * without the SDK. The decision only sets the `sampled` flag that goes on
 * (and whether the spans are exported); ids and propagation happen either way.
 */
import type { SamplerName } from '../config-tracing.js';
import type { TraceParent } from './trace-context.js';

/** Decides for a trace: `parent` is the valid incoming traceparent, if any. */
export type Sampler = (parent: TraceParent | undefined, traceId: string) => boolean;

/** 2^52: the ratio sampler reads the trace id's last 13 hex digits (52 bits, exact in a double). */
const SPAN_52 = 2 ** 52;

function ratioSampler(ratio: number): (traceId: string) => boolean {
  if (ratio >= 1) return () => true;
  if (ratio <= 0) return () => false;
  const bound = Math.floor(ratio * SPAN_52);
  // The low bits of a trace id are random (W3C Trace Context level 2): the same trace id gets the same answer everywhere.
  return (traceId) => parseInt(traceId.slice(19), 16) < bound;
}

export function createSampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on': return () => true;
    case 'always_off': return () => false;
    case 'traceidratio': {
      const byId = ratioSampler(ratio);
      return (_parent, traceId) => byId(traceId);
    }
    case 'parentbased_always_on': return (parent) => parent === undefined ? true : parent.sampled;
    case 'parentbased_always_off': return (parent) => parent === undefined ? false : parent.sampled;
    case 'parentbased_traceidratio': {
      const byId = ratioSampler(ratio);
      return (parent, traceId) => parent === undefined ? byId(traceId) : parent.sampled;
    }
  }
}
