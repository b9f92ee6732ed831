/**
 * HTTP/1.1's character classes (RFC 9110 §5.6.2 tchar, §5.5 field-vchar, SP,
 * HTAB and obs-text), as one table read per character: cheaper than a regular
 * expression per field on the lean engine's path (transport/h1-head,
 * transport/h1-request). Characters above 0xff are in no class.
 */

/** Bit 1: a token character; bit 2: a field-value character. */
export const CHAR_CLASS = new Uint8Array(256);
export const TOKEN_CHAR = 1;
export const VALUE_CHAR = 2;
for (let c = 0x21; c <= 0xff; c++) if (c !== 0x7f) CHAR_CLASS[c] = VALUE_CHAR;
CHAR_CLASS[0x20] = VALUE_CHAR;
CHAR_CLASS[0x09] = VALUE_CHAR;
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") CHAR_CLASS[c.charCodeAt(0)] = VALUE_CHAR | TOKEN_CHAR;

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if ((CHAR_CLASS[s.charCodeAt(i)]! & TOKEN_CHAR) === 0) return false;
  return true;
}

/** True when every character of `s` may stand in a field value (no controls but HTAB, nothing above 0xff). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if ((CHAR_CLASS[s.charCodeAt(i)]! & VALUE_CHAR) === 0) return false;
  return true;
}
