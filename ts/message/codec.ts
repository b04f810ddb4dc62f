/**
 * Message plaintexts: message-type (1 byte) ‖ rlp([request-id, ...]). Decoding is strict about
 * what matters (request ids of at most 8 bytes, minimal integers, field shapes) and ignores extra
 * trailing list elements, so that later protocol versions can add fields.
 */
import {
  decodeSmallUint,
  decodeUint,
  encodeUint,
  listHeader,
  listSpans,
  RlpError,
  type RlpItem,
  type RlpSpan,
  readSpan,
  decode as rlpDecode,
  encode as rlpEncode,
} from '../rlp/rlp.js';
import { formatIPv4, formatIPv6, isMappedV4, parseIPv4, parseIPv6 } from '../util/ip.js';
import { MAX_REQUEST_ID_SIZE, type Message, type MessageDropReason, MessageType } from './types.js';

class FieldError extends Error {}

function bytes(item: RlpItem | undefined): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new FieldError('expected bytes');
  return item;
}

function uint(item: RlpItem | undefined, maxBytes: number): bigint {
  const v = decodeUint(bytes(item), maxBytes);
  if (v === null) throw new FieldError('expected a minimal integer');
  return v;
}

function small(item: RlpItem | undefined, maxBytes: number): number {
  const v = decodeSmallUint(bytes(item), maxBytes);
  if (v === null) throw new FieldError('expected a minimal integer');
  return v;
}

function ipText(raw: Uint8Array): string {
  if (raw.length === 4) return formatIPv4(raw);
  // An IPv4-mapped address is the IPv4 address (a PONG's report must not file it as IPv6 text).
  if (raw.length === 16) return isMappedV4(raw) ? formatIPv4(raw.subarray(12)) : formatIPv6(raw);
  throw new FieldError('ip must be 4 or 16 bytes');
}

function ipBytes(ip: string): Uint8Array {
  const b = parseIPv4(ip) ?? parseIPv6(ip);
  if (b === null) throw new TypeError(`not an IP address: ${ip}`);
  return b;
}

export function encodeMessage(m: Message): Uint8Array {
  let body: RlpItem[];
  switch (m.type) {
    case MessageType.PING:
      body = [m.requestId, encodeUint(m.enrSeq)];
      break;
    case MessageType.PONG:
      body = [m.requestId, encodeUint(m.enrSeq), ipBytes(m.ip), encodeUint(m.port)];
      break;
    case MessageType.FINDNODE:
      body = [m.requestId, m.distances.map((d) => encodeUint(d))];
      break;
    case MessageType.NODES: {
      // Records are already RLP: spliced in as they are, not encoded again as strings.
      const head = rlpEncode([m.requestId, encodeUint(m.total)]);
      return spliceNodes(m.type, head, m.enrs);
    }
    case MessageType.TALKREQ:
      body = [m.requestId, m.protocol, m.request];
      break;
    case MessageType.TALKRESP:
      body = [m.requestId, m.response];
      break;
  }
  const rlp = rlpEncode(body);
  const out = new Uint8Array(1 + rlp.length);
  out[0] = m.type;
  out.set(rlp, 1);
  return out;
}

/** type ‖ [request-id, total, [enr, ...]] where each enr is raw RLP (a list). */
function spliceNodes(type: number, headList: Uint8Array, enrs: Uint8Array[]): Uint8Array {
  // headList is rlp([id, total]); take its payload back out to build the outer list by hand.
  const headPayloadStart = (headList[0] as number) <= 0xf7 ? 1 : 1 + ((headList[0] as number) - 0xf7);
  const headPayload = headList.subarray(headPayloadStart);
  const enrsLength = enrs.reduce((n, e) => n + e.length, 0);
  const enrsHeader = listHeader(enrsLength);
  const outerLength = headPayload.length + enrsHeader.length + enrsLength;
  const outerHeader = listHeader(outerLength);
  const out = new Uint8Array(1 + outerHeader.length + outerLength);
  let at = 0;
  out[at++] = type;
  out.set(outerHeader, at);
  at += outerHeader.length;
  out.set(headPayload, at);
  at += headPayload.length;
  out.set(enrsHeader, at);
  at += enrsHeader.length;
  for (const e of enrs) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}

/**
 * NODES, the message a crawl receives most: read by spans, so that each record comes out as a copy
 * of its own bytes (for the strict ENR decoder to check) without decoding and encoding it again.
 */
function decodeNodes(body: Uint8Array): Message | MessageDropReason {
  let items: RlpSpan[];
  try {
    const top = readSpan(body, 0);
    if (top.end !== body.length || !top.isList) return 'bad-message-rlp';
    items = listSpans(body, top);
  } catch {
    return 'bad-message-rlp';
  }
  const [id, totalSpan, recordsSpan] = items;
  if (id === undefined) return 'bad-message-rlp';
  if (id.isList) return 'bad-request-id';
  const requestId = body.subarray(id.payload, id.end);
  if (requestId.length > MAX_REQUEST_ID_SIZE) return 'bad-request-id';
  try {
    if (totalSpan === undefined || totalSpan.isList) throw new FieldError('total must be an integer');
    const total = small(body.subarray(totalSpan.payload, totalSpan.end), 4);
    if (recordsSpan === undefined || !recordsSpan.isList) throw new FieldError('records must be a list');
    const enrs = listSpans(body, recordsSpan).map((r) => {
      if (!r.isList) throw new FieldError('a record is a list');
      return body.slice(r.start, r.end);
    });
    return { type: MessageType.NODES, requestId, total, enrs };
  } catch (err) {
    if (err instanceof FieldError) return 'bad-message-field';
    if (err instanceof RlpError) return 'bad-message-rlp';
    throw err;
  }
}

/** Decodes a plaintext; a malformed one is a drop reason, never an exception. */
export function decodeMessage(plaintext: Uint8Array): Message | MessageDropReason {
  if (plaintext.length < 2) return 'bad-message-rlp';
  const type = plaintext[0] as number;
  if (type < MessageType.PING || type > MessageType.TALKRESP) return 'unknown-message-type';
  if (type === MessageType.NODES) return decodeNodes(plaintext.subarray(1));
  let list: RlpItem;
  try {
    list = rlpDecode(plaintext.subarray(1));
  } catch {
    return 'bad-message-rlp';
  }
  if (!Array.isArray(list) || list.length < 1) return 'bad-message-rlp';
  const requestId = list[0];
  if (!(requestId instanceof Uint8Array) || requestId.length > MAX_REQUEST_ID_SIZE) return 'bad-request-id';
  try {
    switch (type) {
      case MessageType.PING:
        return { type, requestId, enrSeq: uint(list[1], 8) };
      case MessageType.PONG: {
        const port = small(list[3], 2);
        return { type, requestId, enrSeq: uint(list[1], 8), ip: ipText(bytes(list[2])), port };
      }
      case MessageType.FINDNODE: {
        const ds = list[1];
        if (!Array.isArray(ds)) throw new FieldError('distances must be a list');
        // Distances over 256 name no bucket: they are skipped and the rest answered (as geth does),
        // not a reason to drop the request. Non-minimal integers and non-bytes are still malformed.
        const distances: number[] = [];
        for (const d of ds) {
          const raw = bytes(d);
          if (raw.length > 0 && raw[0] === 0) throw new FieldError('expected a minimal integer');
          if (raw.length > 2) continue;
          const v = small(raw, 2);
          if (v <= 256) distances.push(v);
        }
        return { type, requestId, distances };
      }
      case MessageType.TALKREQ:
        return { type, requestId, protocol: bytes(list[1]), request: bytes(list[2]) };
      default:
        return { type: MessageType.TALKRESP, requestId, response: bytes(list[1]) };
    }
  } catch (err) {
    if (err instanceof FieldError) return 'bad-message-field';
    throw err;
  }
}
