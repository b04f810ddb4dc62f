/**
 * Outbound packets. Each is built as its unmasked static-header ‖ authdata, then sealed and
 * masked in one backend call (or masked only, for WHOAREYOU and the random first packet).
 */
import { MASKING_IV_SIZE, PROTOCOL_ID, STATIC_HEADER_SIZE } from '../crypto/constants.js';
import type { Crypto } from '../crypto/crypto.js';
import { randomBytes } from '../util/random.js';
import {
  FLAG_HANDSHAKE,
  FLAG_MESSAGE,
  FLAG_WHOAREYOU,
  HANDSHAKE_AUTHDATA_HEAD,
  PROTOCOL_VERSION,
  RANDOM_MESSAGE_SIZE,
  WHOAREYOU_AUTHDATA_SIZE,
} from './constants.js';

function staticHeader(flag: number, nonce: Uint8Array, authdataSize: number): Uint8Array {
  const h = new Uint8Array(STATIC_HEADER_SIZE + authdataSize);
  h.set(PROTOCOL_ID, 0);
  h[6] = PROTOCOL_VERSION >> 8;
  h[7] = PROTOCOL_VERSION & 0xff;
  h[8] = flag;
  h.set(nonce, 9);
  h[21] = authdataSize >> 8;
  h[22] = authdataSize & 0xff;
  return h;
}

/** A fresh random masking IV per packet; tests of the spec vectors pass their fixed one. */
function maskingIv(given?: Uint8Array): Uint8Array {
  return given ?? randomBytes(MASKING_IV_SIZE);
}

/** static-header ‖ src-id: the unmasked header of an ordinary (flag 0) packet. */
function messageHeader(nonce: Uint8Array, srcId: Uint8Array): Uint8Array {
  const header = staticHeader(FLAG_MESSAGE, nonce, 32);
  header.set(srcId, STATIC_HEADER_SIZE);
  return header;
}

export function encodeMessagePacket(
  crypto: Crypto,
  destId: Uint8Array,
  srcId: Uint8Array,
  nonce: Uint8Array,
  writeKey: Uint8Array,
  plaintext: Uint8Array,
  iv?: Uint8Array,
): Uint8Array {
  return crypto.sealPacket(destId.subarray(0, 16), maskingIv(iv), messageHeader(nonce, srcId), writeKey, plaintext);
}

/** A flag-0 packet with random bytes for a message: how contact starts without a session (§3.6). */
export function encodeRandomPacket(
  crypto: Crypto,
  destId: Uint8Array,
  srcId: Uint8Array,
  nonce: Uint8Array,
  iv?: Uint8Array,
): Uint8Array {
  return crypto.maskPacket(
    destId.subarray(0, 16),
    maskingIv(iv),
    messageHeader(nonce, srcId),
    randomBytes(RANDOM_MESSAGE_SIZE),
  );
}

/** A WHOAREYOU (masked with the *requester's* id) and its challenge-data (the packet, unmasked). */
export function encodeWhoareyou(
  crypto: Crypto,
  destId: Uint8Array,
  nonce: Uint8Array,
  idNonce: Uint8Array,
  enrSeq: bigint,
  iv?: Uint8Array,
): { packet: Uint8Array; challengeData: Uint8Array } {
  const header = staticHeader(FLAG_WHOAREYOU, nonce, WHOAREYOU_AUTHDATA_SIZE);
  header.set(idNonce, STATIC_HEADER_SIZE);
  new DataView(header.buffer).setBigUint64(STATIC_HEADER_SIZE + 16, enrSeq);
  const ivBytes = maskingIv(iv);
  const packet = crypto.maskPacket(destId.subarray(0, 16), ivBytes, header, new Uint8Array(0));
  const challengeData = new Uint8Array(MASKING_IV_SIZE + header.length);
  challengeData.set(ivBytes);
  challengeData.set(header, MASKING_IV_SIZE);
  return { packet, challengeData };
}

/** A handshake packet: authdata carries our id signature, ephemeral key and (maybe) record. */
export function encodeHandshakePacket(
  crypto: Crypto,
  destId: Uint8Array,
  srcId: Uint8Array,
  nonce: Uint8Array,
  idSignature: Uint8Array,
  ephemeralPublicKey: Uint8Array,
  record: Uint8Array | null,
  writeKey: Uint8Array,
  plaintext: Uint8Array,
  iv?: Uint8Array,
): Uint8Array {
  const recordSize = record?.length ?? 0;
  const authdataSize = HANDSHAKE_AUTHDATA_HEAD + idSignature.length + ephemeralPublicKey.length + recordSize;
  const header = staticHeader(FLAG_HANDSHAKE, nonce, authdataSize);
  let at = STATIC_HEADER_SIZE;
  header.set(srcId, at);
  header[at + 32] = idSignature.length;
  header[at + 33] = ephemeralPublicKey.length;
  at += HANDSHAKE_AUTHDATA_HEAD;
  header.set(idSignature, at);
  header.set(ephemeralPublicKey, at + idSignature.length);
  if (record !== null) header.set(record, at + idSignature.length + ephemeralPublicKey.length);
  return crypto.sealPacket(destId.subarray(0, 16), maskingIv(iv), header, writeKey, plaintext);
}
