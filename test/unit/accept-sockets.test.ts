import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { AcceptSockets, ACCEPT_SOCKETS, reusePortAvailable } from '../../src/proxy/accept-sockets.js';

test('reusePort is used on Linux with Node 22.12+, 23.1+ and 24+, nowhere else', () => {
  const cases: Array<[NodeJS.Platform, string, boolean]> = [
    ['linux', '20.18.1', false], ['linux', '22.11.0', false], ['linux', '22.12.0', true], ['linux', '23.0.0', false],
    ['linux', '23.1.0', true], ['linux', '24.21.0', true], ['linux', '26.0.0', true], ['darwin', '24.21.0', false], ['win32', '24.21.0', false],
  ];
  for (const [platform, version, expected] of cases) assert.equal(reusePortAvailable(platform, version), expected, `${platform} ${version}`);
});

test('an error event on a listening socket of the group (an accept failure such as ENOBUFS) does not throw', async () => {
  const group = new AcceptSockets({ server: {}, maxConnections: 10, sockets: ACCEPT_SOCKETS, logger: { warn: () => undefined } }, (s) => s.destroy());
  await group.listen('127.0.0.1', 0);
  try {
    // Node emits 'error' on the server when accept() fails; without a listener that throws out of the event loop.
    assert.doesNotThrow(() => group.primary.emit('error', Object.assign(new Error('accept ENOBUFS'), { code: 'ENOBUFS' })));
    assert.equal(group.primary.listening, true);
  } finally {
    group.close();
  }
});

test('close() called while listen() is still adding sockets to the group leaves none listening', async () => {
  const group = new AcceptSockets({ server: {}, maxConnections: 10, sockets: ACCEPT_SOCKETS, logger: { warn: () => undefined } }, (s) => s.destroy());
  // The first socket listens, the others are still to be bound (reuseport): SIGTERM with SHUTDOWN_DELAY_MS=0 during startup.
  const listening = group.listen('127.0.0.1', 0);
  group.primary.once('listening', () => group.close());
  const address = await listening;
  await new Promise((resolve) => setImmediate(resolve));
  const refused = await new Promise<boolean>((resolve) => {
    const c = net.connect(address.port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(false); });
    c.on('error', () => resolve(true));
  });
  group.close();
  assert.equal(refused, true, `a connection was accepted after close() (${group.sockets} sockets in the group)`);
});
