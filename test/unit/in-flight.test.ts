/** The in-flight tracker the drain waits on (src/lifecycle/in-flight.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlight } from '../../src/lifecycle/in-flight.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('idle() resolves at once when nothing is in flight, and once the last unit ends', async () => {
  const work = new InFlight();
  let idle = false;
  await work.idle();
  const end = work.begin();
  void work.idle().then(() => (idle = true));
  await turn();
  assert.equal(idle, false);
  end();
  end(); // once only
  await turn();
  assert.equal(idle, true);
  assert.equal(work.active, 0);
  assert.equal(work.started, 1);
});

test('a hand-over (one unit ends, the next begins in the same turn) is not seen as idle', async () => {
  const work = new InFlight();
  const connection = work.begin();
  let idle = false;
  void work.idle().then(() => (idle = true));
  // As the HTTP/1.1 server and the front door do: the request's count begins, the connection's ends.
  connection();
  const request = work.begin();
  await turn();
  assert.equal(idle, false, 'the drain did not see zero between');
  request();
  await turn();
  assert.equal(idle, true);
});
