/** Wire randomness (ts/util/random.ts): drawn from a pool, but every byte handed out once. */
import test from 'ava';
import { toHex } from '../ts/util/bytes.js';
import { fillRandom, randomBytes } from '../ts/util/random.js';

test('draws are fresh, of the size asked, and their own arrays, across many refills of the pool', (t) => {
  const seen = new Set<string>();
  // 3,000 draws of 12 bytes go through the 4 KiB pool nine times, and each refill's edge.
  for (let i = 0; i < 3_000; i++) {
    const b = randomBytes(12);
    t.is(b.length, 12);
    t.is(b.byteOffset, 0);
    t.is(b.buffer.byteLength, 12, 'a copy, not a view of the pool');
    seen.add(toHex(b));
  }
  t.is(seen.size, 3_000, 'no draw repeats another');
  const big = randomBytes(4096);
  t.is(big.length, 4096);
  t.true(new Set(big).size > 200, 'a whole pool of bytes is not constant');
});

test('fillRandom writes only the range asked', (t) => {
  const target = new Uint8Array(12);
  for (let i = 0; i < 100; i++) {
    target.fill(0);
    fillRandom(target, 4, 8);
    t.deepEqual([...target.subarray(0, 4)], [0, 0, 0, 0]);
  }
  const tails = new Set<string>();
  for (let i = 0; i < 100; i++) {
    fillRandom(target, 4, 8);
    tails.add(toHex(target.subarray(4)));
  }
  t.is(tails.size, 100);
});

test('a size the pool cannot serve is refused, not cut short', (t) => {
  t.is(randomBytes(0).length, 0);
  t.throws(() => randomBytes(4097), { instanceOf: RangeError });
  t.throws(() => randomBytes(-1), { instanceOf: RangeError });
});
