/**
 * discv4 packets: hash ‖ signature ‖ packet-type ‖ packet-data (devp2p discv4.md, "Wire
 * Protocol"). One backend call signs a whole packet; one checks an inbound packet's size and hash
 * and recovers its signer (and the signer's node id). Everything else is RLP, in messages.ts.
 *
 * decodePacket never throws on what the network sends: every refusal is a reason. It throws
 * Discv5Error only on misuse (a non-Uint8Array, a `now` that is not a number).
 */
import type { Crypto } from '../crypto/crypto.js';
import { assertBytes } from '../crypto/validate.js';
import { Enr } from '../enr/enr.js';
import { bytesEqual } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import {
  DATA_OFFSET,
  EXPIRATION_SECONDS,
  HASH_SIZE,
  MAX_EXPIRATION_AHEAD_SECONDS,
  MAX_PACKET_SIZE,
} from './constants.js';
import { decodeMessage, encodeMessage } from './messages.js';
import {
  type DecodedPacket,
  type DecodeFailure,
  type DecodeOptions,
  type Discv4DropReason,
  type Discv4Message,
  type EncodedPacket,
  PacketType,
} from './types.js';

/** The expiration to put in a packet made at `nowSeconds`: EXPIRATION_SECONDS later, whole seconds. */
export function expirationFrom(nowSeconds: number): number {
  return Math.floor(nowSeconds) + EXPIRATION_SECONDS;
}

/** The current UNIX time in seconds (fractional), as decodePacket compares expirations with it. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/**
 * A signed packet for `message`. Throws Discv5Error on misuse, including a message that does not
 * fit 1280 bytes (INVALID_LENGTH).
 */
export function encodePacket(crypto: Crypto, privateKey: Uint8Array, message: Discv4Message): EncodedPacket {
  const packet = crypto.discv4Pack(privateKey, message.type, encodeMessage(message));
  return { packet, hash: packet.subarray(0, HASH_SIZE) };
}

function fail(error: Discv4DropReason): DecodeFailure {
  return { error };
}

/**
 * Decodes and verifies a datagram at time `now` (UNIX seconds; pass nowSeconds() outside tests).
 * Refused, with a reason: a wrong size, hash or signature, an unknown type, malformed RLP or
 * fields, an expiration before `now` or more than `maxAheadSeconds` after it.
 */
export function decodePacket(
  crypto: Crypto,
  datagram: Uint8Array,
  now: number,
  options: DecodeOptions = {},
): DecodedPacket | DecodeFailure {
  assertBytes(datagram, 'packet');
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `now must be a finite number of seconds, got ${String(now)}`);
  }
  const maxAhead = options.maxAheadSeconds ?? MAX_EXPIRATION_AHEAD_SECONDS;
  if (typeof maxAhead !== 'number' || Number.isNaN(maxAhead) || maxAhead < 0) {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `maxAheadSeconds must be a number >= 0, got ${String(maxAhead)}`);
  }
  if (datagram.length < DATA_OFFSET) return fail('too-small');
  if (datagram.length > MAX_PACKET_SIZE) return fail('too-large');
  const unpacked = crypto.discv4Unpack(datagram);
  if (unpacked === null) {
    // Only on failure, a second look to tell traffic of another protocol from a bad signature.
    const hash = crypto.keccak256(datagram.subarray(HASH_SIZE));
    return fail(bytesEqual(hash, datagram.subarray(0, HASH_SIZE)) ? 'bad-signature' : 'bad-hash');
  }
  const message = decodeMessage(unpacked.type, unpacked.data);
  if (typeof message === 'string') return fail(message);
  if ('expiration' in message) {
    // As go-ethereum: expired once the expiration second lies before now.
    if (message.expiration < now) return fail('expired');
    if (message.expiration - now > maxAhead) return fail('future-expiration');
  }
  return { message, publicKey: unpacked.publicKey, nodeId: unpacked.nodeId, hash: unpacked.hash };
}

/**
 * The record of an ENRRESPONSE, if it is a valid record signed by the packet's own signer (as
 * discv4.md asks the recipient to check); null otherwise. Matching `requestHash` to the request
 * sent is the caller's part.
 */
export function recordOfResponse(crypto: Crypto, decoded: DecodedPacket): Enr | null {
  if (decoded.message.type !== PacketType.ENR_RESPONSE) return null;
  let enr: Enr;
  try {
    enr = Enr.decode(decoded.message.record, crypto);
  } catch (err) {
    if (err instanceof Discv5Error) return null;
    throw err;
  }
  return bytesEqual(enr.nodeId, decoded.nodeId) ? enr : null;
}
