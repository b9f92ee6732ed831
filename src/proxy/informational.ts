/**
 * Relaying a backend's 1xx answer to the client. 100 Continue goes only to
 * a client that asked for it; 103 Early Hints goes through. A hint Node
 * cannot re-encode is dropped (a 103 is advisory) rather than allowed to
 * throw, and so is any 1xx while the client's connection has unsent bytes
 * queued past its high-water mark (Node writes 1xx without backpressure).
 * Returns true when something was sent to the client.
 */
import { informationalBlocked, sendContinue, sendEarlyHints, type ClientResponse } from './downstream.js';

export function relayInformational(res: ClientResponse, expectContinue: boolean, status: number, rawHeaders: readonly string[]): boolean {
  if (informationalBlocked(res)) return false;
  try {
    if (status === 100) {
      if (!expectContinue) return false;
      sendContinue(res);
      return true;
    }
    if (status !== 103) return false;
    // No prototype: a field named `constructor` or `__proto__` is a field like any other.
    const hints: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toLowerCase();
      // Node wants one link per array entry; a backend may send a comma-separated list.
      const values = name === 'link' ? rawHeaders[i + 1]!.split(/,\s*(?=<)/) : [rawHeaders[i + 1]!];
      const prior = hints[name];
      hints[name] = prior === undefined && values.length === 1 ? values[0]! : [...(prior === undefined ? [] : [prior].flat()), ...values];
    }
    if (hints.link === undefined) return false;
    sendEarlyHints(res, hints);
    return true;
  } catch {
    return false;
  }
}
