/**
 * A cheaper stand-in for Node's AsyncResource.prototype.bind, for the one
 * place that needs it (transport/h2-sessions, around session.request).
 */
import type { AsyncResource } from 'node:async_hooks';

/**
 * AsyncResource.prototype.bind with the same call semantics — `fn` runs in
 * the resource's async scope (so AsyncLocalStorage context is kept), with
 * `thisArg`, or else the caller's `this` — minus what Node adds on every
 * call: a deprecated `asyncResource` accessor pair (DEP0172) built with two
 * deprecate() wrappers, and a redefined `length`. ClientHttp2Session.request
 * (Node 20, 22 and 24) binds one callback per stream this way and reads
 * neither property; that was about a third of its cost per request
 * (docs/benchmarks.md, "CPU per request").
 */
export function leanBind(this: AsyncResource, fn: (...args: unknown[]) => unknown, thisArg?: unknown): (...args: unknown[]) => unknown {
  const resource = this;
  return function bound(this: unknown, ...args: unknown[]): unknown {
    return resource.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
  };
}
