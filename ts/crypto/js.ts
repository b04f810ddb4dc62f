/**
 * The pure-JavaScript backend: @noble/curves for secp256k1, @noble/hashes for keccak, and
 * node:crypto for AES, SHA-256 and HKDF (OpenSSL, present wherever Node runs).
 * It is the fallback where the addon does not load and the baseline the addon is measured against.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesEqual, concatBytes } from '../util/bytes.js';
import {
  DISCV4_DATA_OFFSET,
  DISCV4_HASH_SIZE,
  DISCV4_HEAD_SIZE,
  ENR_BATCH_ENTRY_SIZE,
  HEADER_START,
  MASKING_IV_SIZE,
  MAX_PACKET_SIZE,
  MIN_PACKET_SIZE,
  NODE_ID_SIZE,
  PROTOCOL_ID,
  TAG_SIZE,
} from './constants.js';
import type { BackendImpl } from './types.js';
import { isPublicKeyEncoding, isValidPrivateKey } from './validate.js';

const KEY_AGREEMENT_TEXT = new TextEncoder().encode('discovery v5 key agreement');
const ID_PROOF_TEXT = new TextEncoder().encode('discovery v5 identity proof');
const SIGN_OPTS = { prehash: false, lowS: true } as const;
const RECOVERABLE_OPTS = { ...SIGN_OPTS, format: 'recovered' } as const;

type Point = ReturnType<typeof secp256k1.Point.fromBytes>;

function parsePoint(publicKey: Uint8Array): Point | null {
  if (!isPublicKeyEncoding(publicKey)) return null;
  try {
    return secp256k1.Point.fromBytes(publicKey);
  } catch {
    return null;
  }
}

function verifyDigest(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64 || !isPublicKeyEncoding(publicKey)) return false;
  try {
    return secp256k1.verify(signature, digest, publicKey, SIGN_OPTS);
  } catch {
    return false;
  }
}

function ecdh(publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array | null {
  const point = parsePoint(publicKey);
  if (point === null) return null;
  return secp256k1.getSharedSecret(privateKey, point.toBytes(true), true);
}

function kdf(secret: Uint8Array, initiatorId: Uint8Array, recipientId: Uint8Array, challenge: Uint8Array): Uint8Array {
  const info = concatBytes(KEY_AGREEMENT_TEXT, initiatorId, recipientId);
  return new Uint8Array(hkdfSync('sha256', secret, challenge, info, 32));
}

function deriveKeys(
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  initiatorId: Uint8Array,
  recipientId: Uint8Array,
  challenge: Uint8Array,
): Uint8Array | null {
  const secret = ecdh(publicKey, privateKey);
  return secret === null ? null : kdf(secret, initiatorId, recipientId, challenge);
}

function idProofDigest(challenge: Uint8Array, ephemeralPublicKey: Uint8Array, recipientId: Uint8Array): Uint8Array {
  return createHash('sha256')
    .update(ID_PROOF_TEXT)
    .update(challenge)
    .update(ephemeralPublicKey)
    .update(recipientId)
    .digest();
}

function idSign(
  privateKey: Uint8Array,
  challenge: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  recipientId: Uint8Array,
) {
  return secp256k1.sign(idProofDigest(challenge, ephemeralPublicKey, recipientId), privateKey, SIGN_OPTS);
}

function idVerify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  challenge: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  recipientId: Uint8Array,
): boolean {
  return verifyDigest(publicKey, idProofDigest(challenge, ephemeralPublicKey, recipientId), signature);
}

function generatePrivateKey(): Uint8Array {
  for (;;) {
    const key = new Uint8Array(randomBytes(32));
    if (isValidPrivateKey(key)) return key;
  }
}

function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: TAG_SIZE });
  cipher.setAAD(ad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return concatBytes(head, tail, cipher.getAuthTag());
}

function aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null {
  if (ciphertext.length < TAG_SIZE) return null;
  const end = ciphertext.length - TAG_SIZE;
  const decipher = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(ciphertext.subarray(end));
  decipher.setAAD(ad);
  const head = decipher.update(ciphertext.subarray(0, end));
  try {
    return concatBytes(head, decipher.final());
  } catch {
    return null; // tag mismatch
  }
}

function maskPacket(
  maskingKey: Uint8Array,
  maskingIv: Uint8Array,
  header: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  const masked = createCipheriv('aes-128-ctr', maskingKey, maskingIv).update(header);
  return concatBytes(maskingIv, masked, message);
}

function enrVerify(publicKey: Uint8Array, content: Uint8Array, signature: Uint8Array): boolean {
  return verifyDigest(publicKey, keccak_256(content), signature);
}

/** Signs type ‖ data (from byte 97) and fills in the 65-byte signature r ‖ s ‖ v and the hash. */
function discv4Pack(privateKey: Uint8Array, packetType: number, data: Uint8Array): Uint8Array {
  const packet = new Uint8Array(DISCV4_DATA_OFFSET + data.length);
  packet[DISCV4_HEAD_SIZE] = packetType;
  packet.set(data, DISCV4_DATA_OFFSET);
  // noble's "recovered" format puts the recovery id first: v ‖ r ‖ s.
  const sig = secp256k1.sign(keccak_256(packet.subarray(DISCV4_HEAD_SIZE)), privateKey, RECOVERABLE_OPTS);
  packet.set(sig.subarray(1), DISCV4_HASH_SIZE);
  packet[DISCV4_HEAD_SIZE - 1] = sig[0] as number;
  packet.set(keccak_256(packet.subarray(DISCV4_HASH_SIZE)), 0);
  return packet;
}

/**
 * As go-ethereum (and the native backend) recover: recovery ids 0-3, high s accepted, r and s
 * in 1..n-1. Null for a bad size, hash or signature.
 */
function discv4Unpack(packet: Uint8Array): Uint8Array | null {
  if (packet.length < DISCV4_DATA_OFFSET || packet.length > MAX_PACKET_SIZE) return null;
  const hash = keccak_256(packet.subarray(DISCV4_HASH_SIZE));
  if (!bytesEqual(hash, packet.subarray(0, DISCV4_HASH_SIZE))) return null;
  const recovery = packet[DISCV4_HEAD_SIZE - 1] as number;
  if (recovery > 3) return null;
  let xy: Uint8Array;
  try {
    const sig = secp256k1.Signature.fromBytes(packet.subarray(DISCV4_HASH_SIZE, DISCV4_HEAD_SIZE - 1), 'compact');
    const point = sig.addRecoveryBit(recovery).recoverPublicKey(keccak_256(packet.subarray(DISCV4_HEAD_SIZE)));
    xy = point.toBytes(false).subarray(1);
  } catch {
    return null;
  }
  return concatBytes(hash, xy, keccak_256(xy), Uint8Array.of(packet[DISCV4_HEAD_SIZE] as number));
}

function logDistance(a: Uint8Array, b: Uint8Array, bOffset: number): number {
  for (let i = 0; i < NODE_ID_SIZE; i++) {
    const x = ((a[i] as number) ^ (b[bOffset + i] as number)) & 0xff;
    if (x !== 0) return (NODE_ID_SIZE - i) * 8 - (Math.clz32(x) - 24);
  }
  return 0;
}

export const jsBackend: BackendImpl = {
  name: 'js',
  noop() {},
  keccak256: (data) => keccak_256(data),
  generatePrivateKey,
  publicKeyFromPrivate: (privateKey) => secp256k1.getPublicKey(privateKey, true),
  compressPublicKey: (publicKey) => parsePoint(publicKey)?.toBytes(true) ?? null,
  decompressPublicKey: (publicKey) => parsePoint(publicKey)?.toBytes(false) ?? null,
  nodeIdFromPublicKey(publicKey) {
    const point = parsePoint(publicKey);
    return point === null ? null : keccak_256(point.toBytes(false).subarray(1));
  },
  ecdh,
  deriveKeys,
  idSign,
  idVerify,
  handshakeInitiate(staticPrivateKey, ephemeralPrivateKey, recipientPublicKey, challenge, initiatorId, recipientId) {
    const eph = ephemeralPrivateKey ?? generatePrivateKey();
    const keys = deriveKeys(eph, recipientPublicKey, initiatorId, recipientId, challenge);
    if (keys === null) return null;
    const ephPub = secp256k1.getPublicKey(eph, true);
    return concatBytes(keys, idSign(staticPrivateKey, challenge, ephPub, recipientId), ephPub);
  },
  handshakeRespond(
    staticPrivateKey,
    initiatorPublicKey,
    ephemeralPublicKey,
    signature,
    challenge,
    initiatorId,
    recipientId,
  ) {
    if (!idVerify(initiatorPublicKey, signature, challenge, ephemeralPublicKey, recipientId)) return null;
    return deriveKeys(staticPrivateKey, ephemeralPublicKey, initiatorId, recipientId, challenge);
  },
  unmaskHeader(maskingKey, packet) {
    if (packet.length < MIN_PACKET_SIZE || packet.length > MAX_PACKET_SIZE) return null;
    const decipher = createDecipheriv('aes-128-ctr', maskingKey, packet.subarray(0, MASKING_IV_SIZE));
    const staticHeader = decipher.update(packet.subarray(MASKING_IV_SIZE, HEADER_START));
    for (let i = 0; i < PROTOCOL_ID.length; i++) if (staticHeader[i] !== PROTOCOL_ID[i]) return null;
    const end = HEADER_START + ((staticHeader[21] as number) << 8) + (staticHeader[22] as number);
    if (end > packet.length) return null;
    // The same keystream runs on into the authdata.
    const authdata = decipher.update(packet.subarray(HEADER_START, end));
    return concatBytes(packet.subarray(0, MASKING_IV_SIZE), staticHeader, authdata);
  },
  maskPacket,
  sealPacket(maskingKey, maskingIv, header, writeKey, plaintext) {
    const nonce = header.subarray(9, 21);
    const message = aesGcmEncrypt(writeKey, nonce, plaintext, concatBytes(maskingIv, header));
    return maskPacket(maskingKey, maskingIv, header, message);
  },
  openPacket(readKey, header, packet) {
    const nonce = header.subarray(MASKING_IV_SIZE + 9, MASKING_IV_SIZE + 21);
    return aesGcmDecrypt(readKey, nonce, packet.subarray(header.length), header);
  },
  aesGcmEncrypt,
  aesGcmDecrypt,
  enrSign: (privateKey, content) => secp256k1.sign(keccak_256(content), privateKey, SIGN_OPTS),
  enrVerify,
  enrVerifyBatch(publicKeys, signatures, contents, offsets) {
    const n = offsets.length - 1;
    const out = new Uint8Array(n * ENR_BATCH_ENTRY_SIZE);
    for (let i = 0; i < n; i++) {
      // Decompressed once, for the signature check and the node id both.
      const point = parsePoint(publicKeys.subarray(i * 33, i * 33 + 33));
      if (point === null) continue;
      const uncompressed = point.toBytes(false);
      const content = contents.subarray(offsets[i], offsets[i + 1]);
      if (verifyDigest(uncompressed, keccak_256(content), signatures.subarray(i * 64, i * 64 + 64))) {
        out[i * ENR_BATCH_ENTRY_SIZE] = 1;
        out.set(keccak_256(uncompressed.subarray(1)), i * ENR_BATCH_ENTRY_SIZE + 1);
      }
    }
    return out;
  },
  discv4Pack,
  discv4Unpack,
  logDistances(target, ids) {
    const n = ids.length / NODE_ID_SIZE;
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = logDistance(target, ids, i * NODE_ID_SIZE);
    return out;
  },
  closest(target, ids, k) {
    const n = ids.length / NODE_ID_SIZE;
    const xor = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) xor[i] = (ids[i] as number) ^ (target[i % NODE_ID_SIZE] as number);
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => {
      for (let j = 0; j < NODE_ID_SIZE; j++) {
        const d = (xor[a * NODE_ID_SIZE + j] as number) - (xor[b * NODE_ID_SIZE + j] as number);
        if (d !== 0) return d;
      }
      return a - b; // equal distance: list order, as the native backend does
    });
    return Uint32Array.from(order.slice(0, Math.min(k, n)));
  },
};
