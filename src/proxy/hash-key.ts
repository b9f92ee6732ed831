/** Extracts the HASH_KEY value (a header or a cookie) from request headers. */
import type { IncomingHttpHeaders } from 'node:http';
import type { HashKey } from '../config.js';

export function hashKeyOf(headers: IncomingHttpHeaders, key: HashKey): string | undefined {
  if (key.kind === 'ip') return undefined;
  if (key.kind === 'header') {
    const value = headers[key.name];
    return Array.isArray(value) ? value[0] : value;
  }
  const cookies = headers.cookie;
  if (cookies === undefined) return undefined;
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === key.name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
