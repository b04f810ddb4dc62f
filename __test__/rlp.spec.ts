/** The strict RLP codec: the classic encodings, and every non-canonical form refused. */
import test from 'ava';
import { decode, decodeUint, encode, encodeUint, RlpError, type RlpItem } from '../ts/rlp/rlp.js';
import { fromHex, toHex } from '../ts/util/bytes.js';

const ascii = (s: string) => new TextEncoder().encode(s);

test('known encodings round-trip', (t) => {
  const cases: [RlpItem, string][] = [
    [ascii('dog'), '83646f67'],
    [[ascii('cat'), ascii('dog')], 'c88363617483646f67'],
    [new Uint8Array(0), '80'],
    [[], 'c0'],
    [Uint8Array.of(0), '00'],
    [Uint8Array.of(0x7f), '7f'],
    [Uint8Array.of(0x80), '8180'],
    [
      ascii('Lorem ipsum dolor sit amet, consectetur adipisicing elit'),
      `b838${toHex(ascii('Lorem ipsum dolor sit amet, consectetur adipisicing elit'))}`,
    ],
    [[[], [[]], [[], [[]]]], 'c7c0c1c0c3c0c1c0'],
    [new Uint8Array(1024), `b90400${'00'.repeat(1024)}`],
  ];
  for (const [item, hex] of cases) {
    t.is(toHex(encode(item)), hex);
    t.deepEqual(decode(fromHex(hex)), item);
  }
});

test('non-canonical and truncated inputs are refused', (t) => {
  for (const [hex, why] of [
    ['8100', 'single byte below 0x80 with a header'],
    ['817f', 'single byte below 0x80 with a header'],
    ['b80100', 'long form for a 1-byte string'],
    ['b90001' + '00', 'length with a leading zero'],
    ['f800', 'long list form for an empty list'],
    ['83646f', 'string shorter than its header says'],
    ['c883636174', 'list shorter than its header says'],
    ['83646f6700', 'trailing byte'],
    ['', 'empty input'],
    ['c2c3', 'item overruns its list'],
    ['bc0000000000000001', 'length of length over 4 bytes'],
  ]) {
    t.throws(() => decode(fromHex(hex as string)), { instanceOf: RlpError }, why);
  }
});

test('integers are minimal big-endian', (t) => {
  t.is(toHex(encodeUint(0)), '');
  t.is(toHex(encodeUint(30303)), '765f');
  t.is(toHex(encodeUint(0xffff_ffff_ffff_ffffn)), 'ffffffffffffffff');
  t.is(decodeUint(fromHex('765f'), 2), 30303n);
  t.is(decodeUint(fromHex('00ff'), 2), null);
  t.is(decodeUint(fromHex('010000'), 2), null);
  t.throws(() => encodeUint(-1));
});
