/**
 * A raw HTTP/2 client for abuse tests (RFC 9113 framing, RFC 7541 HPACK by
 * hand): it writes whatever frames a test builds, also the ones a real
 * client refuses to send, and records what the server sends back (frame
 * counts, RST_STREAM codes, the GOAWAY, when the connection closed).
 * Header blocks use literal fields without indexing and without Huffman
 * coding; answers are decoded only as far as their :status.
 */
import net from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** RFC 9113 §7 error codes by number, for messages. */
export const ERROR_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED'];
export const errorName = (code: number): string => ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
export const CANCEL = 0x8;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function settings(entries: ReadonlyArray<readonly [number, number]> = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export const settingsAck = (): Buffer => frame(FrameType.SETTINGS, Flag.ACK, 0);
export const ping = (data = Buffer.alloc(8), ack = false): Buffer => frame(FrameType.PING, ack ? Flag.ACK : 0, 0, data);

export function rstStream(streamId: number, code = CANCEL): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code, 0);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function headers(streamId: number, block: Buffer, o: { endStream?: boolean; endHeaders?: boolean } = {}): Buffer {
  const flags = (o.endStream !== false ? Flag.END_STREAM : 0) | (o.endHeaders !== false ? Flag.END_HEADERS : 0);
  return frame(FrameType.HEADERS, flags, streamId, block);
}

export const continuation = (streamId: number, block: Buffer, endHeaders = false): Buffer =>
  frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, block);

/** A whole header block as HEADERS plus as many CONTINUATION frames as SETTINGS_MAX_FRAME_SIZE (16 KiB) requires. */
export function headerFrames(streamId: number, block: Buffer, endStream = true, maxFrame = 16_384): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at === 0 || at < block.length; at += maxFrame) {
    const piece = block.subarray(at, at + maxFrame);
    const last = at + maxFrame >= block.length;
    parts.push(at === 0 ? headers(streamId, piece, { endStream, endHeaders: last }) : continuation(streamId, piece, last));
  }
  return Buffer.concat(parts);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix. */
export function hpackInteger(value: number, prefixBits: number, first = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A string literal without Huffman coding (RFC 7541 §5.2). */
const hpackString = (s: string): Buffer => Buffer.concat([hpackInteger(Buffer.byteLength(s, 'latin1'), 7), Buffer.from(s, 'latin1')]);

/** One "literal header field without indexing — new name" (RFC 7541 §6.2.2). */
export const literal = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);

/** A request header block: the four pseudo-headers (GET http://127.0.0.1/path by default), then `extra`. */
export function requestBlock(path = '/ping', extra: ReadonlyArray<readonly [string, string]> = [], method = 'GET'): Buffer {
  const fields: Array<readonly [string, string]> = [[':method', method], [':scheme', 'http'], [':authority', '127.0.0.1'], [':path', path], ...extra];
  return Buffer.concat(fields.map(([n, v]) => literal(n, v)));
}

export interface Frame { readonly type: number; readonly flags: number; readonly streamId: number; readonly payload: Buffer }
export interface Goaway { readonly lastStreamId: number; readonly code: number; readonly debug: string; readonly at: number }

/** Splits a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      out.push({ type: this.buf[3]!, flags: this.buf[4]!, streamId: this.buf.readUInt32BE(5) & 0x7fffffff, payload: this.buf.subarray(9, 9 + len) });
      this.buf = this.buf.subarray(9 + len);
    }
    return out;
  }
}

/** Digits in the HPACK Huffman code (RFC 7541 Appendix B): code → digit, by bit length. */
const HUFFMAN_DIGITS = new Map<string, string>([
  ['00000', '0'], ['00001', '1'], ['00010', '2'], ['011001', '3'], ['011010', '4'],
  ['011011', '5'], ['011100', '6'], ['011101', '7'], ['011110', '8'], ['011111', '9'],
]);
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/** The :status of a response header block if it comes first (as servers send it); undefined otherwise. */
export function decodeStatus(block: Buffer): number | undefined {
  const b = block[0];
  if (b === undefined) return undefined;
  if (b & 0x80) return STATIC_STATUS[b & 0x7f]; // indexed field
  let index: number;
  if ((b & 0xc0) === 0x40) index = b & 0x3f; // literal with incremental indexing
  else if ((b & 0xe0) === 0x20) return decodeStatus(block.subarray(1)); // table size update (small sizes only)
  else index = b & 0x0f; // without / never indexed
  if (index < 8 || index > 14) return undefined;
  const lenByte = block[1]!;
  const huffman = (lenByte & 0x80) !== 0;
  const raw = block.subarray(2, 2 + (lenByte & 0x7f));
  if (!huffman) return Number(raw.toString('latin1'));
  let bits = '';
  for (const byte of raw) bits += byte.toString(2).padStart(8, '0');
  let text = '';
  let code = '';
  for (const bit of bits) {
    code += bit;
    const digit = HUFFMAN_DIGITS.get(code);
    if (digit !== undefined) { text += digit; code = ''; }
    if (text.length === 3) break;
  }
  return text.length === 3 ? Number(text) : undefined;
}

/** What the server sent on one raw connection. */
export interface RawH2 {
  readonly socket: net.Socket;
  readonly openedAt: number;
  /** Frames received, by type. */
  readonly counts: Map<number, number>;
  /** RST_STREAM codes received, by stream id. */
  readonly resets: Map<number, number>;
  /** :status of response HEADERS, by stream id. */
  readonly statuses: Map<number, number | undefined>;
  goaway(): Goaway | undefined;
  /** Every GOAWAY received, in order. */
  goaways(): readonly Goaway[];
  /** ms after openedAt when the socket closed; undefined while open. */
  closedAfter(): number | undefined;
  /** Writes and waits for the socket to drain if it asked; false once the connection is gone. */
  send(data: Buffer): Promise<boolean>;
  alive(): boolean;
  /** Resolves true once a GOAWAY arrived or the socket closed, false after `timeoutMs`. */
  waitEnded(timeoutMs: number): Promise<boolean>;
  /** Resolves true once `done()` holds, false after `timeoutMs`; checked on every received chunk. */
  waitFor(done: () => boolean, timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Connects, sends the preface and an empty SETTINGS, and ACKs the server's SETTINGS (once, unless `ackSettings` is false). */
export function connectH2(port: number, o: { ackSettings?: boolean } = {}): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const reader = new FrameReader();
    const counts = new Map<number, number>();
    const resets = new Map<number, number>();
    const statuses = new Map<number, number | undefined>();
    let goaway: Goaway | undefined;
    const goaways: Goaway[] = [];
    let openedAt = 0;
    let closedAt: number | undefined;
    let acked = o.ackSettings === false;
    const waiters = new Set<() => void>();
    const wake = () => { for (const w of [...waiters]) w(); };
    socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
        if (f.type === FrameType.RST_STREAM) resets.set(f.streamId, f.payload.readUInt32BE(0));
        if (f.type === FrameType.HEADERS && !statuses.has(f.streamId)) statuses.set(f.streamId, decodeStatus(f.payload));
        if (f.type === FrameType.GOAWAY) {
          goaways.push({ lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString('latin1'), at: Date.now() });
          goaway ??= goaways[0];
        }
        if (f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0 && !acked && !socket.destroyed) {
          acked = true;
          socket.write(settingsAck());
        }
      }
      wake();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => { closedAt = Date.now(); wake(); });
    const waitFor = (done: () => boolean, timeoutMs: number) => new Promise<boolean>((res) => {
      if (done()) return res(true);
      const check = () => { if (done()) finish(true); };
      const timer = setTimeout(() => finish(done()), timeoutMs);
      function finish(v: boolean) { clearTimeout(timer); waiters.delete(check); res(v); }
      waiters.add(check);
    });
    const alive = () => closedAt === undefined && !socket.destroyed && socket.writable;
    socket.once('connect', () => {
      openedAt = Date.now();
      socket.write(Buffer.concat([PREFACE, settings()]));
      resolve({
        socket, openedAt, counts, resets, statuses, alive, waitFor,
        goaway: () => goaway,
        goaways: () => goaways,
        closedAfter: () => (closedAt === undefined ? undefined : closedAt - openedAt),
        send: (data) => new Promise<boolean>((res) => {
          if (!alive()) return res(false);
          if (socket.write(data)) return res(true);
          // Drain, or the end of the connection, whichever comes first.
          const done = (v: boolean) => { socket.off('drain', onDrain); socket.off('close', onClose); res(v); };
          const onDrain = () => done(true);
          const onClose = () => done(false);
          socket.once('drain', onDrain);
          socket.once('close', onClose);
        }),
        waitEnded: (ms) => waitFor(() => goaway !== undefined || closedAt !== undefined, ms),
        close: () => socket.destroy(),
      });
    });
    socket.once('error', (err) => { if (openedAt === 0) reject(err); });
  });
}
