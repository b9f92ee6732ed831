/**
 * Discovery writes pool membership: static entries as they are, and each
 * `dns+` entry expanded to one backend per A/AAAA record, re-resolved every
 * DNS_REFRESH_MS. A failed lookup keeps the last good records (like Envoy's
 * STRICT_DNS) rather than emptying the pool.
 */
import { lookup } from 'node:dns/promises';
import type { Logger } from '../log.js';
import { formatId, type BackendAddress } from './backend-address.js';
import type { BackendSet } from './backend-set.js';

export type Resolve = (host: string) => Promise<string[]>;

const defaultResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

export class Discovery {
  private entries: readonly BackendAddress[] = [];
  private readonly lastGood = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Refreshes run one after another, so a slow DNS refresh cannot undo a newer config reload. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly set: BackendSet,
    private readonly refreshMs: number,
    private readonly logger: Logger,
    private readonly resolve: Resolve = defaultResolve,
  ) {}

  /** Sets the configured entries (from env or a config file reload) and applies them. */
  async setEntries(entries: readonly BackendAddress[]): Promise<void> {
    this.entries = entries;
    await this.enqueue();
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || !this.entries.some((e) => e.dns)) return;
    this.timer = setTimeout(() => void this.enqueue().finally(() => this.schedule()), this.refreshMs);
    this.timer.unref();
  }

  private enqueue(): Promise<void> {
    this.queue = this.queue.then(() => this.refresh(), () => this.refresh());
    return this.queue;
  }

  private async refresh(): Promise<void> {
    const entries = this.entries;
    const out: BackendAddress[] = [];
    const seen = new Set<string>();
    for (const entry of entries) {
      const expanded = entry.dns ? await this.expand(entry) : [entry];
      for (const address of expanded) {
        if (seen.has(address.id)) continue;
        seen.add(address.id);
        out.push(address);
      }
    }
    // Entries replaced while this refresh resolved names: the queued refresh after it applies them.
    if (!this.closed && entries === this.entries) this.set.replace(out);
  }

  private async expand(entry: BackendAddress): Promise<BackendAddress[]> {
    const key = `${entry.host}:${entry.port}`;
    let ips: string[];
    try {
      ips = [...new Set(await this.resolve(entry.host))].sort();
      this.lastGood.set(key, ips);
    } catch (err) {
      ips = this.lastGood.get(key) ?? [];
      this.logger.warn({ host: entry.host, code: (err as NodeJS.ErrnoException).code, keeping: ips.length }, 'dns lookup failed; keeping the last good records');
    }
    return ips.map((ip) => ({ ...entry, host: ip, id: formatId(ip, entry.port), dns: false }));
  }
}
