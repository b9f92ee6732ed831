/** signals.ts over an EventEmitter standing for `process`: what each signal does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { installSignalHandlers, type Reloadable } from '../../src/lifecycle/signals.js';
import { inspectorRequested } from '../../src/lifecycle/inspector-guard.js';

interface Logged { level: string; fields: Record<string, unknown>; msg: string }

function setup(reloadables: Reloadable[] = []) {
  const source = new EventEmitter();
  const logged: Logged[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => logged.push({ level, fields, msg });
  const logger = { info: at('info'), warn: at('warn'), error: at('error') } as never;
  const calls: string[] = [];
  const exits: number[] = [];
  let first = true;
  installSignalHandlers({
    shutdown: async (signal) => {
      calls.push(`shutdown ${signal}`);
      const wasFirst = first;
      first = false;
      return wasFirst;
    },
    reloadables,
    logger,
    exit: (code) => exits.push(code),
  }, { on: (signal, listener) => source.on(signal, listener) });
  return { source, logged, calls, exits };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('SIGHUP reloads every reloadable in order; one that throws does not stop the others', async () => {
  const order: string[] = [];
  const reloadables: Reloadable[] = [
    { name: 'CONFIG_FILE', reloadNow: async (trigger) => { order.push(`CONFIG_FILE ${trigger}`); } },
    { name: 'BROKEN', reloadNow: async () => { throw new Error('boom'); } },
    { name: 'TLS_CERT_FILE', reloadNow: async (trigger) => { order.push(`TLS_CERT_FILE ${trigger}`); } },
  ];
  const { source, logged, calls } = setup(reloadables);
  source.emit('SIGHUP');
  await settle();
  assert.deepEqual(order, ['CONFIG_FILE SIGHUP', 'TLS_CERT_FILE SIGHUP']);
  assert.deepEqual(logged.map((l) => l.msg), ['SIGHUP: reloading', 'SIGHUP: reload failed']);
  assert.deepEqual(logged[0]!.fields.reloading, ['CONFIG_FILE', 'BROKEN', 'TLS_CERT_FILE']);
  assert.equal(logged[1]!.fields.what, 'BROKEN');
  assert.deepEqual(calls, [], 'no shutdown');
});

test('SIGHUP with nothing to reload says so', async () => {
  const { source, logged } = setup();
  source.emit('SIGHUP');
  await settle();
  assert.deepEqual(logged.map((l) => l.msg), ['SIGHUP: nothing to reload']);
});

test('SIGUSR2 and SIGUSR1 are logged and do nothing else', async () => {
  const { source, logged, calls, exits } = setup([{ name: 'CONFIG_FILE', reloadNow: async () => assert.fail('not on SIGUSR') }]);
  source.emit('SIGUSR2');
  source.emit('SIGUSR1');
  await settle();
  assert.deepEqual(logged.map((l) => [l.level, l.msg]), [['info', 'SIGUSR2 ignored'], ['warn', 'SIGUSR1 ignored; the inspector stays closed']]);
  assert.deepEqual(calls, []);
  assert.deepEqual(exits, []);
});

test('SIGTERM and SIGINT run the shutdown; only the first one to complete exits 0', async () => {
  const { source, calls, exits } = setup();
  source.emit('SIGTERM');
  source.emit('SIGINT');
  await settle();
  assert.deepEqual(calls, ['shutdown SIGTERM', 'shutdown SIGINT']);
  assert.deepEqual(exits, [0]);
});

test('an inspector counts as requested only with --inspect, --inspect-brk or --inspect-wait', () => {
  assert.equal(inspectorRequested([], undefined), false);
  assert.equal(inspectorRequested(['--inspect-port=0'], '--max-old-space-size=256'), false);
  assert.equal(inspectorRequested(['--inspect'], undefined), true);
  assert.equal(inspectorRequested(['--inspect=127.0.0.1:9230'], undefined), true);
  assert.equal(inspectorRequested([], '--inspect-brk'), true);
  assert.equal(inspectorRequested([], '--enable-source-maps --inspect-wait=0'), true);
});
