/**
 * The access line of one forwarded request. The data plane writes one per
 * request, so it is built directly rather than through pino's generic
 * serializer; the line is the one pino would write for the same fields (a
 * unit test holds the two together), and goes to the same ordered output.
 */

export interface AccessEntry {
  readonly reqId: string;
  readonly client: string;
  readonly method: string;
  readonly path: string;
  readonly backend: string | null;
  readonly status: number;
  readonly durationMs: number;
  readonly attempts: number;
  /** The client connection closed before the answer was complete. */
  readonly aborted: boolean;
}

/** pino's level number for `info`. */
const INFO = 30;

export function accessLine(e: AccessEntry, now: number): string {
  const backend = e.backend === null ? 'null' : JSON.stringify(e.backend);
  return `{"level":${INFO},"time":${now},"name":"outrigger","reqId":${JSON.stringify(e.reqId)},"client":${JSON.stringify(e.client)},`
    + `"method":${JSON.stringify(e.method)},"path":${JSON.stringify(e.path)},"backend":${backend},"status":${e.status},`
    + `"durationMs":${Math.round(e.durationMs * 100) / 100},"attempts":${e.attempts}${e.aborted ? ',"aborted":true' : ''},"msg":"request"}\n`;
}
