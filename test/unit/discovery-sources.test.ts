/**
 * Each discovery source on its own: StaticSource, DnsSource (fake resolver,
 * mocked timers, no real DNS), SourceSet (merging and swapping), and
 * ConfigFileSource (a real file, reloaded through reloadNow()).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBackendEntry, parseBackendList, type BackendAddress } from '../../src/upstream/backend-address.js';
import type { BackendDiff, DiscoverySource, EmitDiff } from '../../src/upstream/discovery-source.js';
import { StaticSource } from '../../src/upstream/static-source.js';
import { DnsSource, type Resolve } from '../../src/upstream/dns-source.js';
import { dnsContext, entrySources } from '../../src/upstream/discovery.js';
import { SourceSet } from '../../src/upstream/source-set.js';
import { ConfigFileSource } from '../../src/upstream/config-file-source.js';
import { createMetrics } from '../../src/metrics.js';

const list = (text: string) => parseBackendList(text);
const ids = (items: readonly { id: string }[]) => items.map((b) => b.id);
const settle = () => new Promise((resolve) => setImmediate(resolve));

function fakeLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as never };
}

function recorder() {
  const diffs: BackendDiff[] = [];
  const emit: EmitDiff = (diff) => diffs.push(diff);
  return { diffs, emit };
}

/** A resolver answering from a table that tests edit; a missing name fails like ENOTFOUND. */
function tableResolver(table: Record<string, string[]>) {
  let active = 0;
  let maxActive = 0;
  const calls: string[] = [];
  const resolve: Resolve = async (host) => {
    calls.push(host);
    active += 1;
    maxActive = Math.max(maxActive, active);
    await settle();
    active -= 1;
    const ips = table[host];
    if (ips === undefined) throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return ips;
  };
  return { resolve, calls, maxActive: () => maxActive };
}

test('StaticSource reports its list once, in order; an empty list reports nothing', async () => {
  const { diffs, emit } = recorder();
  await new StaticSource(list('b.local:2;weight=2,a.local:1')).start(emit);
  assert.deepEqual(diffs, [{ added: list('b.local:2;weight=2,a.local:1'), removed: [], order: ['b.local:2', 'a.local:1'] }]);
  const empty = recorder();
  await new StaticSource([]).start(empty.emit);
  assert.deepEqual(empty.diffs, []);
});

test('DnsSource: each record, sorted and unique, is a backend with the entry\'s scheme, port and weight', async (t) => {
  const { resolve } = tableResolver({ 'api.svc': ['10.0.0.2', '10.0.0.1', '10.0.0.2', 'fd00::1'] });
  const source = new DnsSource(parseBackendEntry('dns+https://api.svc:8443;weight=3'), dnsContext(1000, fakeLogger().logger, resolve));
  t.after(() => source.close());
  const { diffs, emit } = recorder();
  await source.start(emit);
  assert.equal(diffs.length, 1);
  assert.deepEqual(diffs[0]!.added, [
    { id: '10.0.0.1:8443', scheme: 'https', host: '10.0.0.1', port: 8443, weight: 3, dns: false },
    { id: '10.0.0.2:8443', scheme: 'https', host: '10.0.0.2', port: 8443, weight: 3, dns: false },
    { id: '[fd00::1]:8443', scheme: 'https', host: 'fd00::1', port: 8443, weight: 3, dns: false },
  ]);
});

test('DnsSource: re-resolved every DNS_REFRESH_MS; a change is one diff, no change is silent', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const table = { 'api.svc': ['10.0.0.1', '10.0.0.3'] };
  const { resolve, calls } = tableResolver(table);
  const source = new DnsSource(parseBackendEntry('dns+http://api.svc:80'), dnsContext(5000, fakeLogger().logger, resolve));
  t.after(() => source.close());
  const { diffs, emit } = recorder();
  await source.start(emit);
  t.mock.timers.tick(4999);
  await settle();
  assert.equal(calls.length, 1, 'not before DNS_REFRESH_MS');
  t.mock.timers.tick(1);
  await settle();
  await settle();
  assert.equal(calls.length, 2);
  assert.equal(diffs.length, 1, 'same records: nothing emitted');
  table['api.svc'] = ['10.0.0.2', '10.0.0.3'];
  t.mock.timers.tick(5000);
  await settle();
  await settle();
  assert.equal(diffs.length, 2);
  assert.deepEqual(ids(diffs[1]!.added), ['10.0.0.2:80']);
  assert.deepEqual(diffs[1]!.removed, ['10.0.0.1:80']);
  assert.deepEqual(diffs[1]!.order, ['10.0.0.2:80', '10.0.0.3:80']);
});

test('DnsSource: a failed lookup keeps the last good records, logged; shared with a new source for the same entry', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const table: Record<string, string[]> = { 'api.svc': ['10.0.0.1'] };
  const { resolve } = tableResolver(table);
  const { lines, logger } = fakeLogger();
  const ctx = dnsContext(1000, logger, resolve);
  const first = new DnsSource(parseBackendEntry('dns+http://api.svc:80'), ctx);
  t.after(() => first.close());
  const one = recorder();
  await first.start(one.emit);
  delete table['api.svc'];
  t.mock.timers.tick(1000);
  await settle();
  await settle();
  assert.equal(one.diffs.length, 1, 'the failure changes nothing');
  assert.deepEqual(lines.map((l) => [l.msg, l.fields.keeping, l.fields.code]), [['dns lookup failed; keeping the last good records', 1, 'ENOTFOUND']]);
  // A CONFIG_FILE reload makes a new source for the same entry: it starts from the shared records.
  first.close();
  const second = new DnsSource(parseBackendEntry('dns+http://api.svc:80;weight=2'), ctx);
  t.after(() => second.close());
  const two = recorder();
  await second.start(two.emit);
  assert.deepEqual(two.diffs[0]!.added.map((a) => [a.id, a.weight]), [['10.0.0.1:80', 2]]);
});

test('DnsSource: a failing name is logged once when it starts failing (with the code) and once when it recovers (SPEC §7)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const table: Record<string, string[]> = { 'api.svc': ['10.0.0.1'] };
  const { resolve, calls } = tableResolver(table);
  const { lines, logger } = fakeLogger();
  const ctx = dnsContext(1000, logger, resolve);
  const source = new DnsSource(parseBackendEntry('dns+http://api.svc:80'), ctx);
  t.after(() => source.close());
  await source.start(recorder().emit);
  const refreshes = async (n: number) => {
    for (let i = 0; i < n; i++) {
      t.mock.timers.tick(1000);
      await settle();
      await settle();
    }
  };
  delete table['api.svc'];
  await refreshes(4);
  // A CONFIG_FILE reload's new source for the same entry, still failing: nothing new to say.
  const again = new DnsSource(parseBackendEntry('dns+http://api.svc:80'), ctx);
  t.after(() => again.close());
  await again.start(recorder().emit);
  assert.equal(calls.length, 6);
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.fields.code]), [['warn', 'dns lookup failed; keeping the last good records', 'ENOTFOUND']]);
  again.close();
  table['api.svc'] = ['10.0.0.2'];
  await refreshes(3);
  delete table['api.svc'];
  await refreshes(2);
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.fields.records ?? l.fields.code]), [
    ['warn', 'dns lookup failed; keeping the last good records', 'ENOTFOUND'],
    ['info', 'dns lookup recovered', 1],
    ['warn', 'dns lookup failed; keeping the last good records', 'ENOTFOUND'],
  ]);
});

test('DnsSource: a first lookup that fails with nothing known reports nothing', async (t) => {
  const source = new DnsSource(parseBackendEntry('dns+http://gone.svc:80'), dnsContext(1000, fakeLogger().logger, tableResolver({}).resolve));
  t.after(() => source.close());
  const { diffs, emit } = recorder();
  await source.start(emit);
  assert.deepEqual(diffs, []);
});

test('DNS sources of one context resolve one at a time; a source closed during its lookup reports nothing', async () => {
  const fake = tableResolver({ 'a.svc': ['10.0.0.1'], 'b.svc': ['10.0.0.2'], 'c.svc': ['10.0.0.3'] });
  const ctx = dnsContext(1000, fakeLogger().logger, fake.resolve);
  const sources = ['a', 'b', 'c'].map((n) => new DnsSource(parseBackendEntry(`dns+http://${n}.svc:80`), ctx));
  const { diffs, emit } = recorder();
  const started = sources.map((s) => s.start(emit));
  sources[1]!.close();
  await Promise.all(started);
  for (const s of sources) s.close();
  assert.equal(fake.maxActive(), 1);
  assert.deepEqual(fake.calls, ['a.svc', 'c.svc'], 'a source closed before its turn does not even look up');
  assert.deepEqual(diffs.map((d) => ids(d.added)), [['10.0.0.1:80'], ['10.0.0.3:80']]);
});

test('DnsSource: closed while its lookup is under way (a newer config replaced it), it drops the answer', async () => {
  let release: (ips: string[]) => void = () => undefined;
  let asked = (): void => undefined;
  const lookupStarted = new Promise<void>((resolve) => { asked = resolve; });
  const resolve: Resolve = () => new Promise((r) => { release = r; asked(); });
  const source = new DnsSource(parseBackendEntry('dns+http://api.svc:80'), dnsContext(1000, fakeLogger().logger, resolve));
  const { diffs, emit } = recorder();
  const started = source.start(emit);
  await lookupStarted;
  source.close();
  release(['10.0.0.1']);
  await started;
  assert.deepEqual(diffs, []);
});

/** A source that tests drive by hand. */
class ManualSource implements DiscoverySource {
  emit: EmitDiff = () => undefined;
  closed = false;
  constructor(private readonly initial: BackendAddress[]) {}
  async start(emit: EmitDiff): Promise<void> {
    this.emit = emit;
    if (this.initial.length > 0) emit({ added: this.initial, removed: [] });
  }
  close(): void {
    this.closed = true;
  }
}

test('SourceSet: one first diff with every source in order; a backend two sources report counts once, first weight', async () => {
  const set = new SourceSet([new ManualSource(list('a.local:1,b.local:2;weight=5')), new ManualSource(list('c.local:3,b.local:2;weight=9'))]);
  const { diffs, emit } = recorder();
  await set.start(emit);
  assert.equal(diffs.length, 1);
  assert.deepEqual(diffs[0]!.added.map((a) => [a.id, a.weight]), [['a.local:1', 1], ['b.local:2', 5], ['c.local:3', 1]]);
  assert.deepEqual(diffs[0]!.order, ['a.local:1', 'b.local:2', 'c.local:3']);
  set.close();
});

test('SourceSet: a backend two sources give different settings is reported once (the first entry\'s are used); same settings are not', async () => {
  const conflicts: Array<[string, number, number]> = [];
  const set = new SourceSet(
    [new ManualSource(list('a.local:1,b.local:2;weight=5')), new ManualSource(list('b.local:2;weight=9,a.local:1'))],
    (kept, ignored) => conflicts.push([kept.id, kept.weight, ignored.weight]),
  );
  const { emit } = recorder();
  await set.start(emit);
  assert.deepEqual(conflicts, [['b.local:2', 5, 9]], 'a.local:1 is listed twice alike: nothing to say');
  set.close();
});

test('SourceSet: a change in one source is a diff of the merged list, in place', async () => {
  const first = new ManualSource(list('a.local:1'));
  const second = new ManualSource(list('c.local:3'));
  const set = new SourceSet([first, second]);
  const { diffs, emit } = recorder();
  await set.start(emit);
  first.emit({ added: list('b.local:2'), removed: [] });
  assert.deepEqual(ids(diffs[1]!.added), ['b.local:2']);
  assert.deepEqual(diffs[1]!.order, ['a.local:1', 'b.local:2', 'c.local:3'], 'in the first source\'s block');
  second.emit({ added: list('a.local:1;weight=4'), removed: [] });
  assert.equal(diffs.length, 2, 'a duplicate of a backend the first source has changes nothing');
  first.emit({ added: [], removed: ['a.local:1'] });
  assert.deepEqual(diffs[2]!.added.map((a) => [a.id, a.weight]), [['a.local:1', 4]], 'the second source\'s copy takes over');
  assert.deepEqual(diffs[2]!.removed, []);
  set.close();
  assert.ok(first.closed && second.closed);
});

test('SourceSet.replaceChildren: new sources start first, then one diff; old ones are closed and ignored', async () => {
  const old = new ManualSource(list('a.local:1,b.local:2'));
  const set = new SourceSet([old]);
  const { diffs, emit } = recorder();
  await set.start(emit);
  const fresh = new ManualSource(list('b.local:2;weight=3,c.local:3'));
  await set.replaceChildren([fresh]);
  assert.ok(old.closed);
  assert.equal(diffs.length, 2);
  assert.deepEqual(diffs[1]!.removed, ['a.local:1']);
  assert.deepEqual(diffs[1]!.added.map((a) => [a.id, a.weight]), [['b.local:2', 3], ['c.local:3', 1]]);
  old.emit({ added: list('z.local:9'), removed: [] });
  assert.equal(diffs.length, 2, 'a replaced source is not heard any more');
  assert.deepEqual(ids(set.current()), ['b.local:2', 'c.local:3']);
  set.close();
});

test('entrySources: runs of plain entries and each dns+ entry, in configuration order', async (t) => {
  const ctx = dnsContext(1000, fakeLogger().logger, tableResolver({ 'api.svc': ['10.0.0.9', '10.0.0.8'] }).resolve);
  const set = new SourceSet(entrySources(list('a.local:1,b.local:2,dns+http://api.svc:80,c.local:3'), ctx));
  t.after(() => set.close());
  const { diffs, emit } = recorder();
  await set.start(emit);
  assert.deepEqual(diffs[0]!.order, ['a.local:1', 'b.local:2', '10.0.0.8:80', '10.0.0.9:80', 'c.local:3']);
  assert.deepEqual(entrySources(list('a.local:1,b.local:2,dns+http://api.svc:80,c.local:3'), ctx).map((s) => s.constructor.name),
    ['StaticSource', 'DnsSource', 'StaticSource']);
});

test('ConfigFileSource: starts from the startup entries; reloadNow() applies the file as one diff and counts it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-cfs-'));
  const path = join(dir, 'config.json');
  const text = JSON.stringify({ servers: [{ url: 'http://a.local:1' }] });
  writeFileSync(path, text);
  const metrics = createMetrics('test');
  const { lines, logger } = fakeLogger();
  const ctx = dnsContext(1000, logger, tableResolver({}).resolve);
  const source = new ConfigFileSource({ path, entries: list('a.local:1'), text, mode: 'http', sourcesFor: (e) => entrySources(e, ctx), metrics, logger });
  t.after(() => source.close());
  const { diffs, emit } = recorder();
  await source.start(emit);
  assert.deepEqual(ids(diffs[0]!.added), ['a.local:1']);
  assert.equal(source.name, 'CONFIG_FILE');

  writeFileSync(path, JSON.stringify({ servers: [{ url: 'http://b.local:2', weight: 2 }] }));
  await source.reloadNow('SIGHUP');
  assert.equal(diffs.length, 2);
  assert.deepEqual(diffs[1]!.removed, ['a.local:1']);
  assert.deepEqual(diffs[1]!.added.map((a) => [a.id, a.weight]), [['b.local:2', 2]]);
  assert.ok(lines.some((l) => l.msg === 'config reloaded' && l.fields.trigger === 'SIGHUP'));

  writeFileSync(path, '{"servers": 5}');
  await source.reloadNow('SIGHUP');
  assert.equal(diffs.length, 2, 'an invalid file changes nothing');
  const counts = (await metrics.configReloads.get()).values.map((v) => [v.labels.result, v.value]);
  assert.deepEqual(counts.sort(), [['failure', 1], ['success', 1]]);
});
