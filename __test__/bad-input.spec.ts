/**
 * Misuse throws a Discv5Error with the same code on both backends; hostile bytes (off-curve
 * points, high-s signatures, truncated or forged ciphertexts) come back as null/false.
 */
import test from 'ava';
import { CURVE_ORDER } from '../ts/crypto/constants.js';
import type { Crypto } from '../ts/index.js';
import { Discv5Error, ErrorCode } from '../ts/index.js';
import { concatBytes, fromHex } from '../ts/util/bytes.js';
import { BACKENDS, bothBackends, cryptoFor } from './helpers/backends.js';
import { vectors } from './helpers/vectors.js';

const KEY = fromHex(vectors.keys.node_a_key);
const ID = fromHex(vectors.keys.derived.node_a_id);
const OFF_CURVE = concatBytes(new Uint8Array([2]), new Uint8Array(31), new Uint8Array([5])); // x = 5: no such point

/** n − s: the high-s twin of a low-s signature, which verifiers must refuse. */
function highS(signature: Uint8Array): Uint8Array {
  const out = Uint8Array.from(signature); // a copy: Buffer#slice would be a view
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    let v = (CURVE_ORDER[i] as number) - (signature[32 + i] as number) - borrow;
    borrow = v < 0 ? 1 : 0;
    if (v < 0) v += 256;
    out[32 + i] = v;
  }
  return out;
}

type Misuse = [title: string, code: ErrorCode, call: (c: Crypto) => unknown];

const misuses: Misuse[] = [
  ['masking key of 15 bytes', ErrorCode.INVALID_LENGTH, (c) => c.unmaskHeader(new Uint8Array(15), new Uint8Array(100))],
  [
    'nonce of 11 bytes',
    ErrorCode.INVALID_LENGTH,
    (c) => c.aesGcmEncrypt(new Uint8Array(16), new Uint8Array(11), new Uint8Array(1), new Uint8Array(0)),
  ],
  [
    'session key of 32 bytes',
    ErrorCode.INVALID_LENGTH,
    (c) => c.aesGcmDecrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(20), new Uint8Array(0)),
  ],
  [
    'node id of 31 bytes',
    ErrorCode.INVALID_LENGTH,
    (c) => c.deriveKeys(KEY, c.publicKeyFromPrivate(KEY), ID.subarray(1), ID, new Uint8Array(63)),
  ],
  ['ids not a multiple of 32 bytes', ErrorCode.INVALID_LENGTH, (c) => c.logDistances(ID, new Uint8Array(33))],
  ['target of 33 bytes', ErrorCode.INVALID_LENGTH, (c) => c.closest(new Uint8Array(33), new Uint8Array(64), 1)],
  ['negative k', ErrorCode.INVALID_ARGUMENT, (c) => c.closest(ID, new Uint8Array(64), -1)],
  ['public key of 32 bytes', ErrorCode.INVALID_LENGTH, (c) => c.ecdh(new Uint8Array(32), KEY)],
  ['private key of 31 bytes', ErrorCode.INVALID_LENGTH, (c) => c.publicKeyFromPrivate(new Uint8Array(31))],
  ['private key zero', ErrorCode.INVALID_PRIVATE_KEY, (c) => c.enrSign(new Uint8Array(32), new Uint8Array(1))],
  ['private key equal to n', ErrorCode.INVALID_PRIVATE_KEY, (c) => c.ecdh(c.publicKeyFromPrivate(KEY), CURVE_ORDER)],
  [
    'private key above n',
    ErrorCode.INVALID_PRIVATE_KEY,
    (c) => c.idSign(new Uint8Array(32).fill(0xff), new Uint8Array(63), new Uint8Array(33), ID),
  ],
  ['a string instead of bytes', ErrorCode.INVALID_TYPE, (c) => c.keccak256('abc' as unknown as Uint8Array)],
  [
    'an array instead of bytes',
    ErrorCode.INVALID_TYPE,
    (c) => c.enrVerify([1, 2] as unknown as Uint8Array, new Uint8Array(1), new Uint8Array(64)),
  ],
  [
    'header shorter than 23 bytes',
    ErrorCode.INVALID_LENGTH,
    (c) => c.maskPacket(new Uint8Array(16), new Uint8Array(16), new Uint8Array(22), new Uint8Array(0)),
  ],
  [
    'packet over 1280 bytes',
    ErrorCode.INVALID_LENGTH,
    (c) =>
      c.sealPacket(
        new Uint8Array(16),
        new Uint8Array(16),
        new Uint8Array(55),
        new Uint8Array(16),
        new Uint8Array(1200),
      ),
  ],
  [
    'header longer than the packet',
    ErrorCode.INVALID_LENGTH,
    (c) => c.openPacket(new Uint8Array(16), new Uint8Array(80), new Uint8Array(70)),
  ],
  [
    'ephemeral key zero',
    ErrorCode.INVALID_PRIVATE_KEY,
    (c) => c.handshakeInitiate(KEY, c.publicKeyFromPrivate(KEY), new Uint8Array(63), ID, ID, new Uint8Array(32)),
  ],
];

for (const [title, code, call] of misuses) {
  test(`misuse, ${title}: ${code} from both backends`, (t) => {
    for (const name of BACKENDS) {
      const err = t.throws(() => call(cryptoFor(name)), { instanceOf: Discv5Error }, name);
      t.is(err?.code, code, name);
    }
  });
}

bothBackends('off-curve and hybrid public keys are null/false, never thrown', (t, c) => {
  const pub = c.publicKeyFromPrivate(KEY);
  const hybrid = Uint8Array.from(c.decompressPublicKey(pub) as Uint8Array);
  hybrid[0] = 6 | ((hybrid[64] as number) & 1);
  for (const bad of [OFF_CURVE, hybrid, new Uint8Array(33), new Uint8Array(65)]) {
    t.is(c.compressPublicKey(bad), null);
    t.is(c.decompressPublicKey(bad), null);
    t.is(c.nodeIdFromPublicKey(bad), null);
    t.is(c.ecdh(bad, KEY), null);
    t.is(c.deriveKeys(KEY, bad, ID, ID, new Uint8Array(63)), null);
    t.is(c.handshakeInitiate(KEY, bad, new Uint8Array(63), ID, ID), null);
    t.false(c.enrVerify(bad, new Uint8Array(1), new Uint8Array(64)));
    t.false(c.idVerify(bad, new Uint8Array(64), new Uint8Array(63), pub, ID));
  }
});

bothBackends('high-s, zero and overflowing signatures are refused', (t, c) => {
  const pub = c.publicKeyFromPrivate(KEY);
  const content = new TextEncoder().encode('record content');
  const sig = c.enrSign(KEY, content);
  t.true(c.enrVerify(pub, content, sig));
  t.false(c.enrVerify(pub, content, highS(sig)));
  t.false(c.enrVerify(pub, content, new Uint8Array(64)));
  t.false(c.enrVerify(pub, content, concatBytes(CURVE_ORDER, sig.subarray(32))));
  t.false(c.enrVerify(pub, content, sig.subarray(0, 63)));
  const id = c.nodeIdFromPublicKey(pub);
  t.deepEqual(
    c.enrVerifyBatch([
      { publicKey: pub, content, signature: sig },
      { publicKey: pub, content, signature: highS(sig) },
      { publicKey: OFF_CURVE, content, signature: sig },
      { publicKey: pub, content, signature: sig.subarray(1) },
      { publicKey: c.decompressPublicKey(pub) as Uint8Array, content, signature: sig },
    ]),
    [id, null, null, null, null],
  );
  const challenge = new Uint8Array(63).fill(7);
  const peer = cryptoFor('js').generatePrivateKey();
  const init = c.handshakeInitiate(KEY, c.publicKeyFromPrivate(peer), challenge, ID, ID);
  if (init === null) return t.fail('initiation expected');
  t.true(c.idVerify(pub, init.idSignature, challenge, init.ephemeralPublicKey, ID));
  t.false(c.idVerify(pub, highS(init.idSignature), challenge, init.ephemeralPublicKey, ID));
  t.is(c.handshakeRespond(peer, pub, init.ephemeralPublicKey, highS(init.idSignature), challenge, ID, ID), null);
  t.is(c.handshakeRespond(peer, pub, OFF_CURVE, init.idSignature, challenge, ID, ID), null);
  t.not(c.handshakeRespond(peer, pub, init.ephemeralPublicKey, init.idSignature, challenge, ID, ID), null);
});

bothBackends('truncated ciphertexts and wrong tags open to null', (t, c) => {
  const key = new Uint8Array(16).fill(1);
  const nonce = new Uint8Array(12).fill(2);
  const ad = new Uint8Array(5);
  const ct = c.aesGcmEncrypt(key, nonce, new Uint8Array(40), ad);
  t.not(c.aesGcmDecrypt(key, nonce, ct, ad), null);
  for (const cut of [0, 1, 15, 16, ct.length - 1])
    t.is(c.aesGcmDecrypt(key, nonce, ct.subarray(0, cut), ad), null, `cut ${cut}`);
  const forged = Uint8Array.from(ct);
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0x80;
  t.is(c.aesGcmDecrypt(key, nonce, forged, ad), null);
  t.is(c.aesGcmDecrypt(key, nonce, ct, new Uint8Array(6)), null);
  t.is(c.aesGcmDecrypt(new Uint8Array(16), nonce, ct, ad), null);
});

bothBackends('packets outside 63..1280 bytes, or masked for another node, unmask to null', (t, c) => {
  const packet = fromHex(vectors.packets.ping_message_packet.expected.packet);
  const ownKey = fromHex(vectors.keys.derived.node_b_id).subarray(0, 16);
  t.not(c.unmaskHeader(ownKey, packet), null);
  t.is(c.unmaskHeader(ownKey, new Uint8Array(62)), null);
  t.is(c.unmaskHeader(ownKey, new Uint8Array(1281)), null);
  t.is(c.unmaskHeader(ID.subarray(0, 16), packet), null);
  t.is(c.unmaskHeader(ownKey, packet.subarray(0, 70)), null); // authdata-size overruns
  const header = c.unmaskHeader(ownKey, packet) as Uint8Array;
  const damaged = Uint8Array.from(packet);
  damaged[packet.length - 20] = (damaged[packet.length - 20] as number) ^ 1;
  t.is(c.openPacket(new Uint8Array(16), header, damaged), null);
  t.is(c.openPacket(new Uint8Array(16), header, packet.subarray(0, header.length + 15)), null);
});
