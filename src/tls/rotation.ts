/**
 * Certificate rotation without a restart (SPEC §9). The listener's files
 * (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE), and the UPSTREAM_TLS_*
 * files of the identity towards backends (tls/upstream-tls), are watched the way
 * Kubernetes updates a Secret volume (upstream/file-watch: directory events
 * for the `..data` symlink swap, plus a poll). When their text changes they
 * are read again (bounded reader) and checked (tls/cert-files); a good set
 * becomes the secure context of new handshakes, while established
 * connections carry on with theirs. A bad set keeps the last good one, is
 * logged once and counted as outrigger_config_reloads_total{result="failure"}.
 * Reloads run one at a time; SIGHUP calls reloadNow(), which applies the
 * files even if their text is unchanged.
 */
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Reloadable } from '../lifecycle/signals.js';
import { TlsMaterialError } from '../errors.js';
import { FileWatch } from '../upstream/file-watch.js';
import { checkTlsTexts, readTlsFiles, type TlsFiles, type TlsMaterial, type TlsTexts, type TlsVersion } from './cert-files.js';

export interface TlsRotationOptions {
  readonly files: TlsFiles;
  readonly minVersion: TlsVersion;
  /** What the files held at startup, so that the first poll does not count as a change. */
  readonly initial: TlsMaterial;
  /** Puts checked material into effect (ListenerTls.setMaterial, UpstreamTls.setMaterial). */
  readonly apply: (material: TlsMaterial) => void;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** For the logs and SIGHUP: the certificate variable (TLS_CERT_FILE by default). */
  readonly name?: string;
}

const joined = (t: TlsTexts): string => `${t.cert ?? ''}\0${t.key ?? ''}\0${t.ca ?? ''}`;

/** CA certificates named in a reload line, at most (the count is always there). */
const CA_LOGGED = 10;

/** The variables whose file text differs from `before` (all of them when nothing is known of before). */
function changedFiles(files: TlsFiles, before: TlsTexts | undefined, now: TlsTexts): string[] {
  const out: string[] = [];
  for (const k of ['cert', 'key', 'ca'] as const) {
    const ref = files[k];
    if (ref !== undefined && (before === undefined || before[k] !== now[k])) out.push(ref.variable);
  }
  return out;
}

/** A reload line's CA fields: how many certificates, and the first ones' subject and fingerprint. */
function caFields(material: TlsMaterial): Record<string, unknown> {
  const cas = material.caCertificates;
  if (cas === undefined) return {};
  return { caCount: cas.length, caCertificates: cas.slice(0, CA_LOGGED).map((c) => `${c.subject} (sha256 ${c.sha256})`) };
}

export class TlsRotation implements Reloadable {
  readonly name: string;
  private readonly watch: FileWatch;
  /** The texts last seen, or undefined after a read failed (so that the next good read counts). */
  private lastText: string | undefined;
  /** The texts last applied: a reload line names the files that changed since. */
  private applied: TlsTexts;
  /** The failure last reported, so that the poll reports each one once. */
  private lastFailure: string | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: TlsRotationOptions) {
    this.name = o.name ?? 'TLS_CERT_FILE';
    this.lastText = joined(o.initial);
    this.applied = o.initial;
    const paths = [o.files.cert, o.files.key, o.files.ca].flatMap((f) => (f === undefined ? [] : [f.path]));
    this.watch = new FileWatch(paths, () => void this.enqueue('watch', false), o.logger, this.name);
  }

  start(): void {
    warnIfExpired(this.o.initial, this.o.logger, this.name);
    this.watch.start();
  }

  close(): void {
    this.closed = true;
    this.watch.close();
  }

  /** Re-reads the files and applies them even if unchanged (SIGHUP). */
  reloadNow(trigger: string): Promise<void> {
    return this.enqueue(trigger, true);
  }

  private enqueue(trigger: string, force: boolean): Promise<void> {
    this.queue = this.queue
      .then(() => this.readAndApply(trigger, force))
      .catch((err: unknown) => this.o.logger.error({ err }, 'TLS reload failed'));
    return this.queue;
  }

  private async readAndApply(trigger: string, force: boolean): Promise<void> {
    if (this.closed) return;
    let texts: TlsTexts;
    try {
      texts = await readTlsFiles(this.o.files);
    } catch (err) {
      this.lastText = undefined;
      return this.reject(err, trigger, force);
    }
    const text = joined(texts);
    if (!force && text === this.lastText) return;
    this.lastText = text;
    let material: TlsMaterial;
    try {
      material = checkTlsTexts(this.o.files, texts, this.o.minVersion);
    } catch (err) {
      return this.reject(err, trigger, true);
    }
    this.o.apply(material);
    const changed = changedFiles(this.o.files, this.applied, texts);
    this.applied = texts;
    this.lastFailure = undefined;
    this.o.metrics.configReloads.inc({ result: 'success' });
    // `changed` names the files whose text differs from the set applied before (none: a SIGHUP with nothing new);
    // the message stays the same whichever changed, for whoever matches on it.
    const ca = this.o.files.ca !== undefined && changed.includes(this.o.files.ca.variable) ? caFields(material) : {};
    this.o.logger.info({ what: this.name, changed, serial: material.serial, notAfter: isoTime(material.notAfter), ...ca, trigger }, 'TLS certificate reloaded');
    warnIfExpired(material, this.o.logger, this.name);
  }

  /** `fresh`: a new text, or a forced reload, whose failure is reported even if it reads as the last one. */
  private reject(err: unknown, trigger: string, fresh: boolean): void {
    if (!(err instanceof TlsMaterialError)) throw err;
    const reason = `${err.variable}: ${err.message}`;
    if (!fresh && reason === this.lastFailure) return;
    this.lastFailure = reason;
    this.o.metrics.configReloads.inc({ result: 'failure' });
    this.o.logger.error({ reason, trigger }, 'TLS reload rejected; keeping the last good certificate');
  }
}

function isoTime(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
}

function warnIfExpired(material: TlsMaterial, logger: Logger, name: string): void {
  if (material.notAfter !== undefined && material.notAfter * 1000 < Date.now()) {
    logger.warn({ serial: material.serial, notAfter: isoTime(material.notAfter) }, `the certificate of ${name} has expired`);
  }
}
