/**
 * Single-pair distance math, in plain JS: cheaper than a crossing into the addon for one pair.
 * Batches (ranking a whole table or a lookup's candidates) go through the backend.
 */
const ID_SIZE = 32;

/** Bit length of a XOR b: 0 for equal ids, else 1..256. */
export function logDistance(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_SIZE; i++) {
    const x = ((a[i] as number) ^ (b[i] as number)) & 0xff;
    if (x !== 0) return (ID_SIZE - i) * 8 - (Math.clz32(x) - 24);
  }
  return 0;
}

/** A uniformly random id at log-distance `d` (1..256) from `id`. */
export function randomIdAtDistance(id: Uint8Array, d: number, random: (n: number) => Uint8Array): Uint8Array {
  const out = Uint8Array.from(id);
  const noise = random(ID_SIZE);
  const bit = d - 1; // the highest differing bit, counting from the least significant
  const byte = ID_SIZE - 1 - (bit >> 3);
  const mask = 1 << (bit & 7);
  // Flip the bit at distance d; bits below it are random; bits above stay equal.
  out[byte] = ((out[byte] as number) ^ mask) & 0xff;
  const lowMask = mask - 1;
  out[byte] = ((out[byte] as number) & ~lowMask) | ((noise[byte] as number) & lowMask);
  for (let i = byte + 1; i < ID_SIZE; i++) out[i] = noise[i] as number;
  return out;
}
