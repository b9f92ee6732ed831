/**
 * CONFIG_FILE as a discovery source: the file's servers, expanded like
 * BACKENDS (plain entries as they are, `dns+` entries resolved), replaced as
 * a whole when the watcher applies a new valid file. SIGHUP reaches the
 * watcher through reloadNow().
 */
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { BackendAddress } from './backend-address.js';
import { ConfigWatcher } from './config-watcher.js';
import type { DiscoverySource, EmitDiff } from './discovery-source.js';
import { SourceSet, warnConflict } from './source-set.js';

export interface ConfigFileSourceOptions {
  readonly path: string;
  /** What loadConfig found in the file at startup. */
  readonly entries: readonly BackendAddress[];
  /** The file's text then, so that the first poll does not count as a change. */
  readonly text: string;
  readonly mode: 'http' | 'tcp';
  /** Turns the file's entries into sources (discovery.ts entrySources). */
  readonly sourcesFor: (entries: readonly BackendAddress[]) => DiscoverySource[];
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export class ConfigFileSource implements DiscoverySource {
  readonly name = 'CONFIG_FILE';
  private readonly set: SourceSet;
  private readonly watcher: ConfigWatcher;

  constructor(options: ConfigFileSourceOptions) {
    const { sourcesFor } = options;
    this.set = new SourceSet(sourcesFor(options.entries), warnConflict(options.logger));
    this.watcher = new ConfigWatcher(options.path, options.text, options.mode,
      (entries) => this.set.replaceChildren(sourcesFor(entries)), options.metrics, options.logger);
  }

  async start(emit: EmitDiff): Promise<void> {
    await this.set.start(emit);
    this.watcher.start();
  }

  close(): void {
    this.watcher.close();
    this.set.close();
  }

  reloadNow(trigger: string): Promise<void> {
    return this.watcher.reloadNow(trigger);
  }
}
