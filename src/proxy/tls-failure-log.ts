/**
 * The warn line for a failed TLS handshake with a backend (a certificate not
 * trusted, a name that does not match, a handshake the backend refused): it
 * names the backend and the TLS error's code and reason, so that a 502
 * `connect_failed` with `kind="protocol"` can be diagnosed. At most one line
 * per backend and code per interval: a broken backend under load does not
 * flood the log. The clock is injected.
 */
import type { ConnectFailedError } from '../errors.js';
import type { Logger } from '../log.js';

export const TLS_FAILURE_LOG_INTERVAL_MS = 60_000;
/** Backend and code pairs remembered at most; beyond, the memory starts over (a line more, never unbounded). */
const MAX_REMEMBERED = 1024;

export class TlsFailureLog {
  /** `backend code` → when its line was last written. */
  private readonly last = new Map<string, number>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = TLS_FAILURE_LOG_INTERVAL_MS,
  ) {}

  /** Writes the line for `err` unless one for its backend and code went out within the interval. */
  report(err: ConnectFailedError): void {
    const code = err.tlsCode;
    if (code === undefined) return;
    const key = `${err.backend} ${code}`;
    const now = this.now();
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.intervalMs) return;
    if (at === undefined && this.last.size >= MAX_REMEMBERED) this.last.clear();
    this.last.set(key, now);
    const cause = err.cause as { message?: unknown } | undefined;
    const reason = typeof cause?.message === 'string' ? cause.message.replace(/\s+/g, ' ').trim() : undefined;
    this.logger.warn({ backend: err.backend, code, reason }, 'TLS handshake with a backend failed; check its certificate, UPSTREAM_TLS_CA_FILE and UPSTREAM_TLS_SERVER_NAME');
  }
}
