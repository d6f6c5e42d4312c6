// Stable bucketing for rollout percentages: MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of the
// text, in pure TypeScript so it runs the same in the API, a workflow sandbox, or an SDK. Its
// results are part of the product (which units are in a 30% rollout), so tests pin known vectors:
// changing the hash moves units between buckets and must be a deliberate decision.

function utf8(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 0x3f));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    else {
      bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f));
    }
  }
  return Uint8Array.from(bytes);
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
const scramble = (k: number): number => Math.imul(rotl(Math.imul(k, C1), 15), C2);

/** Whether every UTF-16 unit of `text` is ASCII: then its UTF-8 bytes are its char codes. */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** MurmurHash3_x86_32 of the UTF-8 encoding of `text`, as an unsigned 32-bit integer. */
export function murmur3(text: string, seed = 0): number {
  // ASCII (unit ids and flag keys almost always are) is hashed straight from the string, without an array.
  const ascii = isAscii(text);
  const bytes = ascii ? null : utf8(text);
  const length = bytes === null ? text.length : bytes.length;
  const byte = bytes === null ? (i: number): number => text.charCodeAt(i) : (i: number): number => bytes[i] ?? 0;
  const tail = length - (length % 4);
  let h = seed >>> 0;
  for (let i = 0; i < tail; i += 4) {
    h ^= scramble(byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24));
    h = (Math.imul(rotl(h, 13), 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const rest = length % 4;
  if (rest >= 3) k ^= byte(tail + 2) << 16;
  if (rest >= 2) k ^= byte(tail + 1) << 8;
  if (rest >= 1) h ^= scramble(k ^ byte(tail));
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stable bucket in [0, 100) with 2-decimal granularity: a unit passes a rollout of `p`% when bucket < p. */
export const bucket = (text: string): number => (murmur3(text) % 10_000) / 100;
