/**
 * Closes a Node inspector that a SIGUSR1 opened during startup. Until
 * signals.ts installs its SIGUSR1 listener (about 200 ms after exec on a busy
 * machine), Node's own handler still answers SIGUSR1 by listening on
 * 127.0.0.1:9229, where every container of the pod can reach it. Run right
 * after the listener is installed; an inspector the operator asked for
 * (`--inspect`, `--inspect-brk` or `--inspect-wait`, on the command line or
 * in NODE_OPTIONS) is left alone. `--disable-sigusr1` (Node ≥ 22.14, used by
 * the image) closes the window entirely.
 *
 * On Node 22 and 24 one early SIGUSR1 sometimes starts the inspector twice
 * (two "Debugger listening" lines, same port, new id): on a loaded machine
 * about one startup in 10 to 30, the second start up to ~150 ms after the
 * first close. A single check then leaves it listening, so the check repeats
 * for the first two seconds (Node 20 never did this in the same runs).
 */
import inspector from 'node:inspector';
import type { Logger } from '../log.js';

const INSPECT_FLAG = /^--inspect(-brk|-wait)?(=|$)/;
/** When to look again, in ms after the first check. */
const RECHECKS_MS = [0, 50, 250, 1000, 2000];

/** True when the command line or NODE_OPTIONS asks for an inspector. */
export function inspectorRequested(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const args = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return args.some((a) => INSPECT_FLAG.test(a));
}

/** Closes an unrequested inspector now and at each of RECHECKS_MS (timers unref'd). */
export function guardInspector(execArgv: readonly string[], nodeOptions: string | undefined, logger: Logger): void {
  if (inspectorRequested(execArgv, nodeOptions)) return;
  const started = Date.now();
  const check = () => {
    if (inspector.url() === undefined) return;
    inspector.close();
    logger.warn({ signal: 'SIGUSR1', afterMs: Date.now() - started }, 'closed a Node inspector opened by SIGUSR1 during startup');
  };
  check();
  for (const ms of RECHECKS_MS) setTimeout(check, ms).unref();
}
