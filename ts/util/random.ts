/**
 * Random bytes for values that go on the wire in the clear (request ids, nonces, masking IVs,
 * WHOAREYOU id-nonces, random packet filler), never for keys. They come from the system CSPRNG,
 * drawn 4 KiB at a time: one `randomFillSync` per packet cost about 2 µs here, a slice of the
 * pool about 0.07 µs, and a crawl draws several per request.
 */
import { randomFillSync } from 'node:crypto';

const pool = new Uint8Array(4096);
let used = pool.length;

/** `size` fresh random bytes (at most 4096), in a new array of their own. */
export function randomBytes(size: number): Uint8Array {
  if (!(size >= 0 && size <= pool.length)) throw new RangeError(`randomBytes: size ${size} is not 0..${pool.length}`);
  if (used + size > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + size);
  // Each byte is handed out once.
  used += size;
  return out;
}

/** Fills `target[offset, offset + size)` with fresh random bytes. */
export function fillRandom(target: Uint8Array, offset: number, size: number): void {
  target.set(randomBytes(size), offset);
}
