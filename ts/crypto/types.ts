/**
 * The hot path of discv5 as one interface with two implementations: the Rust addon (`native`)
 * and pure JavaScript (`js`). Implementations see only arguments that `Crypto` (crypto.ts)
 * has already validated, so they never disagree on misuse; expected failures are values
 * (`null` for an invalid point or a bad tag, `false` for a bad signature).
 *
 * The calls are coarse on purpose, shaped by the packet flow: one unmasks a header, one seals a
 * whole packet, one opens a message, one does each side of a handshake, one verifies a batch
 * of records, one ranks a batch of ids.
 */
export type BackendName = 'native' | 'js';

/** Requested backend: a concrete one, or `auto` (native if it loads, otherwise js). */
export type BackendChoice = BackendName | 'auto';

export interface BackendImpl {
  readonly name: BackendName;
  /** Does nothing: the price of a call into the backend. */
  noop(): void;
  keccak256(data: Uint8Array): Uint8Array;
  generatePrivateKey(): Uint8Array;
  /** 33-byte compressed public key. */
  publicKeyFromPrivate(privateKey: Uint8Array): Uint8Array;
  compressPublicKey(publicKey: Uint8Array): Uint8Array | null;
  decompressPublicKey(publicKey: Uint8Array): Uint8Array | null;
  nodeIdFromPublicKey(publicKey: Uint8Array): Uint8Array | null;
  /** 33-byte compressed shared point. */
  ecdh(publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array | null;
  /** initiator-key ‖ recipient-key. */
  deriveKeys(
    privateKey: Uint8Array,
    publicKey: Uint8Array,
    initiatorId: Uint8Array,
    recipientId: Uint8Array,
    challengeData: Uint8Array,
  ): Uint8Array | null;
  idSign(
    privateKey: Uint8Array,
    challengeData: Uint8Array,
    ephemeralPublicKey: Uint8Array,
    recipientId: Uint8Array,
  ): Uint8Array;
  idVerify(
    publicKey: Uint8Array,
    signature: Uint8Array,
    challengeData: Uint8Array,
    ephemeralPublicKey: Uint8Array,
    recipientId: Uint8Array,
  ): boolean;
  /** keys (32) ‖ id-signature (64) ‖ ephemeral public key (33). */
  handshakeInitiate(
    staticPrivateKey: Uint8Array,
    ephemeralPrivateKey: Uint8Array | undefined,
    recipientPublicKey: Uint8Array,
    challengeData: Uint8Array,
    initiatorId: Uint8Array,
    recipientId: Uint8Array,
  ): Uint8Array | null;
  /** initiator-key ‖ recipient-key, or null if the id signature or a key is invalid. */
  handshakeRespond(
    staticPrivateKey: Uint8Array,
    initiatorPublicKey: Uint8Array,
    ephemeralPublicKey: Uint8Array,
    signature: Uint8Array,
    challengeData: Uint8Array,
    initiatorId: Uint8Array,
    recipientId: Uint8Array,
  ): Uint8Array | null;
  /** masking-iv ‖ static-header ‖ authdata, unmasked; null for a bad size, protocol-id or authdata-size. */
  unmaskHeader(maskingKey: Uint8Array, packet: Uint8Array): Uint8Array | null;
  maskPacket(maskingKey: Uint8Array, maskingIv: Uint8Array, header: Uint8Array, message: Uint8Array): Uint8Array;
  sealPacket(
    maskingKey: Uint8Array,
    maskingIv: Uint8Array,
    header: Uint8Array,
    writeKey: Uint8Array,
    plaintext: Uint8Array,
  ): Uint8Array;
  openPacket(readKey: Uint8Array, header: Uint8Array, packet: Uint8Array): Uint8Array | null;
  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null;
  enrSign(privateKey: Uint8Array, content: Uint8Array): Uint8Array;
  enrVerify(publicKey: Uint8Array, content: Uint8Array, signature: Uint8Array): boolean;
  /**
   * 33 bytes per record: 1 ‖ node id if its signature verifies, else 33 zeros. Record i's content is
   * contents[offsets[i]..offsets[i+1]]. Each key is parsed once for both results.
   */
  enrVerifyBatch(
    publicKeys: Uint8Array,
    signatures: Uint8Array,
    contents: Uint8Array,
    offsets: Uint32Array,
  ): Uint8Array;
  /** Discovery v4: hash ‖ signature (65, recoverable) ‖ packet-type ‖ data, at most 1280 bytes. */
  discv4Pack(privateKey: Uint8Array, packetType: number, data: Uint8Array): Uint8Array;
  /**
   * Discovery v4: checks size (98-1280 bytes) and hash and recovers the signer in one call:
   * hash (32) ‖ public key X ‖ Y (64) ‖ node id (32) ‖ packet-type (1), or null for any bad packet.
   */
  discv4Unpack(packet: Uint8Array): Uint8Array | null;
  logDistances(target: Uint8Array, ids: Uint8Array): Uint16Array;
  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array;
}
