/**
 * One `dns+` entry: its name's A/AAAA records, each a backend, re-resolved
 * every DNS_REFRESH_MS. A failed lookup keeps the last good records (like
 * Envoy's STRICT_DNS) rather than emptying the pool. Lookups of every DNS
 * source run one at a time through a shared queue, and the last good records
 * are shared too, so that a CONFIG_FILE reload, which makes new sources,
 * keeps them through a DNS outage. A name that stops resolving is logged
 * once, with the error's code, and once more when it resolves again.
 */
import type { Logger } from '../log.js';
import { formatId, type BackendAddress } from './backend-address.js';
import { diffAddresses, isEmptyDiff, type DiscoverySource, type EmitDiff } from './discovery-source.js';

export type Resolve = (host: string) => Promise<string[]>;

/** Runs tasks one after another. */
export class Serial {
  private tail: Promise<void> = Promise.resolve();

  run(task: () => Promise<void>): Promise<void> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** What the DNS sources of one process share. */
export interface DnsContext {
  readonly refreshMs: number;
  readonly logger: Logger;
  readonly resolve: Resolve;
  readonly queue: Serial;
  /** `host:port` → the records of the last successful lookup. */
  readonly lastGood: Map<string, string[]>;
  /** The `host:port` entries whose last lookup failed: a failure is logged when it starts, a recovery when it ends (SPEC §7). */
  readonly failing: Set<string>;
}

export class DnsSource implements DiscoverySource {
  private current: BackendAddress[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private emit: EmitDiff = () => undefined;

  constructor(
    private readonly entry: BackendAddress,
    private readonly ctx: DnsContext,
  ) {}

  async start(emit: EmitDiff): Promise<void> {
    this.emit = emit;
    await this.refresh();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async refresh(): Promise<void> {
    await this.ctx.queue.run(async () => {
      if (this.closed) return;
      const next = await this.expand();
      // Closed while the lookup ran (a newer config replaced this source): its answer is dropped.
      if (this.closed) return;
      const diff = diffAddresses(this.current, next);
      const unchanged = isEmptyDiff(diff, this.current);
      this.current = next;
      if (!unchanged) this.emit(diff);
    });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.refresh(), this.ctx.refreshMs);
    this.timer.unref();
  }

  private async expand(): Promise<BackendAddress[]> {
    const { entry, ctx } = this;
    const key = `${entry.host}:${entry.port}`;
    let ips: string[];
    try {
      ips = [...new Set(await ctx.resolve(entry.host))].sort();
      ctx.lastGood.set(key, ips);
      if (ctx.failing.delete(key)) ctx.logger.info({ host: entry.host, records: ips.length }, 'dns lookup recovered');
    } catch (err) {
      ips = ctx.lastGood.get(key) ?? [];
      if (!ctx.failing.has(key)) {
        ctx.failing.add(key);
        ctx.logger.warn({ host: entry.host, code: (err as NodeJS.ErrnoException).code, keeping: ips.length }, 'dns lookup failed; keeping the last good records');
      }
    }
    return ips.map((ip) => ({ ...entry, host: ip, id: formatId(ip, entry.port), dns: false }));
  }
}
