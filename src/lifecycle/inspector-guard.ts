/**
 * Closes a Node inspector that a SIGUSR1 opened during startup. Until
 * signals.ts installs its SIGUSR1 listener (about 200 ms after exec on a busy
 * machine), Node's own handler still answers SIGUSR1 by listening on
 * 127.0.0.1:9229, where every container of the pod can reach it. Run right
 * after the listener is installed; an inspector the operator asked for
 * (`--inspect`, `--inspect-brk`, `--inspect-wait` on the command line or in
 * NODE_OPTIONS) is left alone. `--disable-sigusr1` (Node ≥ 22.14, used by the
 * image) closes the window entirely.
 */
import inspector from 'node:inspector';
import type { Logger } from '../log.js';

const INSPECT_FLAG = /^--inspect(-brk|-wait)?(=|$)/;

/** True when the command line or NODE_OPTIONS asks for an inspector. */
export function inspectorRequested(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const args = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return args.some((a) => INSPECT_FLAG.test(a));
}

/** Returns true if it closed an inspector. */
export function closeUnrequestedInspector(execArgv: readonly string[], nodeOptions: string | undefined, logger: Logger): boolean {
  const url = inspector.url();
  if (url === undefined || inspectorRequested(execArgv, nodeOptions)) return false;
  inspector.close();
  logger.warn({ signal: 'SIGUSR1' }, 'closed a Node inspector opened by SIGUSR1 during startup');
  return true;
}
