/**
 * One request over a fresh raw connection to the proxy, and a strict
 * reading of what came back: the informational answers, the final head,
 * the body (by Content-Length, chunked, or until close) and its trailers,
 * and whether the answer was complete. A connection that ends mid-answer
 * (or without one) reads as a cut.
 */
import net from 'node:net';

export interface RawAnswer {
  /** Status codes of the 1xx answers before the final one. */
  readonly informational: number[];
  /** 0 when no final head arrived. */
  readonly status: number;
  /** Flat [name, value, …] of the final head. */
  readonly headers: string[];
  readonly body: string;
  readonly trailers: string[];
  /** The final answer arrived whole. */
  readonly complete: boolean;
}

/** Sends `data`, reads until a complete final answer, the proxy's close, or `timeoutMs`; `pauseMs`: do not read at first (a slow client). */
export function exchange(port: number, data: string, head: boolean, timeoutMs = 5000, pauseMs = 0): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(out, head));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (parseAnswer(out, head).complete) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    if (pauseMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    }
    socket.write(Buffer.from(data, 'latin1'));
  });
}

export function parseAnswer(text: string, head: boolean): RawAnswer {
  const informational: number[] = [];
  let i = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', i);
    if (end < 0) return { informational, status: 0, headers: [], body: '', trailers: [], complete: false };
    const lines = text.slice(i, end).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    i = end + 4;
    if (status >= 100 && status < 200) {
      informational.push(status);
      continue;
    }
    const headers = fields(lines.slice(1));
    const rest = text.slice(i);
    const at = (n: string) => { const k = headers.findIndex((v, j) => j % 2 === 0 && v.toLowerCase() === n); return k < 0 ? undefined : headers[k + 1]; };
    if (head || status === 204 || status === 304) return { informational, status, headers, body: '', trailers: [], complete: true };
    const cl = at('content-length');
    if (cl !== undefined) return { informational, status, headers, body: rest.slice(0, Number(cl)), trailers: [], complete: rest.length >= Number(cl) };
    if (at('transfer-encoding')?.toLowerCase() === 'chunked') return { informational, status, headers, ...dechunk(rest) };
    return { informational, status, headers, body: rest, trailers: [], complete: true };
  }
}

function fields(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    out.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

function dechunk(text: string): { body: string; trailers: string[]; complete: boolean } {
  let body = '';
  let i = 0;
  for (;;) {
    const eol = text.indexOf('\r\n', i);
    if (eol < 0) return { body, trailers: [], complete: false };
    const size = parseInt(text.slice(i, eol), 16);
    if (Number.isNaN(size)) return { body, trailers: [], complete: false };
    i = eol + 2;
    if (size === 0) {
      const end = text.indexOf('\r\n\r\n', i - 2);
      if (end < 0) return { body, trailers: [], complete: false };
      const block = text.slice(i, end);
      return { body, trailers: block === '' ? [] : fields(block.split('\r\n')), complete: true };
    }
    if (text.length < i + size + 2) return { body: body + text.slice(i), trailers: [], complete: false };
    body += text.slice(i, i + size);
    i += size + 2;
  }
}
