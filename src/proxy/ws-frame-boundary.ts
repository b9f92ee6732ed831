/**
 * Where a WebSocket byte stream (RFC 6455 §5.2) stands: at a frame boundary
 * or inside a frame. Only frame headers are read (FIN/opcode byte, mask bit
 * and 7/16/64-bit length, the 4-byte mask key if masked); payloads are
 * skipped by count, without a copy, so a chunk inside a large frame costs one
 * subtraction. A header split across chunks is gathered byte by byte (at most
 * 14 bytes per frame).
 *
 * proxy/splice feeds it the backend→client bytes of a WebSocket tunnel, so
 * that the drain's close frame (1001) is only ever written between frames.
 */

/** The longest frame header: 2 bytes, a 64-bit length, a mask key. */
const MAX_HEADER = 14;

export class FrameBoundary {
  /** Payload bytes of the current frame still to come. */
  private payload = 0;
  /** Header bytes of the next frame gathered so far (0: none yet). */
  private have = 0;
  /** How long the header being gathered is (known once its second byte is in). */
  private need = 2;
  private readonly header = Buffer.allocUnsafe(MAX_HEADER);

  /** True when every frame fed so far is complete: a new frame may start here. */
  get atBoundary(): boolean {
    return this.payload === 0 && this.have === 0;
  }

  /** Takes the next bytes of the stream (read only, never kept). */
  feed(chunk: Buffer): void {
    const n = chunk.length;
    if (this.payload >= n) { // the common case inside a large frame
      this.payload -= n;
      return;
    }
    let i = this.payload;
    this.payload = 0;
    while (i < n) {
      this.header[this.have++] = chunk[i++]!;
      if (this.have === 2) this.need = headerLength(this.header[1]!);
      if (this.have < this.need) continue;
      const length = payloadLength(this.header);
      this.have = 0;
      this.need = 2;
      const left = n - i;
      if (length > left) {
        this.payload = length - left;
        return;
      }
      i += length;
    }
  }
}

/** A frame header's length from its second byte: mask bit and 7-bit length (RFC 6455 §5.2). */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

/** The payload length a complete header gives. */
function payloadLength(h: Buffer): number {
  const len7 = h[1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return h.readUInt16BE(2);
  return h.readUInt32BE(2) * 2 ** 32 + h.readUInt32BE(6);
}
