/** MAX_CONNECTIONS refusals: a warn line at once, then at most one per interval with the count since the last (mocked timers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefusedConnectionsLog } from '../../src/proxy/refused-connections-log.js';

function recording() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: { warn: ((o: Record<string, unknown>) => void lines.push(o)) as never } };
}

test('RefusedConnectionsLog: the first refusal at once, then one line per interval with the count since the last line', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { lines, logger } = recording();
  const log = new RefusedConnectionsLog(logger, 100, 10_000);
  t.after(() => log.close());
  log.refused();
  assert.deepEqual(lines.map((l) => [l.refused, l.maxConnections]), [[1, 100]]);
  for (let i = 0; i < 500; i++) log.refused();
  t.mock.timers.tick(9_999);
  assert.equal(lines.length, 1, 'at most one line per interval');
  t.mock.timers.tick(1);
  assert.deepEqual(lines.map((l) => l.refused), [1, 500]);
  log.refused();
  log.refused();
  t.mock.timers.tick(10_000);
  assert.deepEqual(lines.map((l) => l.refused), [1, 500, 2]);
  // A quiet interval ends the spell: the next refusal is logged at once.
  t.mock.timers.tick(10_000);
  t.mock.timers.tick(30_000);
  assert.equal(lines.length, 3);
  log.refused();
  assert.deepEqual(lines.map((l) => l.refused), [1, 500, 2, 1]);
});

test('RefusedConnectionsLog: close() reports what is still pending, and stops', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { lines, logger } = recording();
  const log = new RefusedConnectionsLog(logger, 5, 10_000);
  log.refused();
  log.refused();
  log.refused();
  log.close();
  t.mock.timers.tick(60_000);
  assert.deepEqual(lines.map((l) => l.refused), [1, 2]);
});
