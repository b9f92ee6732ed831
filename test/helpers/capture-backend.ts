/**
 * A raw TCP backend on 127.0.0.1:0 that records exactly the bytes a proxy
 * forwards, answers `200 ok` for what it received once the line goes quiet,
 * and a strict RFC 9112 reading of those bytes ("forward invariants"): one
 * framing per message, `chunked` alone, no control bytes in a head.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Backend: capture\r\n\r\nok';

export interface ForwardCheck {
  /** Messages whose head arrived complete. */
  readonly messages: number;
  /** Violations of the forward invariants. */
  readonly problems: string[];
  /** The bytes stop mid-message: a truncated forward of a deliberately incomplete input, not a violation. */
  readonly truncated: boolean;
}

/** Reads `data` (Latin-1, one char per byte) as a stream of HTTP/1.1 requests. */
export function checkForwarded(data: string): ForwardCheck {
  const problems: string[] = [];
  let messages = 0;
  let i = 0;
  while (i < data.length) {
    const end = data.indexOf('\r\n\r\n', i);
    if (end < 0) return { messages, problems, truncated: true };
    const lines = data.slice(i, end).split('\r\n');
    const framing = checkHead(lines, problems);
    messages += 1;
    i = end + 4;
    if (framing.chunked) {
      const next = skipChunked(data, i, problems);
      if (next === undefined) return { messages, problems, truncated: problems.length === 0 };
      i = next;
    } else if (framing.length !== undefined) {
      i += framing.length;
      if (i > data.length) return { messages, problems, truncated: true };
    }
  }
  return { messages, problems, truncated: false };
}

function checkHead(lines: string[], problems: string[]): { chunked: boolean; length: number | undefined } {
  if (lines.some((l) => /[\r\n\0]/.test(l))) problems.push('bare CR, LF or NUL in head');
  const parts = lines[0]!.split(' ');
  if (parts.length !== 3 || !TOKEN.test(parts[0]!) || !/^HTTP\/1\.[01]$/.test(parts[2]!)) problems.push(`bad request-line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const cl: string[] = [];
  const te: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) { problems.push('field line without colon'); continue; }
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name)) problems.push(`bad field name ${JSON.stringify(name.slice(0, 40))}`);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) problems.push(`control byte in the value of ${name}`);
    if (name.toLowerCase() === 'content-length') cl.push(value);
    if (name.toLowerCase() === 'transfer-encoding') te.push(value.toLowerCase());
  }
  if (cl.length > 0 && te.length > 0) problems.push('both Content-Length and Transfer-Encoding forwarded');
  if (cl.length > 1) problems.push(`${cl.length} Content-Length forwarded`);
  if (te.length > 0 && (te.length !== 1 || te[0] !== 'chunked')) problems.push(`Transfer-Encoding other than chunked forwarded: ${JSON.stringify(te)}`);
  if (cl.length > 0 && !/^[0-9]+$/.test(cl[0]!)) problems.push(`non-numeric Content-Length ${JSON.stringify(cl[0])}`);
  return { chunked: te.length > 0, length: cl.length > 0 && /^[0-9]+$/.test(cl[0]!) ? Number(cl[0]) : undefined };
}

/** Index after a strict chunked body, or undefined when it is incomplete (or, with a problem pushed, malformed). */
function skipChunked(data: string, from: number, problems: string[]): number | undefined {
  let i = from;
  for (;;) {
    const le = data.indexOf('\r\n', i);
    if (le < 0) return undefined;
    const size = data.slice(i, le).split(';', 1)[0]!;
    if (!/^[0-9A-Fa-f]+$/.test(size)) { problems.push(`bad chunk-size ${JSON.stringify(size.slice(0, 20))}`); return undefined; }
    const n = parseInt(size, 16);
    i = le + 2;
    if (n === 0) {
      const end = data.indexOf('\r\n\r\n', i - 2);
      return end < 0 ? undefined : end + 4;
    }
    if (data.length < i + n + 2) return undefined;
    if (data.slice(i + n, i + n + 2) !== '\r\n') { problems.push('chunk data not followed by CRLF'); return undefined; }
    i += n + 2;
  }
}

interface Conn { data: string; answered: number; timer: NodeJS.Timeout | undefined; socket: net.Socket; closed: boolean }

export interface Captured {
  readonly data: string;
  /** The proxy has closed (or reset) this connection. */
  readonly closed: boolean;
}

export interface CaptureBackend {
  readonly port: number;
  /** What each connection received since the last take() (non-empty ones only), and forgets it. */
  take(): Captured[];
  close(): Promise<void>;
}

/** `quietMs` of silence on a connection → one `200 ok` per request head seen (at least one). */
export async function startCaptureBackend(quietMs = 100): Promise<CaptureBackend> {
  const conns = new Set<Conn>();
  const server = net.createServer((socket) => {
    const conn: Conn = { data: '', answered: 0, timer: undefined, socket, closed: false };
    conns.add(conn);
    socket.on('data', (d: Buffer) => {
      conn.data += d.toString('latin1');
      clearTimeout(conn.timer);
      conn.timer = setTimeout(() => {
        const due = Math.max(checkForwarded(conn.data).messages, conn.data.length > 0 ? 1 : 0);
        for (; conn.answered < due; conn.answered += 1) if (socket.writable) socket.write(ANSWER);
      }, quietMs);
    });
    socket.on('error', () => undefined);
    socket.on('end', () => (conn.closed = true));
    socket.on('close', () => {
      conn.closed = true;
      clearTimeout(conn.timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    take() {
      const out: Captured[] = [];
      for (const c of conns) {
        if (c.data !== '') out.push({ data: c.data, closed: c.closed });
        c.data = '';
        c.answered = 0;
        if (c.closed) conns.delete(c);
      }
      return out;
    },
    close: () => new Promise<void>((resolve) => {
      for (const c of conns) { clearTimeout(c.timer); c.socket.destroy(); }
      server.close(() => resolve());
    }),
  };
}
