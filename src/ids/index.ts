import { randomBytes } from "node:crypto";

/**
 * Opaque ids with a type prefix. The body is time-ordered (48-bit milliseconds, then randomness,
 * Crockford base32 like ULID) so that ordering by id is ordering by creation: lists page on the id
 * alone. Within one millisecond a process keeps ids increasing by bumping the random part.
 */
export type IdPrefix = "org" | "key" | "cmp" | "job" | "call" | "whk" | "dlv" | "evt" | "imp" | "wrk";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastMs = -1;
const lastRandom = new Uint8Array(10);

function encodeTime(ms: number): string {
  let out = "";
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits as 16 base32 characters.
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

function nextRandom(ms: number): Uint8Array {
  if (ms === lastMs) {
    // Increment the previous random part so ids made in the same millisecond stay ordered.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      const v = (lastRandom[i] ?? 0) + 1;
      lastRandom[i] = v & 0xff;
      if (v <= 0xff) break;
    }
  } else {
    lastMs = ms;
    lastRandom.set(randomBytes(10));
  }
  return lastRandom;
}

/** Whether `s` has the shape of an id newId gives with `prefix`. */
export const isIdOf = (prefix: IdPrefix, s: string): boolean =>
  s.length === prefix.length + 27 &&
  s.startsWith(`${prefix}_`) &&
  /^[0-9A-HJKMNP-TV-Z]{26}$/.test(s.slice(prefix.length + 1));

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  const ms = Math.max(now, lastMs);
  return `${prefix}_${encodeTime(ms)}${encodeRandom(nextRandom(ms))}`;
}

/** Sorts (bytewise) above every id of `prefix` made before `ms`, and below every one made at or after it. */
export const idFloor = (prefix: IdPrefix, ms: number): string => `${prefix}_${encodeTime(ms)}`;

/** A secret with 192 bits of entropy, base64url, for API keys and webhook secrets. */
export function newSecret(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}
