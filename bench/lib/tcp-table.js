/**
 * The kernel's view of one listening port, from /proc/net/tcp and tcp6:
 * how many connections to it are established, and how many of those still
 * sit in the accept queues of its listening sockets (the `rx_queue` of a
 * LISTEN entry is its accept queue length). Accepted = established − queued.
 * Plus the host-wide listen-queue overflow counter (TcpExt ListenOverflows).
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';
const ESTABLISHED = '01';

/** @returns {{ established: number, queued: number, listeners: number }} */
export function portState(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out = { established: 0, queued: 0, listeners: 0 };
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || !f[1].endsWith(`:${hexPort}`)) continue;
      if (f[3] === ESTABLISHED) out.established += 1;
      else if (f[3] === LISTEN) {
        out.listeners += 1;
        out.queued += parseInt(f[4].split(':')[1], 16);
      }
    }
  }
  return out;
}

/** TcpExt ListenOverflows (connections dropped because an accept queue was full), host-wide; null where unreadable. */
export function listenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (!lines[i].startsWith('TcpExt:')) continue;
      const names = lines[i].split(/\s+/);
      const values = lines[i + 1].split(/\s+/);
      const at = names.indexOf('ListenOverflows');
      return at < 0 ? null : Number(values[at]);
    }
  } catch { /* not Linux */ }
  return null;
}
