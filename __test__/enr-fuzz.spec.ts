/**
 * 100,000 mutated records thrown at the decoder, on the backend this run uses (DISCV5_BACKEND;
 * .ci/run runs the suite once per backend). Mutations work on the RLP bytes (bit flips, byte
 * changes, insertions, deletions, truncations, splices) and on the text form. The properties:
 * - the decoder only ever throws Discv5Error, with a code from the ENR family;
 * - whatever it accepts is one of the original valid records, byte for byte (any other change
 *   breaks the signature or the canonical encoding), and reading every field of it works.
 * And records signed correctly with random values for the typed keys (eth2, attnets, syncnets,
 * cgc, nfd, eth), as any peer can make them: they decode, no getter throws, a getter reads
 * undefined exactly for the keys `invalidKeys` names, and strict decoding refuses exactly those.
 */
import test from 'ava';
import fc from 'fast-check';
import { enrJson } from '../ts/enr/json.js';
import { createCrypto, Discv5Error, Enr, ErrorCode, multiaddrsOf } from '../ts/index.js';
import { type RlpItem, encode as rlpEncode } from '../ts/rlp/rlp.js';
import { corpus, type Json } from './helpers/vectors.js';

const RUNS = 100_000;
const SEED = Number(process.env.DISCV5_FUZZ_SEED ?? 20261121);
const crypto = createCrypto();
const originals: Uint8Array[] = corpus.records
  .filter((r: Json) => r.valid)
  .map((r: Json) => Uint8Array.from(Buffer.from((r.enr as string).slice(4), 'base64url')));
const originalSet = new Set(originals.map((b) => Buffer.from(b).toString('latin1')));
const ENR_CODES = new Set<string>(Object.values(ErrorCode).filter((c) => c.startsWith('ERR_ENR_')));

type Op =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; value: number }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; from: number; length: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
);

function apply(input: Uint8Array, ops: Op[]): Uint8Array {
  let b = Array.from(input);
  for (const o of ops) {
    const at = b.length === 0 ? 0 : o.at % b.length;
    if (o.kind === 'flip') b[at] = (b[at] ?? 0) ^ (1 << o.bit);
    else if (o.kind === 'set') b[at] = o.value;
    else if (o.kind === 'insert') b.splice(at, 0, o.value);
    else if (o.kind === 'delete') b.splice(at, 1);
    else if (o.kind === 'truncate') b = b.slice(0, at);
    else {
      const from = b.length === 0 ? 0 : o.from % b.length;
      b.splice(at, 0, ...b.slice(from, from + o.length)); // a piece of the record again, elsewhere
    }
  }
  return Uint8Array.from(b);
}

const textNoise = fc.constantFrom('=', '==', '+', '/', '.', ' ', 'A', '-', '_', '\n');

const mutated = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .tuple(fc.nat(originals.length - 1), fc.array(op, { minLength: 1, maxLength: 4 }))
      .map(([i, ops]) => apply(originals[i] as Uint8Array, ops)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(originals.length - 1), fc.nat(), textNoise, fc.boolean())
      .map(([i, at, noise, replace]) => {
        const text = `enr:${Buffer.from(originals[i] as Uint8Array).toString('base64url')}`;
        const p = 4 + (at % (text.length - 4));
        return `${text.slice(0, p)}${noise}${text.slice(p + (replace ? 1 : 0))}`;
      }),
  },
);

const TYPED = ['eth2', 'attnets', 'syncnets', 'cgc', 'nfd', 'eth'] as const;

/** Reads every field, as a crawler would: none of these may throw. */
function readAll(enr: Enr): Record<(typeof TYPED)[number], unknown> {
  void [enr.nodeId, enr.text, enr.ip, enr.ip6, enr.udp, enr.tcp, enr.quic, enr.udp6, enr.tcp6, enr.quic6];
  void [enr.endpoint4(), enr.endpoint6(), enr.endpoint4('tcp'), enr.endpoint6('quic'), enr.keys(), enr.forkDigest];
  void [multiaddrsOf(enr, { withPeerId: true }), enrJson(enr), enr.invalidKeys()];
  return { eth2: enr.eth2, attnets: enr.attnets, syncnets: enr.syncnets, cgc: enr.cgc, nfd: enr.nfd, eth: enr.eth };
}

test(`${RUNS} mutated records: only Discv5Errors, and nothing but an original is accepted (${crypto.backend}, seed ${SEED})`, (t) => {
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(mutated, (input) => {
      let enr: Enr;
      try {
        enr = Enr.decode(input, crypto);
      } catch (err) {
        if (!(err instanceof Discv5Error) || !ENR_CODES.has(err.code)) return false;
        outcomes.set(err.code, (outcomes.get(err.code) ?? 0) + 1);
        return true;
      }
      outcomes.set('accepted', (outcomes.get('accepted') ?? 0) + 1);
      readAll(enr);
      return enr.verify() && originalSet.has(Buffer.from(enr.encoded).toString('latin1'));
    }),
    { numRuns: RUNS, seed: SEED },
  );
  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  t.is(total, RUNS);
  t.log([...outcomes].map(([k, v]) => `${k} ${v}`).join(', '));
  // The mutations reach deep: signatures fail, not only the RLP layer.
  for (const code of [ErrorCode.ENR_RLP, ErrorCode.ENR_VERIFY, ErrorCode.ENR_BASE64]) {
    t.true((outcomes.get(code) ?? 0) > 100, code);
  }
});

const TYPED_RUNS = 3_000;
const FUZZ_KEY = crypto.generatePrivateKey();
const ascii = (k: string) => Uint8Array.from(Buffer.from(k, 'latin1'));

/** Bytes of about `around` bytes (often exactly that), any content. */
const bytesNear = (around: number) =>
  fc
    .integer({ min: Math.max(0, around - 2), max: around + 2 })
    .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

/** Any RLP item, small enough to fit a record. */
const anyItem: fc.Arbitrary<RlpItem> = fc.letrec<{ item: RlpItem }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 12 }),
    fc.array(tie('item'), { maxLength: 3 }),
  ),
})).item;

const exactly = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
/** A minimal big-endian integer of up to 8 bytes (0 is the empty string). */
const minimalUint = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => {
  const hex = v === 0n ? '' : v.toString(16);
  return Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
});
const valid = (a: fc.Arbitrary<RlpItem>, near: fc.Arbitrary<RlpItem>) =>
  fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: near }, { weight: 1, arbitrary: anyItem });

/** Values for each typed key: valid ones, near-valid ones (lengths off by a little, leading zeros, stray bits, bad fork ids), lists, anything. */
const typedValue: Record<(typeof TYPED)[number], fc.Arbitrary<RlpItem>> = {
  eth2: valid(exactly(16), bytesNear(16)),
  attnets: valid(exactly(8), bytesNear(8)),
  syncnets: valid(
    fc.integer({ min: 0, max: 15 }).map((b) => Uint8Array.of(b)),
    bytesNear(1),
  ),
  cgc: valid(
    minimalUint.filter((b) => b.length <= 6),
    fc.uint8Array({ maxLength: 9 }),
  ),
  nfd: valid(exactly(4), bytesNear(4)),
  eth: valid(
    fc
      .tuple(exactly(4), minimalUint, fc.array(anyItem, { maxLength: 1 }))
      .map(([h, n, extra]): RlpItem => [[h, n], ...extra]),
    fc
      .tuple(bytesNear(4), fc.uint8Array({ maxLength: 9 }), fc.array(anyItem, { maxLength: 2 }))
      .map(([hash, next, extra]): RlpItem => [[hash, next, ...extra]]),
  ),
};

const typedRecord = fc.record(
  Object.fromEntries(TYPED.map((k) => [k, fc.option(typedValue[k], { nil: undefined })])) as {
    [K in (typeof TYPED)[number]]: fc.Arbitrary<RlpItem | undefined>;
  },
);

/** A correctly signed record of FUZZ_KEY with these typed values (and an endpoint). */
function signTyped(values: Partial<Record<string, RlpItem>>): Uint8Array {
  const entries: [string, RlpItem][] = [
    ['id', ascii('v4')],
    ['secp256k1', crypto.publicKeyFromPrivate(FUZZ_KEY)],
    ['ip', Uint8Array.of(203, 0, 113, 9)],
    ['udp', Uint8Array.of(0x23, 0x28)],
  ];
  for (const [k, v] of Object.entries(values)) if (v !== undefined) entries.push([k, v]);
  entries.sort((a, b) => Buffer.compare(ascii(a[0]), ascii(b[0])));
  const items: RlpItem[] = [Uint8Array.of(1), ...entries.flatMap(([k, v]) => [ascii(k), v])];
  return rlpEncode([crypto.enrSign(FUZZ_KEY, rlpEncode(items)), ...items]);
}

test(`${TYPED_RUNS} signed records with random typed values: no getter throws, invalidKeys says which read undefined (${crypto.backend}, seed ${SEED})`, (t) => {
  let invalid = 0;
  let tooLarge = 0;
  fc.assert(
    fc.property(typedRecord, (values) => {
      const bytes = signTyped(values);
      let enr: Enr;
      try {
        enr = Enr.decode(bytes, crypto);
      } catch (err) {
        // Only size can refuse these: every other rule of EIP-778 holds by construction.
        if (err instanceof Discv5Error && err.code === ErrorCode.ENR_TOO_LARGE && bytes.length > 300) {
          tooLarge++;
          return true;
        }
        throw err;
      }
      const read = readAll(enr);
      const bad = enr.invalidKeys();
      for (const k of TYPED) {
        const present = values[k] !== undefined;
        if (bad.includes(k) && !present) return false;
        if ((read[k] === undefined) !== (!present || bad.includes(k))) return false;
      }
      if (bad.length > 0) {
        invalid++;
        const err = (() => {
          try {
            Enr.decode(bytes, crypto, { strict: true });
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        if (!(err instanceof Discv5Error) || err.code !== ErrorCode.ENR_VALUE) return false;
        if (!err.message.includes(`"${bad[0]}"`)) return false;
      } else {
        Enr.decode(bytes, crypto, { strict: true });
      }
      return true;
    }),
    { numRuns: TYPED_RUNS, seed: SEED },
  );
  t.log(`${invalid} with malformed typed values, ${tooLarge} over 300 bytes`);
  t.true(invalid > TYPED_RUNS / 4, 'malformed values are common');
  t.true(TYPED_RUNS - tooLarge - invalid > TYPED_RUNS / 10, 'and so are well-formed records');
});
