/**
 * Native and js give identical output for identical input: at least 1,000 seeded random inputs
 * per backend function, valid and invalid mixed, compared byte for byte.
 */
import test from 'ava';
import type { Crypto } from '../ts/index.js';
import { concatBytes } from '../ts/util/bytes.js';
import { cryptoFor } from './helpers/backends.js';
import { normalize } from './helpers/normalize.js';
import { Rng } from './helpers/random.js';

const ROUNDS = 1000;
const native = cryptoFor('native');
const js = cryptoFor('js');
const gen = native;

/** Inputs are made with the native backend (fast); both contenders then get the very same bytes. */
function keyPair(rng: Rng) {
  const privateKey = rng.privateKey();
  return { privateKey, publicKey: gen.publicKeyFromPrivate(privateKey) };
}

/** A valid public key, a random (usually off-curve) one, or an uncompressed one. */
function someKey(rng: Rng): Uint8Array {
  const pick = rng.int(4);
  if (pick === 0) return concatBytes(new Uint8Array([2 + rng.int(2)]), rng.bytes(32));
  const { publicKey } = keyPair(rng);
  return pick === 1 ? (gen.decompressPublicKey(publicKey) as Uint8Array) : publicKey;
}

/** Flip one bit of a copy, sometimes. */
function maybeTamper(rng: Rng, bytes: Uint8Array): Uint8Array {
  if (rng.int(3) !== 0) return bytes;
  const out = Uint8Array.from(bytes); // a copy: Buffer#slice would be a view
  const i = rng.int(out.length);
  out[i] = (out[i] as number) ^ (1 << rng.int(8));
  return out;
}

interface Case {
  name: string;
  /** Which kinds of result the random inputs must produce: 'value', 'null', 'true', 'false'. */
  outcomes: string[];
  run(c: Crypto, rng: Rng): unknown;
}

/**
 * Each case draws its inputs from a generator seeded identically for both backends, so the
 * two runs see the same inputs.
 */
const cases: Case[] = [
  {
    name: 'keccak256',
    outcomes: ['value'],
    run: (c, r) => c.keccak256(r.bytes(r.int(300))),
  },
  {
    name: 'publicKeyFromPrivate',
    outcomes: ['value'],
    run: (c, r) => c.publicKeyFromPrivate(r.privateKey()),
  },
  {
    name: 'compressPublicKey',
    outcomes: ['null', 'value'],
    run: (c, r) => c.compressPublicKey(someKey(r)),
  },
  {
    name: 'decompressPublicKey',
    outcomes: ['null', 'value'],
    run: (c, r) => c.decompressPublicKey(someKey(r)),
  },
  {
    name: 'nodeIdFromPublicKey',
    outcomes: ['null', 'value'],
    run: (c, r) => c.nodeIdFromPublicKey(someKey(r)),
  },
  {
    name: 'ecdh',
    outcomes: ['null', 'value'],
    run: (c, r) => c.ecdh(someKey(r), r.privateKey()),
  },
  {
    name: 'deriveKeys',
    outcomes: ['null', 'value'],
    run: (c, r) => c.deriveKeys(r.privateKey(), someKey(r), r.bytes(32), r.bytes(32), r.bytes(63)),
  },
  {
    name: 'idSign',
    outcomes: ['value'],
    run: (c, r) => c.idSign(r.privateKey(), r.bytes(63), someKey(r), r.bytes(32)),
  },
  {
    name: 'idVerify',
    outcomes: ['false', 'true'],
    run: (c, r) => {
      const { privateKey, publicKey } = keyPair(r);
      const args = [r.bytes(63), gen.publicKeyFromPrivate(r.privateKey()), r.bytes(32)] as const;
      const sig = maybeTamper(r, gen.idSign(privateKey, ...args));
      return c.idVerify(publicKey, sig, ...args);
    },
  },
  {
    name: 'handshakeInitiate',
    outcomes: ['null', 'value'],
    run: (c, r) =>
      c.handshakeInitiate(r.privateKey(), someKey(r), r.bytes(63), r.bytes(32), r.bytes(32), r.privateKey()),
  },
  {
    name: 'handshakeRespond',
    outcomes: ['null', 'value'],
    run: (c, r) => {
      const a = keyPair(r);
      const b = keyPair(r);
      const [idA, idB, challenge] = [r.bytes(32), r.bytes(32), r.bytes(63)];
      const init = gen.handshakeInitiate(a.privateKey, b.publicKey, challenge, idA, idB, r.privateKey());
      if (init === null) throw new Error('valid keys expected');
      const sig = maybeTamper(r, init.idSignature);
      return c.handshakeRespond(b.privateKey, a.publicKey, init.ephemeralPublicKey, sig, challenge, idA, idB);
    },
  },
  {
    name: 'unmaskHeader',
    outcomes: ['null', 'value'],
    run: (c, r) => {
      const key = r.bytes(16);
      if (r.int(2) === 0) return c.unmaskHeader(key, r.bytes(r.int(1400)));
      // A well-formed packet masked for `key`, then possibly damaged.
      const authdata = r.bytes(r.int(300));
      const header = concatBytes(
        new TextEncoder().encode('discv5'),
        new Uint8Array([0, 1, r.int(3)]),
        r.bytes(12),
        new Uint8Array([authdata.length >> 8, authdata.length & 0xff]),
        authdata,
      );
      const packet = gen.maskPacket(key, r.bytes(16), header, r.bytes(r.int(100)));
      return c.unmaskHeader(key, maybeTamper(r, packet.subarray(0, Math.max(0, packet.length - r.int(40)))));
    },
  },
  {
    name: 'maskPacket',
    outcomes: ['value'],
    run: (c, r) => c.maskPacket(r.bytes(16), r.bytes(16), r.bytes(23 + r.int(200)), r.bytes(r.int(200))),
  },
  {
    name: 'sealPacket',
    outcomes: ['value'],
    run: (c, r) => c.sealPacket(r.bytes(16), r.bytes(16), r.bytes(23 + r.int(200)), r.bytes(16), r.bytes(r.int(500))),
  },
  {
    name: 'openPacket',
    outcomes: ['null', 'value'],
    run: (c, r) => {
      const [maskingKey, key] = [r.bytes(16), r.bytes(16)];
      const header = concatBytes(r.bytes(23), r.bytes(32));
      const iv = r.bytes(16);
      const packet = maybeTamper(r, gen.sealPacket(maskingKey, iv, header, key, r.bytes(r.int(300))));
      return c.openPacket(key, concatBytes(iv, header), packet);
    },
  },
  {
    name: 'aesGcmEncrypt',
    outcomes: ['value'],
    run: (c, r) => c.aesGcmEncrypt(r.bytes(16), r.bytes(12), r.bytes(r.int(1200)), r.bytes(r.int(200))),
  },
  {
    name: 'aesGcmDecrypt',
    outcomes: ['null', 'value'],
    run: (c, r) => {
      const [key, nonce, ad] = [r.bytes(16), r.bytes(12), r.bytes(r.int(100))];
      const ct = gen.aesGcmEncrypt(key, nonce, r.bytes(r.int(400)), ad);
      const damaged = r.int(4) === 0 ? ct.subarray(0, r.int(ct.length)) : maybeTamper(r, ct);
      return c.aesGcmDecrypt(key, nonce, damaged, ad);
    },
  },
  {
    name: 'enrSign',
    outcomes: ['value'],
    run: (c, r) => c.enrSign(r.privateKey(), r.bytes(r.int(300))),
  },
  {
    name: 'enrVerify',
    outcomes: ['false', 'true'],
    run: (c, r) => {
      const { privateKey, publicKey } = keyPair(r);
      const content = r.bytes(1 + r.int(250));
      return c.enrVerify(publicKey, maybeTamper(r, content), maybeTamper(r, gen.enrSign(privateKey, content)));
    },
  },
  {
    name: 'enrVerifyBatch',
    outcomes: ['value'],
    run: (c, r) => {
      const items = Array.from({ length: r.int(17) }, () => {
        const { privateKey, publicKey } = keyPair(r);
        const content = r.bytes(1 + r.int(250));
        return { publicKey, content: maybeTamper(r, content), signature: gen.enrSign(privateKey, content) };
      });
      return c.enrVerifyBatch(items);
    },
  },
  {
    name: 'logDistances',
    outcomes: ['value'],
    run: (c, r) => {
      const target = r.bytes(32);
      // Ids near the target too, so that small distances occur.
      const ids = Array.from({ length: r.int(40) }, () => {
        const id = target.slice();
        for (let i = r.int(33); i < 32; i++) id[i] = r.int(256);
        return id;
      });
      return c.logDistances(target, concatBytes(...ids));
    },
  },
  {
    name: 'closest',
    outcomes: ['value'],
    run: (c, r) => {
      const target = r.bytes(32);
      const pool = Array.from({ length: 1 + r.int(60) }, () => r.bytes(32));
      const ids = Array.from({ length: r.int(80) }, () => pool[r.int(pool.length)] as Uint8Array); // duplicates: ties
      return c.closest(target, concatBytes(...ids), r.int(20));
    },
  },
];

for (const { name, run, outcomes } of cases) {
  test(`${name}: native and js agree on ${ROUNDS} random inputs`, (t) => {
    let mismatches = 0;
    const kinds = new Set<string>();
    for (let i = 0; i < ROUNDS; i++) {
      const seed = 0x5eed0000 + i;
      const a = normalize(run(native, new Rng(seed)));
      const b = normalize(run(js, new Rng(seed)));
      if (a !== b) {
        mismatches++;
        if (mismatches <= 3) t.log(`seed ${seed}: native ${a.slice(0, 120)} js ${b.slice(0, 120)}`);
      }
      kinds.add(a === 'null' || a === 'false' || a === 'true' ? a : 'value');
    }
    t.is(mismatches, 0);
    // The inputs must reach every outcome the function has (valid and invalid), or they prove little.
    t.deepEqual([...kinds].sort(), [...outcomes].sort());
  });
}
