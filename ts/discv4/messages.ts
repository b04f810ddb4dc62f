/**
 * discv4 packet-data codecs: RLP lists, one shape per packet type (devp2p discv4.md, EIP-868).
 *
 * Decoding is strict where a wrong value would be acted on: node keys and targets are 64 bytes,
 * hashes 32, NEIGHBORS entries carry a 4- or 16-byte IP, ports and integers are minimal (as RLP
 * requires; at most 2 and 8 bytes). It is lenient as EIP-8 asks: extra list elements are ignored
 * (in nested lists too), so is any data after the list, and PING's version is not checked. Two
 * further leniencies, where go-ethereum is stricter:
 * - PING's and PONG's endpoints only inform, so an IP of another size reads as null;
 * - an enr-seq slot that does not hold a uint64 reads as absent: EIP-8's test packets predate
 *   EIP-868 and carry arbitrary extra elements (lists among them) where enr-seq now sits.
 * Decoding never throws on network data; encoding throws Discv5Error on misuse.
 */
import { assertBytes } from '../crypto/validate.js';
import { listHeader, RlpError, type RlpItem, type RlpSpan, readSpan, encode as rlpEncode } from '../rlp/rlp.js';
import { concatBytes } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { HASH_SIZE, MAX_RECORD_SIZE, NODE_KEY_SIZE } from './constants.js';
import {
  encodeEndpoint,
  encodeNeighborNode,
  encodeNumber,
  encodeSeq,
  endpoint,
  FieldError,
  fixed,
  list,
  neighborNode,
  optionalSeq,
  uintNumber,
} from './fields.js';
import { type Discv4Message, type MessageDropReason, PacketType, type PingMessage, type PongMessage } from './types.js';

/** Is `type` one of the six packet types? */
export function isKnownType(type: number): type is PacketType {
  return Number.isInteger(type) && type >= PacketType.PING && type <= PacketType.ENR_RESPONSE;
}

function decodeFields(type: PacketType, data: Uint8Array, items: RlpSpan[]): Discv4Message {
  switch (type) {
    case PacketType.PING: {
      const [version, from, to, expiration, seq] = items;
      const m: PingMessage = {
        type,
        version: uintNumber(data, version),
        from: endpoint(data, from),
        to: endpoint(data, to),
        expiration: uintNumber(data, expiration),
      };
      const enrSeq = optionalSeq(data, seq);
      if (enrSeq !== undefined) m.enrSeq = enrSeq;
      return m;
    }
    case PacketType.PONG: {
      const [to, pingHash, expiration, seq] = items;
      const m: PongMessage = {
        type,
        to: endpoint(data, to),
        pingHash: fixed(data, pingHash, HASH_SIZE),
        expiration: uintNumber(data, expiration),
      };
      const enrSeq = optionalSeq(data, seq);
      if (enrSeq !== undefined) m.enrSeq = enrSeq;
      return m;
    }
    case PacketType.FINDNODE: {
      const [target, expiration] = items;
      return { type, target: fixed(data, target, NODE_KEY_SIZE), expiration: uintNumber(data, expiration) };
    }
    case PacketType.NEIGHBORS: {
      const [nodes, expiration] = items;
      const entries = list(data, nodes).map((span) => neighborNode(data, span));
      return { type, nodes: entries, expiration: uintNumber(data, expiration) };
    }
    case PacketType.ENR_REQUEST:
      return { type, expiration: uintNumber(data, items[0]) };
    case PacketType.ENR_RESPONSE: {
      const [requestHash, record] = items;
      const requestHashBytes = fixed(data, requestHash, HASH_SIZE);
      if (record === undefined || !record.isList) throw new FieldError('the record must be a list');
      if (record.end - record.start > MAX_RECORD_SIZE) throw new FieldError('the record is over 300 bytes');
      return { type, requestHash: requestHashBytes, record: data.slice(record.start, record.end) };
    }
  }
}

/**
 * Decodes packet-data of a given packet-type: the first RLP item must be a list (what follows it
 * is ignored). A malformed one comes back as a drop reason, never an exception.
 */
export function decodeMessage(type: number, data: Uint8Array): Discv4Message | MessageDropReason {
  if (!isKnownType(type)) return 'unknown-type';
  try {
    const top = readSpan(data, 0);
    if (!top.isList) return 'bad-rlp';
    return decodeFields(type, data, list(data, top));
  } catch (err) {
    if (err instanceof RlpError) return 'bad-rlp';
    if (err instanceof FieldError) return 'bad-field';
    throw err;
  }
}

function invalid(message: string): never {
  throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, message);
}

/** A record to send in ENRRESPONSE: one canonical RLP list of at most 300 bytes. */
function checkRecord(record: unknown): Uint8Array {
  assertBytes(record, 'record');
  let span: RlpSpan;
  try {
    span = readSpan(record, 0);
  } catch {
    throw new Discv5Error(ErrorCode.ENR_RLP, 'record is not canonical RLP');
  }
  if (!span.isList || span.end !== record.length) {
    throw new Discv5Error(ErrorCode.ENR_RLP, 'record must be exactly one RLP list');
  }
  if (record.length > MAX_RECORD_SIZE) {
    throw new Discv5Error(ErrorCode.ENR_TOO_LARGE, `record is ${record.length} bytes, over ${MAX_RECORD_SIZE}`);
  }
  return record;
}

function withSeq(fields: RlpItem[], enrSeq: unknown): RlpItem[] {
  if (enrSeq !== undefined) fields.push(encodeSeq(enrSeq));
  return fields;
}

/** packet-data of a message (its packet-type is `message.type`). Throws Discv5Error on misuse. */
export function encodeMessage(message: Discv4Message): Uint8Array {
  if (typeof message !== 'object' || message === null) invalid('message must be an object');
  switch (message.type) {
    case PacketType.PING:
      return rlpEncode(
        withSeq(
          [
            encodeNumber(message.version, 'version'),
            encodeEndpoint(message.from, 'from'),
            encodeEndpoint(message.to, 'to'),
            encodeNumber(message.expiration, 'expiration'),
          ],
          message.enrSeq,
        ),
      );
    case PacketType.PONG:
      assertBytes(message.pingHash, 'ping hash', HASH_SIZE);
      return rlpEncode(
        withSeq(
          [encodeEndpoint(message.to, 'to'), message.pingHash, encodeNumber(message.expiration, 'expiration')],
          message.enrSeq,
        ),
      );
    case PacketType.FINDNODE:
      assertBytes(message.target, 'target', NODE_KEY_SIZE);
      return rlpEncode([message.target, encodeNumber(message.expiration, 'expiration')]);
    case PacketType.NEIGHBORS:
      if (!Array.isArray(message.nodes)) invalid('nodes must be an array');
      return rlpEncode([message.nodes.map(encodeNeighborNode), encodeNumber(message.expiration, 'expiration')]);
    case PacketType.ENR_REQUEST:
      return rlpEncode([encodeNumber(message.expiration, 'expiration')]);
    case PacketType.ENR_RESPONSE: {
      assertBytes(message.requestHash, 'request hash', HASH_SIZE);
      // The record is already RLP: spliced in as the list it is, not wrapped as a byte string.
      const hash = rlpEncode(message.requestHash);
      const record = checkRecord(message.record);
      return concatBytes(listHeader(hash.length + record.length), hash, record);
    }
    default:
      return invalid(`unknown packet type ${String((message as { type: unknown }).type)}`);
  }
}
