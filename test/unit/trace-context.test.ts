/** The W3C Trace Context `traceparent` parser (strict), the writer, the id pool and the samplers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTraceparent, parseTraceparent } from '../../src/tracing/trace-context.js';
import { newSpanId, newTraceId } from '../../src/tracing/ids.js';
import { SAMPLERS } from '../../src/config-tracing.js';
import { createSampler } from '../../src/tracing/sampler.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  /** [why, value, expected: [traceId, spanId, sampled] or undefined for invalid]. */
  const CASES: ReadonlyArray<readonly [string, string | string[] | undefined, readonly [string, string, boolean] | undefined]> = [
    ['version 00, sampled', `00-${T}-${S}-01`, [T, S, true]],
    ['version 00, not sampled', `00-${T}-${S}-00`, [T, S, false]],
    ['other flag bits do not make it sampled', `00-${T}-${S}-02`, [T, S, false]],
    ['flags with the sampled bit among others', `00-${T}-${S}-ff`, [T, S, true]],
    ['a future version, same length', `cc-${T}-${S}-01`, [T, S, true]],
    ['a future version with more fields after a dash', `cc-${T}-${S}-01-what-the-future-holds`, [T, S, true]],
    ['a future version with more characters but no dash', `cc-${T}-${S}-01what`, undefined],
    ['version ff is invalid', `ff-${T}-${S}-01`, undefined],
    ['version 00 with more fields', `00-${T}-${S}-01-extra`, undefined],
    ['version 00 one character short', `00-${T}-${S}-1`, undefined],
    ['upper-case trace id', `00-${T.toUpperCase()}-${S}-01`, undefined],
    ['upper-case span id', `00-${T}-${S.toUpperCase()}-01`, undefined],
    ['upper-case version', `0A-${T}-${S}-01`, undefined],
    ['upper-case flags', `00-${T}-${S}-0A`, undefined],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${S}-01`, undefined],
    ['all-zero span id', `00-${T}-${'0'.repeat(16)}-01`, undefined],
    ['a non-hex character in the trace id', `00-${T.slice(0, 31)}g-${S}-01`, undefined],
    ['a non-hex character in the flags', `00-${T}-${S}-0x`, undefined],
    ['a non-hex version', `0x-${T}-${S}-01`, undefined],
    ['wrong separator', `00_${T}-${S}-01`, undefined],
    ['a separator out of place', `00-${T.slice(0, 31)}-${S}0-01`, undefined],
    ['trace id too short', `00-${T.slice(2)}-${S}-01`, undefined],
    ['two traceparent fields (Node joins them)', `00-${T}-${S}-01, 00-${T}-${S}-01`, undefined],
    ['two traceparent fields (an array)', [`00-${T}-${S}-01`, `00-${T}-${S}-01`], undefined],
    ['empty', '', undefined],
    ['absent', undefined, undefined],
    ['leading space', ` 00-${T}-${S}-01`, undefined],
  ];
  for (const [why, value, expected] of CASES) {
    test(why, () => {
      const parsed = parseTraceparent(value);
      assert.deepEqual(parsed === undefined ? undefined : [parsed.traceId, parsed.spanId, parsed.sampled], expected);
    });
  }

  test('formatTraceparent writes version 00 that parses back', () => {
    assert.equal(formatTraceparent(T, S, true), `00-${T}-${S}-01`);
    assert.equal(formatTraceparent(T, S, false), `00-${T}-${S}-00`);
    assert.deepEqual(parseTraceparent(formatTraceparent(T, S, false)), { traceId: T, spanId: S, sampled: false });
  });
});

describe('ids', () => {
  test('trace ids are 32 and span ids 16 lower-case hex digits, non-zero and distinct, across pool refills', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 2000; i++) { // several 4 KiB refills
      const t = newTraceId();
      const s = newSpanId();
      assert.match(t, /^[0-9a-f]{32}$/);
      assert.match(s, /^[0-9a-f]{16}$/);
      assert.ok(parseTraceparent(formatTraceparent(t, s, true)) !== undefined);
      traces.add(t);
      spans.add(s);
    }
    assert.equal(traces.size, 2000);
    assert.equal(spans.size, 2000);
  });
});

describe('samplers', () => {
  const sampledParent = { traceId: T, spanId: S, sampled: true };
  const unsampledParent = { traceId: T, spanId: S, sampled: false };
  const low = 'ffffffffffffffff0000000000000001'; // the low 52 bits are tiny: in any ratio > 0
  const high = '0000000000000000000fffffffffffff'; // the low 52 bits are all ones: in no ratio < 1

  test('every OTEL_TRACES_SAMPLER value, with and without a parent', () => {
    const table: Record<string, [boolean, boolean, boolean, boolean]> = {
      // [no parent, low id], [no parent, high id], [sampled parent, high id], [unsampled parent, low id]
      always_on: [true, true, true, true],
      always_off: [false, false, false, false],
      traceidratio: [true, false, false, true],
      parentbased_always_on: [true, true, true, false],
      parentbased_always_off: [false, false, true, false],
      parentbased_traceidratio: [true, false, true, false],
    };
    for (const name of SAMPLERS) {
      const sample = createSampler(name, 0.5);
      assert.deepEqual([sample(undefined, low), sample(undefined, high), sample(sampledParent, high), sample(unsampledParent, low)], table[name], name);
    }
  });

  test('traceidratio keeps about its share of random trace ids, and the same id always gets the same answer', () => {
    const sample = createSampler('traceidratio', 0.25);
    let kept = 0;
    for (let i = 0; i < 4000; i++) if (sample(undefined, newTraceId())) kept += 1;
    assert.ok(kept > 800 && kept < 1200, `kept ${kept} of 4000`);
    const id = newTraceId();
    assert.equal(sample(undefined, id), sample(undefined, id));
    assert.equal(createSampler('traceidratio', 0)(undefined, low), false);
    assert.equal(createSampler('traceidratio', 1)(undefined, high), true);
  });
});
