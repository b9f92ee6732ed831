/** Backend state changes, logged once per change. */
import type { Logger } from '../log.js';
import type { BackendSet } from './backend-set.js';

export function logBackendEvents(set: BackendSet, logger: Logger, onRemoved: (id: string) => void): void {
  set.onChange((backend, event, detail) => {
    const fields = { backend: backend.id, event, ...detail, ...(backend.lastProbe?.error ? { probeError: backend.lastProbe.error } : {}) };
    if (event === 'unhealthy' || event === 'ejected') logger.warn(fields, `backend ${event}`);
    else logger.info(fields, `backend ${event}`);
    if (event === 'removed') onRemoved(backend.id);
  });
}
