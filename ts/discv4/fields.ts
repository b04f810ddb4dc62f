/**
 * Field codecs shared by the discv4 messages: integers, fixed-size byte strings, endpoints and
 * node entries, read by RLP spans (views into the packet, no intermediate tree). A malformed
 * field throws FieldError, which messages.ts turns into a drop reason; encoding misuse throws
 * Discv5Error.
 */
import { assertBytes } from '../crypto/validate.js';
import { decodeSmallUint, decodeUint, encodeUint, listSpans, type RlpItem, type RlpSpan } from '../rlp/rlp.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { formatIPv4, formatIPv6, isMappedV4, parseIPv4, parseIPv6 } from '../util/ip.js';
import { NODE_KEY_SIZE } from './constants.js';
import type { Endpoint, NeighborNode } from './types.js';

/** A field of the wrong shape or size. */
export class FieldError extends Error {}

const MAX_UINT64 = (1n << 64n) - 1n;

/** The payload of a byte-string item. */
export function str(data: Uint8Array, span: RlpSpan | undefined): Uint8Array {
  if (span === undefined) throw new FieldError('missing field');
  if (span.isList) throw new FieldError('expected a byte string');
  return data.subarray(span.payload, span.end);
}

/** The items of a list item. */
export function list(data: Uint8Array, span: RlpSpan | undefined): RlpSpan[] {
  if (span === undefined) throw new FieldError('missing field');
  if (!span.isList) throw new FieldError('expected a list');
  return listSpans(data, span);
}

/** A copy of a byte string of exactly `size` bytes (kept beyond the datagram's life). */
export function fixed(data: Uint8Array, span: RlpSpan | undefined, size: number): Uint8Array {
  const b = str(data, span);
  if (b.length !== size) throw new FieldError(`expected ${size} bytes`);
  return b.slice();
}

/** A minimal unsigned integer of at most 8 bytes. */
export function uint64(data: Uint8Array, span: RlpSpan | undefined): bigint {
  const v = decodeUint(str(data, span), 8);
  if (v === null) throw new FieldError('expected a minimal integer of at most 8 bytes');
  return v;
}

/**
 * An expiration or version: a uint64 as a number. Above 2^53 the value is rounded, which no
 * comparison with a present-day clock can notice.
 */
export function uintNumber(data: Uint8Array, span: RlpSpan | undefined): number {
  return Number(uint64(data, span));
}

/** EIP-868's optional enr-seq: absent, or (lenient, see messages.ts) not an integer, reads as undefined. */
export function optionalSeq(data: Uint8Array, span: RlpSpan | undefined): bigint | undefined {
  if (span === undefined || span.isList) return undefined;
  return decodeUint(data.subarray(span.payload, span.end), 8) ?? undefined;
}

function port(data: Uint8Array, span: RlpSpan | undefined): number {
  const v = decodeSmallUint(str(data, span), 2);
  if (v === null) throw new FieldError('expected a port');
  return v;
}

function ipText(raw: Uint8Array): string | null {
  if (raw.length === 4) return formatIPv4(raw);
  if (raw.length === 16) return isMappedV4(raw) ? formatIPv4(raw.subarray(12)) : formatIPv6(raw);
  return null;
}

/** [ip, udp, tcp, ...]: ports strict, an IP other than 4 or 16 bytes read as null. */
export function endpoint(data: Uint8Array, span: RlpSpan | undefined): Endpoint {
  const [ip, udp, tcp] = list(data, span);
  return { ip: ipText(str(data, ip)), udp: port(data, udp), tcp: port(data, tcp) };
}

/** [ip, udp, tcp, node-key, ...]: all strict. */
export function neighborNode(data: Uint8Array, span: RlpSpan): NeighborNode {
  const [ipSpan, udp, tcp, key] = list(data, span);
  const ip = ipText(str(data, ipSpan));
  if (ip === null) throw new FieldError('a neighbor ip must be 4 or 16 bytes');
  return { ip, udp: port(data, udp), tcp: port(data, tcp), publicKey: fixed(data, key, NODE_KEY_SIZE) };
}

// Encoding: the caller's values, checked (misuse throws Discv5Error).

function invalid(message: string): never {
  throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, message);
}

export function encodeNumber(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
  return encodeUint(value);
}

export function encodeSeq(value: unknown): Uint8Array {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) invalid('enrSeq must be a bigint in 0..2^64-1');
  return encodeUint(value);
}

function encodePort(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff) {
    invalid(`${name} must be an integer 0-65535, got ${String(value)}`);
  }
  return encodeUint(value);
}

function encodeIp(ip: unknown): Uint8Array {
  const b = typeof ip === 'string' ? (parseIPv4(ip) ?? parseIPv6(ip)) : null;
  if (b === null) invalid(`not an IP address: ${String(ip)}`);
  return b;
}

export function encodeEndpoint(e: Endpoint, name: string): RlpItem {
  if (typeof e !== 'object' || e === null) invalid(`${name} must be an endpoint`);
  const ip = e.ip === null ? new Uint8Array(0) : encodeIp(e.ip);
  return [ip, encodePort(e.udp, `${name}.udp`), encodePort(e.tcp, `${name}.tcp`)];
}

export function encodeNeighborNode(n: NeighborNode): RlpItem {
  if (typeof n !== 'object' || n === null) invalid('a neighbor must be an object');
  assertBytes(n.publicKey, 'neighbor public key', NODE_KEY_SIZE);
  return [encodeIp(n.ip), encodePort(n.udp, 'neighbor udp'), encodePort(n.tcp, 'neighbor tcp'), n.publicKey];
}
