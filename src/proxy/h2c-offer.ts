/**
 * The HTTP/1.1 `Upgrade: h2c` offer (RFC 7540 §3.2), deprecated by RFC 9113
 * §3.1 and ignored here, as Envoy does: the request is served as the plain
 * HTTP/1.1 request it also is. Node's parser has already called it an
 * upgrade (proxy/server), so the head is rebuilt without the offer and read
 * again by the parser, as if the client had never made it. Pure functions
 * over Node's flat raw header arrays.
 */

export type H2cOffer = 'none' | 'only' | 'mixed';

/** Lower-cased protocol tokens of every Upgrade header (`h2c`, `websocket`, `foo/2`). */
function upgradeTokens(raw: readonly string[]): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'upgrade') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '') tokens.push(token);
    }
  }
  return tokens;
}

/** Whether the request offers h2c: not at all, alone, or next to another protocol (`websocket, h2c`). */
export function h2cOffer(raw: readonly string[]): H2cOffer {
  const tokens = upgradeTokens(raw);
  const h2c = tokens.filter((t) => t === 'h2c').length;
  if (h2c === 0) return 'none';
  return h2c === tokens.length ? 'only' : 'mixed';
}

/**
 * A new flat array without the h2c offer: `h2c` out of Upgrade (the field
 * goes when nothing is left), every HTTP2-Settings, and the Connection
 * tokens naming them (`upgrade` only when no Upgrade field is left; a
 * Connection field left empty goes).
 */
export function withoutH2cOffer(raw: readonly string[]): string[] {
  const rest = upgradeTokens(raw).some((t) => t !== 'h2c');
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    let value = raw[i + 1]!;
    if (lower === 'http2-settings') continue;
    if (lower === 'upgrade') value = keepTokens(value, (t) => t !== 'h2c');
    else if (lower === 'connection') value = keepTokens(value, (t) => t !== 'http2-settings' && (rest || t !== 'upgrade'));
    else {
      out.push(name, value);
      continue;
    }
    if (value !== '') out.push(name, value);
  }
  return out;
}

function keepTokens(value: string, keep: (lowerToken: string) => boolean): string {
  return value.split(',').map((t) => t.trim()).filter((t) => t !== '' && keep(t.toLowerCase())).join(', ');
}

/** The request head as wire bytes (Latin-1, as Node's parser read them), for the parser to read again. */
export function headBytes(method: string, url: string, httpVersion: string, raw: readonly string[]): Buffer {
  let text = `${method} ${url} HTTP/${httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]!}: ${raw[i + 1]!}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}
