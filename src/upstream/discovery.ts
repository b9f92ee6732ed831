/**
 * From configured entries (BACKENDS, or the servers of CONFIG_FILE) to
 * discovery sources, in configuration order: each run of plain entries is a
 * StaticSource, each `dns+` entry a DnsSource. SourceSet merges them.
 */
import { lookup } from 'node:dns/promises';
import type { Logger } from '../log.js';
import type { BackendAddress } from './backend-address.js';
import type { DiscoverySource } from './discovery-source.js';
import { DnsSource, Serial, type DnsContext, type Resolve } from './dns-source.js';
import { StaticSource } from './static-source.js';

export type { Resolve };

const defaultResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

/** The state every DNS source of one process shares (queue, last good records). */
export function dnsContext(refreshMs: number, logger: Logger, resolve: Resolve = defaultResolve): DnsContext {
  return { refreshMs, logger, resolve, queue: new Serial(), lastGood: new Map(), failing: new Set() };
}

export function entrySources(entries: readonly BackendAddress[], dns: DnsContext): DiscoverySource[] {
  const sources: DiscoverySource[] = [];
  let plain: BackendAddress[] = [];
  const flush = () => {
    if (plain.length > 0) sources.push(new StaticSource(plain));
    plain = [];
  };
  for (const entry of entries) {
    if (!entry.dns) {
      plain.push(entry);
      continue;
    }
    flush();
    sources.push(new DnsSource(entry, dns));
  }
  flush();
  return sources;
}
