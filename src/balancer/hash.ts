/**
 * Affinity by weighted rendezvous hashing: every backend scores
 * weight / -ln(u), u from a hash of (key, backend id); the highest score wins.
 * A key keeps its backend while that backend stays eligible, and removing a
 * backend only moves the keys that were on it.
 *
 * `ip-hash` keys on the client address; `hash` on HASH_KEY's header or
 * cookie value (the caller passes it), falling back to the client address.
 */
import type { Backend } from '../upstream/backend.js';
import { weightOf, type PickContext, type Picker } from './picker.js';

/** FNV-1a, 32 bit. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A 32-bit finaliser (murmur3's fmix32) to spread the combined hash. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function rendezvous(backends: readonly Backend[], key: string, ctx: PickContext): Backend | undefined {
  if (backends.length <= 1) return backends[0];
  const keyHash = fnv1a(key);
  let best: Backend | undefined;
  let bestScore = -Infinity;
  for (const b of backends) {
    const u = (mix(keyHash ^ fnv1a(b.id)) + 0.5) / 4294967296; // in (0, 1)
    const score = weightOf(b, ctx) / -Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  return best;
}

export class IpHashPicker implements Picker {
  readonly name = 'ip-hash';
  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    return rendezvous(backends, ctx.clientIp, ctx);
  }
}

export class HashPicker implements Picker {
  readonly name = 'hash';
  pick(backends: readonly Backend[], ctx: PickContext): Backend | undefined {
    return rendezvous(backends, ctx.hashKey ?? ctx.clientIp, ctx);
  }
}
