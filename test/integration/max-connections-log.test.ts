/**
 * Connections refused at MAX_CONNECTIONS leave a trace: a warn line at the
 * first refusal, then at most one line per 10 s with the count since the
 * last one (the rest of a spell is reported at the end of its interval, or
 * at shutdown). Real clients: raw sockets held open, then more turned away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { startBackend } from '../helpers/http.js';

const MSG = 'connections refused: MAX_CONNECTIONS reached';

/** A keep-alive connection that got its answer: counted by the proxy until it closes. */
function held(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the proxy closes the connection. */
function turnedAway(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.once('close', () => resolve());
    s.setTimeout(5000, () => s.destroy());
  });
}

test('MAX_CONNECTIONS: refusals are logged at once, then counted into one line per interval', { timeout: 30_000 }, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', MAX_CONNECTIONS: '2' });
  t.after(() => lb.stop());
  const kept = [await held(lb.proxyPort), await held(lb.proxyPort)];
  t.after(() => kept.forEach((s) => s.destroy()));

  await turnedAway(lb.proxyPort);
  const first = await lb.waitForLog((l) => l.msg === MSG);
  assert.equal(first.refused, 1);
  assert.equal(first.maxConnections, 2);
  for (let i = 0; i < 5; i++) await turnedAway(lb.proxyPort);
  assert.equal(lb.logs.filter((l) => l.msg === MSG).length, 1, 'the next ones wait for the interval to end');
  assert.equal(await lb.stop(), 0);
  // The spell's remainder: at the end of the interval, or at shutdown, whichever came first.
  assert.deepEqual(lb.logs.filter((l) => l.msg === MSG).map((l) => l.refused), [1, 5]);
});
