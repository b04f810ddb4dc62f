/**
 * `Crypto`: the validated door to a backend. Every layer above uses this, never a backend
 * directly. Arguments are checked here, once, so that the native and js backends never see
 * misuse and always fail the same way (a `Discv5Error` with a stable code); expected failures
 * come back as `null` / `false`.
 */
import { Discv5Error, ErrorCode } from '../util/errors.js';
import {
  AES_KEY_SIZE,
  COMPRESSED_PUBLIC_KEY_SIZE,
  ENR_BATCH_ENTRY_SIZE,
  HEADER_START,
  MASKING_IV_SIZE,
  MAX_PACKET_SIZE,
  NODE_ID_SIZE,
  NONCE_SIZE,
  SESSION_KEYS_SIZE,
  SIGNATURE_SIZE,
  STATIC_HEADER_SIZE,
} from './constants.js';
import { type Discv4Unpacked, discv4Pack, discv4Unpack } from './discv4.js';
import type { NativeLoader } from './select.js';
import { selectBackend } from './select.js';
import type { BackendChoice, BackendImpl, BackendName } from './types.js';
import { assertBytes, assertPrivateKey, isPublicKeyEncoding } from './validate.js';

export interface SessionKeys {
  /** Written by the handshake's initiator, read by its recipient. */
  initiatorKey: Uint8Array;
  /** Written by the recipient, read by the initiator. */
  recipientKey: Uint8Array;
}

export interface HandshakeInitiation extends SessionKeys {
  idSignature: Uint8Array;
  ephemeralPublicKey: Uint8Array;
}

export interface EnrSignatureItem {
  /** The record's 33-byte `secp256k1` value. */
  publicKey: Uint8Array;
  /** RLP of [seq, k1, v1, ...]. */
  content: Uint8Array;
  signature: Uint8Array;
}

function publicKeyArg(value: unknown, name: string): Uint8Array {
  assertBytes(value, name);
  if (value.length !== COMPRESSED_PUBLIC_KEY_SIZE && value.length !== 65) {
    throw new Discv5Error(ErrorCode.INVALID_LENGTH, `${name} must be 33 or 65 bytes, got ${value.length}`);
  }
  return value;
}

function splitKeys(keys: Uint8Array): SessionKeys {
  return { initiatorKey: keys.subarray(0, AES_KEY_SIZE), recipientKey: keys.subarray(AES_KEY_SIZE, SESSION_KEYS_SIZE) };
}

function idArgs(initiatorId: unknown, recipientId: unknown): void {
  assertBytes(initiatorId, 'initiator id', NODE_ID_SIZE);
  assertBytes(recipientId, 'recipient id', NODE_ID_SIZE);
}

export class Crypto {
  readonly #impl: BackendImpl;

  constructor(impl: BackendImpl) {
    this.#impl = impl;
  }

  /** Which implementation runs underneath. */
  get backend(): BackendName {
    return this.#impl.name;
  }

  /** The unvalidated implementation, for benchmarks that measure it bare. */
  get impl(): BackendImpl {
    return this.#impl;
  }

  keccak256(data: Uint8Array): Uint8Array {
    assertBytes(data, 'data');
    return this.#impl.keccak256(data);
  }

  generatePrivateKey(): Uint8Array {
    return this.#impl.generatePrivateKey();
  }

  publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
    assertPrivateKey(privateKey);
    return this.#impl.publicKeyFromPrivate(privateKey);
  }

  /** 33-byte form, or null if the key is not a point on the curve. */
  compressPublicKey(publicKey: Uint8Array): Uint8Array | null {
    publicKeyArg(publicKey, 'public key');
    return isPublicKeyEncoding(publicKey) ? this.#impl.compressPublicKey(publicKey) : null;
  }

  /** 65-byte form, or null if the key is not a point on the curve. */
  decompressPublicKey(publicKey: Uint8Array): Uint8Array | null {
    publicKeyArg(publicKey, 'public key');
    return isPublicKeyEncoding(publicKey) ? this.#impl.decompressPublicKey(publicKey) : null;
  }

  /** keccak256(X ‖ Y), or null if the key is not a point on the curve. */
  nodeIdFromPublicKey(publicKey: Uint8Array): Uint8Array | null {
    publicKeyArg(publicKey, 'public key');
    return isPublicKeyEncoding(publicKey) ? this.#impl.nodeIdFromPublicKey(publicKey) : null;
  }

  /** The 33-byte compressed shared point, or null if the public key is not a valid point. */
  ecdh(publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array | null {
    publicKeyArg(publicKey, 'public key');
    assertPrivateKey(privateKey);
    return isPublicKeyEncoding(publicKey) ? this.#impl.ecdh(publicKey, privateKey) : null;
  }

  /** ECDH + HKDF (spec §4.3) in one call; null if the public key is not a valid point. */
  deriveKeys(
    privateKey: Uint8Array,
    publicKey: Uint8Array,
    initiatorId: Uint8Array,
    recipientId: Uint8Array,
    challengeData: Uint8Array,
  ): SessionKeys | null {
    assertPrivateKey(privateKey);
    publicKeyArg(publicKey, 'public key');
    idArgs(initiatorId, recipientId);
    assertBytes(challengeData, 'challenge data');
    if (!isPublicKeyEncoding(publicKey)) return null;
    const keys = this.#impl.deriveKeys(privateKey, publicKey, initiatorId, recipientId, challengeData);
    return keys === null ? null : splitKeys(keys);
  }

  idSign(privateKey: Uint8Array, challengeData: Uint8Array, ephemeralPublicKey: Uint8Array, recipientId: Uint8Array) {
    assertPrivateKey(privateKey);
    assertBytes(challengeData, 'challenge data');
    assertBytes(ephemeralPublicKey, 'ephemeral public key');
    assertBytes(recipientId, 'recipient id', NODE_ID_SIZE);
    return this.#impl.idSign(privateKey, challengeData, ephemeralPublicKey, recipientId);
  }

  idVerify(
    publicKey: Uint8Array,
    signature: Uint8Array,
    challengeData: Uint8Array,
    ephemeralPublicKey: Uint8Array,
    recipientId: Uint8Array,
  ): boolean {
    assertBytes(publicKey, 'public key');
    assertBytes(signature, 'signature');
    assertBytes(challengeData, 'challenge data');
    assertBytes(ephemeralPublicKey, 'ephemeral public key');
    assertBytes(recipientId, 'recipient id', NODE_ID_SIZE);
    if (!isPublicKeyEncoding(publicKey) || signature.length !== SIGNATURE_SIZE) return false;
    return this.#impl.idVerify(publicKey, signature, challengeData, ephemeralPublicKey, recipientId);
  }

  /**
   * The initiator's side of a handshake on receiving WHOAREYOU, in one call: a fresh ephemeral
   * key (or the one given, for test vectors), the session keys and the id signature.
   * Null if the recipient's public key is not a valid point.
   */
  handshakeInitiate(
    staticPrivateKey: Uint8Array,
    recipientPublicKey: Uint8Array,
    challengeData: Uint8Array,
    initiatorId: Uint8Array,
    recipientId: Uint8Array,
    ephemeralPrivateKey?: Uint8Array,
  ): HandshakeInitiation | null {
    assertPrivateKey(staticPrivateKey, 'static private key');
    if (ephemeralPrivateKey !== undefined) assertPrivateKey(ephemeralPrivateKey, 'ephemeral private key');
    publicKeyArg(recipientPublicKey, 'recipient public key');
    assertBytes(challengeData, 'challenge data');
    idArgs(initiatorId, recipientId);
    if (!isPublicKeyEncoding(recipientPublicKey)) return null;
    const out = this.#impl.handshakeInitiate(
      staticPrivateKey,
      ephemeralPrivateKey,
      recipientPublicKey,
      challengeData,
      initiatorId,
      recipientId,
    );
    if (out === null) return null;
    return {
      ...splitKeys(out),
      idSignature: out.subarray(SESSION_KEYS_SIZE, SESSION_KEYS_SIZE + SIGNATURE_SIZE),
      ephemeralPublicKey: out.subarray(SESSION_KEYS_SIZE + SIGNATURE_SIZE),
    };
  }

  /**
   * The recipient's side of a handshake packet, in one call: checks the id signature against the
   * challenge it stored and derives the session keys. Null if anything does not verify.
   */
  handshakeRespond(
    staticPrivateKey: Uint8Array,
    initiatorPublicKey: Uint8Array,
    ephemeralPublicKey: Uint8Array,
    idSignature: Uint8Array,
    challengeData: Uint8Array,
    initiatorId: Uint8Array,
    recipientId: Uint8Array,
  ): SessionKeys | null {
    assertPrivateKey(staticPrivateKey, 'static private key');
    assertBytes(initiatorPublicKey, 'initiator public key');
    assertBytes(ephemeralPublicKey, 'ephemeral public key');
    assertBytes(idSignature, 'id signature');
    assertBytes(challengeData, 'challenge data');
    idArgs(initiatorId, recipientId);
    if (
      !isPublicKeyEncoding(initiatorPublicKey) ||
      !isPublicKeyEncoding(ephemeralPublicKey) ||
      idSignature.length !== SIGNATURE_SIZE
    ) {
      return null;
    }
    const keys = this.#impl.handshakeRespond(
      staticPrivateKey,
      initiatorPublicKey,
      ephemeralPublicKey,
      idSignature,
      challengeData,
      initiatorId,
      recipientId,
    );
    return keys === null ? null : splitKeys(keys);
  }

  /**
   * Unmasks an inbound packet's header with our masking key (own node-id[0:16]). Returns
   * masking-iv ‖ static-header ‖ authdata, unmasked: the GCM associated data, whose length is
   * where the message starts. Null for a bad size, protocol-id or authdata-size.
   */
  unmaskHeader(maskingKey: Uint8Array, packet: Uint8Array): Uint8Array | null {
    assertBytes(maskingKey, 'masking key', AES_KEY_SIZE);
    assertBytes(packet, 'packet');
    return this.#impl.unmaskHeader(maskingKey, packet);
  }

  /** masking-iv ‖ masked header ‖ message (already sealed; empty for WHOAREYOU). */
  maskPacket(maskingKey: Uint8Array, maskingIv: Uint8Array, header: Uint8Array, message: Uint8Array): Uint8Array {
    assertBytes(maskingKey, 'masking key', AES_KEY_SIZE);
    assertBytes(maskingIv, 'masking iv', MASKING_IV_SIZE);
    assertBytes(message, 'message');
    this.#headerArg(header, message.length);
    return this.#impl.maskPacket(maskingKey, maskingIv, header, message);
  }

  /** A whole outbound packet: seals the plaintext under the header's nonce, then masks the header. */
  sealPacket(
    maskingKey: Uint8Array,
    maskingIv: Uint8Array,
    header: Uint8Array,
    writeKey: Uint8Array,
    plaintext: Uint8Array,
  ): Uint8Array {
    assertBytes(maskingKey, 'masking key', AES_KEY_SIZE);
    assertBytes(maskingIv, 'masking iv', MASKING_IV_SIZE);
    assertBytes(plaintext, 'plaintext');
    this.#headerArg(header, plaintext.length + 16);
    assertBytes(writeKey, 'write key', AES_KEY_SIZE);
    return this.#impl.sealPacket(maskingKey, maskingIv, header, writeKey, plaintext);
  }

  /** Opens the message of `packet` whose unmasked header `unmaskHeader` returned; null on a bad tag. */
  openPacket(readKey: Uint8Array, header: Uint8Array, packet: Uint8Array): Uint8Array | null {
    assertBytes(readKey, 'read key', AES_KEY_SIZE);
    assertBytes(header, 'header');
    assertBytes(packet, 'packet');
    if (header.length < HEADER_START || header.length > packet.length) {
      throw new Discv5Error(ErrorCode.INVALID_LENGTH, 'header must be an unmasked header of this packet');
    }
    return this.#impl.openPacket(readKey, header, packet);
  }

  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
    assertBytes(key, 'key', AES_KEY_SIZE);
    assertBytes(nonce, 'nonce', NONCE_SIZE);
    assertBytes(plaintext, 'plaintext');
    assertBytes(ad, 'associated data');
    return this.#impl.aesGcmEncrypt(key, nonce, plaintext, ad);
  }

  /** Null when the tag does not verify or the input is shorter than a tag. */
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null {
    assertBytes(key, 'key', AES_KEY_SIZE);
    assertBytes(nonce, 'nonce', NONCE_SIZE);
    assertBytes(ciphertext, 'ciphertext');
    assertBytes(ad, 'associated data');
    return this.#impl.aesGcmDecrypt(key, nonce, ciphertext, ad);
  }

  /** "v4" record signature over keccak256(content). */
  enrSign(privateKey: Uint8Array, content: Uint8Array): Uint8Array {
    assertPrivateKey(privateKey);
    assertBytes(content, 'content');
    return this.#impl.enrSign(privateKey, content);
  }

  enrVerify(publicKey: Uint8Array, content: Uint8Array, signature: Uint8Array): boolean {
    assertBytes(publicKey, 'public key');
    assertBytes(content, 'content');
    assertBytes(signature, 'signature');
    if (!isPublicKeyEncoding(publicKey) || signature.length !== SIGNATURE_SIZE) return false;
    return this.#impl.enrVerify(publicKey, content, signature);
  }

  /**
   * Verifies many records in one call into the backend (a NODES response carries up to 16):
   * for each, its node id if the signature verifies, else null. Each key is parsed only once.
   */
  enrVerifyBatch(items: readonly EnrSignatureItem[]): (Uint8Array | null)[] {
    const n = items.length;
    if (n === 0) return [];
    const publicKeys = new Uint8Array(n * COMPRESSED_PUBLIC_KEY_SIZE);
    const signatures = new Uint8Array(n * SIGNATURE_SIZE);
    const offsets = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const item = items[i] as EnrSignatureItem;
      assertBytes(item.publicKey, 'public key');
      assertBytes(item.content, 'content');
      assertBytes(item.signature, 'signature');
      // A malformed key or signature is left as zeros: the backend refuses it like any bad signature.
      const wellFormed = item.publicKey.length === COMPRESSED_PUBLIC_KEY_SIZE && isPublicKeyEncoding(item.publicKey);
      if (wellFormed && item.signature.length === SIGNATURE_SIZE) {
        publicKeys.set(item.publicKey, i * COMPRESSED_PUBLIC_KEY_SIZE);
        signatures.set(item.signature, i * SIGNATURE_SIZE);
      }
      total += item.content.length;
      offsets[i + 1] = total;
    }
    const contents = new Uint8Array(total);
    for (let i = 0; i < n; i++) contents.set((items[i] as EnrSignatureItem).content, offsets[i]);
    const result = this.#impl.enrVerifyBatch(publicKeys, signatures, contents, offsets);
    const out = new Array<Uint8Array | null>(n);
    for (let i = 0; i < n; i++) {
      const at = i * ENR_BATCH_ENTRY_SIZE;
      out[i] = result[at] === 1 ? result.slice(at + 1, at + ENR_BATCH_ENTRY_SIZE) : null;
    }
    return out;
  }

  /**
   * Discovery v4: a whole packet, hash ‖ signature ‖ packet-type ‖ `data` (already RLP), signed
   * with `privateKey` (RFC 6979, so the same input gives the same bytes on both backends).
   * Throws INVALID_LENGTH if it would exceed 1280 bytes.
   */
  discv4Pack(privateKey: Uint8Array, packetType: number, data: Uint8Array): Uint8Array {
    return discv4Pack(this.#impl, privateKey, packetType, data);
  }

  /**
   * Discovery v4: checks an inbound packet's size and hash and recovers its signer, in one call.
   * Null for anything malformed or badly signed; the packet-data is returned undecoded.
   */
  discv4Unpack(packet: Uint8Array): Discv4Unpacked | null {
    return discv4Unpack(this.#impl, packet);
  }

  /** Log-distance from `target` to each id of a packed list (n × 32 bytes). */
  logDistances(target: Uint8Array, ids: Uint8Array): Uint16Array {
    this.#idsArgs(target, ids);
    return this.#impl.logDistances(target, ids);
  }

  /** Indices of the k ids of a packed list (n × 32 bytes) closest to `target`, closest first; ties keep list order. */
  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array {
    this.#idsArgs(target, ids);
    if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) {
      throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `k must be a non-negative integer, got ${k}`);
    }
    return this.#impl.closest(target, ids, k);
  }

  #idsArgs(target: unknown, ids: unknown): void {
    assertBytes(target, 'target', NODE_ID_SIZE);
    assertBytes(ids, 'ids');
    if (ids.length % NODE_ID_SIZE !== 0) {
      throw new Discv5Error(
        ErrorCode.INVALID_LENGTH,
        `ids must be a multiple of ${NODE_ID_SIZE} bytes, got ${ids.length}`,
      );
    }
  }

  #headerArg(header: unknown, messageLength: number): void {
    assertBytes(header, 'header');
    if (header.length < STATIC_HEADER_SIZE) {
      throw new Discv5Error(ErrorCode.INVALID_LENGTH, `header must be at least ${STATIC_HEADER_SIZE} bytes`);
    }
    if (MASKING_IV_SIZE + header.length + messageLength > MAX_PACKET_SIZE) {
      throw new Discv5Error(ErrorCode.INVALID_LENGTH, `packet would exceed ${MAX_PACKET_SIZE} bytes`);
    }
  }
}

/** Options that pick a crypto backend. */
export interface BackendOptions {
  /** `native`, `js` or `auto` (default: DISCV5_BACKEND, else auto). */
  backend?: BackendChoice;
}

export function createCryptoWith(options: BackendOptions, loadNative: NativeLoader | undefined): Crypto {
  return new Crypto(selectBackend(options.backend, loadNative));
}
