/**
 * leanBind (transport/lean-bind) must bind exactly as Node's
 * AsyncResource.prototype.bind does — async context, `this`, arguments and
 * result — and H2Session.open must put Node's method back after every call,
 * also when session.request throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { ClientHttp2Session } from 'node:http2';
import { leanBind } from '../../src/transport/lean-bind.js';
import { H2Session } from '../../src/transport/h2-session.js';
import { UpstreamTls } from '../../src/tls/upstream-tls.js';

test('leanBind keeps the async context of the resource, like Node bind', () => {
  const als = new AsyncLocalStorage<string>();
  const resource = als.run('where it was made', () => new AsyncResource('test'));
  const read = () => als.getStore();
  const lean = leanBind.call(resource, read);
  const node = resource.bind(read);
  assert.equal(als.run('where it is called', () => lean()), 'where it was made');
  assert.equal(als.run('where it is called', () => node()), 'where it was made');
});

test('leanBind passes this, arguments and the result through, like Node bind', () => {
  const resource = new AsyncResource('test');
  function f(this: unknown, ...args: unknown[]): unknown {
    return { self: this, args };
  }
  const given = { given: true };
  const caller = { caller: true };
  for (const thisArg of [undefined, given]) {
    const lean = leanBind.call(resource, f, thisArg);
    // @types/node declares bind(fn) only; Node's own takes thisArg as well.
    const node = (resource.bind.bind(resource) as (fn: typeof f, thisArg?: unknown) => typeof f)(f, thisArg);
    assert.deepEqual(lean.call(caller, 1, 'two'), node.call(caller, 1, 'two'));
  }
  assert.equal((leanBind.call(resource, f, given)() as { self: unknown }).self, given);
});

test('H2Session.open restores AsyncResource.prototype.bind, also when session.request throws', () => {
  const nodeBind = AsyncResource.prototype.bind;
  let seen: unknown;
  const session = {
    request() {
      seen = AsyncResource.prototype.bind;
      throw Object.assign(new Error('gone'), { code: 'ERR_HTTP2_INVALID_SESSION' });
    },
  } as unknown as ClientHttp2Session;
  const s = new H2Session(session, { keepaliveMs: 0, connectTimeoutMs: 0, upstreamTls: new UpstreamTls({ serverName: undefined, material: undefined }) }, () => undefined);
  assert.throws(() => s.open({ ':path': '/' }, {}), /gone/);
  assert.equal(seen, leanBind, 'session.request ran with the lean bind');
  assert.equal(AsyncResource.prototype.bind, nodeBind, 'Node\'s bind is back');
  assert.equal(s.active, 0);
});
