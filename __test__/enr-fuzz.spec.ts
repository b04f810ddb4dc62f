/**
 * 100,000 mutated records thrown at the decoder, on the backend this run uses (DISCV5_BACKEND;
 * .ci/run runs the suite once per backend). Mutations work on the RLP bytes (bit flips, byte
 * changes, insertions, deletions, truncations, splices) and on the text form. The properties:
 * - the decoder only ever throws Discv5Error, with a code from the ENR family;
 * - whatever it accepts is one of the original valid records, byte for byte (any other change
 *   breaks the signature or the canonical encoding), and reading every field of it works.
 */
import test from 'ava';
import fc from 'fast-check';
import { createCrypto, Discv5Error, Enr, ErrorCode } from '../ts/index.js';
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

/** Reads every field, as a crawler would. */
function readAll(enr: Enr): void {
  void [enr.nodeId, enr.text, enr.ip, enr.ip6, enr.udp, enr.tcp, enr.quic, enr.udp6, enr.tcp6, enr.quic6];
  void [enr.endpoint4(), enr.endpoint6(), enr.keys()];
  for (const read of [
    () => enr.eth2,
    () => enr.attnets,
    () => enr.syncnets,
    () => enr.cgc,
    () => enr.nfd,
    () => enr.eth,
  ]) {
    try {
      read();
    } catch (err) {
      if (!(err instanceof Discv5Error) || err.code !== ErrorCode.ENR_VALUE) throw err;
    }
  }
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
