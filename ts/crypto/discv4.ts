/**
 * The discv4 half of the validating facade (`Crypto.discv4Pack` / `Crypto.discv4Unpack`), kept
 * apart so crypto.ts stays one screenful per concern. Arguments are checked here, once, before
 * either backend runs; a packet from the network is never misuse, so anything wrong with it is null.
 */
import { Discv5Error, ErrorCode } from '../util/errors.js';
import {
  DISCV4_DATA_OFFSET,
  DISCV4_HASH_SIZE,
  DISCV4_PUBLIC_KEY_SIZE,
  DISCV4_UNPACKED_SIZE,
  MAX_PACKET_SIZE,
} from './constants.js';
import type { BackendImpl } from './types.js';
import { assertBytes, assertPrivateKey } from './validate.js';

/** A discv4 packet whose hash and signature check out. */
export interface Discv4Unpacked {
  /** keccak256(signature ‖ packet-type ‖ packet-data): what a PONG or ENRRESPONSE echoes. */
  hash: Uint8Array;
  /** The signer's key, X ‖ Y (64 bytes, no 0x04 prefix): a discv4 node's identity on the wire. */
  publicKey: Uint8Array;
  /** keccak256(publicKey): the signer's node id as discv5 and ENR "v4" know it. */
  nodeId: Uint8Array;
  /** packet-type, any byte (which ones are known is the discv4 layer's business). */
  type: number;
  /** packet-data: a view into the packet from byte 98 on, not yet decoded. */
  data: Uint8Array;
}

const PUBLIC_KEY_AT = DISCV4_HASH_SIZE;
const NODE_ID_AT = PUBLIC_KEY_AT + DISCV4_PUBLIC_KEY_SIZE;
/** The last byte of the DISCV4_UNPACKED_SIZE-byte result. */
const TYPE_AT = DISCV4_UNPACKED_SIZE - 1;

export function discv4Pack(impl: BackendImpl, privateKey: unknown, packetType: unknown, data: unknown): Uint8Array {
  assertPrivateKey(privateKey);
  if (typeof packetType !== 'number' || !Number.isInteger(packetType) || packetType < 0 || packetType > 255) {
    throw new Discv5Error(
      ErrorCode.INVALID_ARGUMENT,
      `packet type must be an integer 0-255, got ${String(packetType)}`,
    );
  }
  assertBytes(data, 'data');
  if (DISCV4_DATA_OFFSET + data.length > MAX_PACKET_SIZE) {
    throw new Discv5Error(
      ErrorCode.INVALID_LENGTH,
      `a discv4 packet is at most ${MAX_PACKET_SIZE} bytes: packet-data may be ${MAX_PACKET_SIZE - DISCV4_DATA_OFFSET}, got ${data.length}`,
    );
  }
  return impl.discv4Pack(privateKey, packetType, data);
}

export function discv4Unpack(impl: BackendImpl, packet: unknown): Discv4Unpacked | null {
  assertBytes(packet, 'packet');
  if (packet.length < DISCV4_DATA_OFFSET || packet.length > MAX_PACKET_SIZE) return null;
  const out = impl.discv4Unpack(packet);
  if (out === null) return null;
  return {
    hash: out.subarray(0, PUBLIC_KEY_AT),
    publicKey: out.subarray(PUBLIC_KEY_AT, NODE_ID_AT),
    nodeId: out.subarray(NODE_ID_AT, TYPE_AT),
    type: out[TYPE_AT] as number,
    data: packet.subarray(DISCV4_DATA_OFFSET),
  };
}
