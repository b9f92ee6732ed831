/**
 * What a backend answer's head must satisfy to be relayed, on top of the
 * upstream clients' own strict parsers (which already refuse bad bytes,
 * Content-Length with Transfer-Encoding, and conflicting lengths). Pure.
 *
 * Outrigger re-frames every body it relays, and a transfer coding is
 * hop-by-hop (RFC 9112 §6.1, §7): re-framing an answer sent with any coding
 * besides one `chunked` would hand the client coded bytes with nothing
 * saying so. Such an answer is refused (502), as a request with one is (501).
 */

/** Why the head must not be relayed, or undefined when it may be. */
export function checkResponseHead(rawHeaders: readonly string[]): string | undefined {
  let codings: string[] | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 17 || name.toLowerCase() !== 'transfer-encoding') continue;
    codings ??= [];
    for (const c of rawHeaders[i + 1]!.split(',')) {
      const coding = c.trim().toLowerCase();
      if (coding !== '') codings.push(coding);
    }
  }
  if (codings === undefined || (codings.length === 1 && codings[0] === 'chunked')) return undefined;
  return 'transfer coding other than chunked';
}
