/**
 * Building and signing "v4" records: entries in, canonical RLP out (keys sorted, integers
 * minimal, `id` and `secp256k1` filled in), signed with the selected backend, at most 300 bytes.
 */
import type { Crypto } from '../crypto/crypto.js';
import { encodeUint, listHeader, encode as rlpEncode } from '../rlp/rlp.js';
import { concatBytes } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { parseIPv4, parseIPv6 } from '../util/ip.js';
import { Bitvector, encodeCgc, encodeEth, encodeEth2 } from './consensus.js';
import { ID_SCHEME_V4, MAX_RECORD_SIZE, MAX_SEQ, PORT_KEYS, type PortKey } from './constants.js';
import { parseRecord } from './decode.js';
import type { EnrParts, Eth2Value, EthForkId } from './types.js';

/** What a record can be made of. `null` (in an update) removes the key. */
export interface EnrEntries {
  ip?: string | Uint8Array | null;
  ip6?: string | Uint8Array | null;
  tcp?: number | null;
  udp?: number | null;
  tcp6?: number | null;
  udp6?: number | null;
  quic?: number | null;
  quic6?: number | null;
  eth2?: Eth2Value | null;
  /** Attestation subnets: a Bitvector[64] or the subnet numbers. */
  attnets?: Bitvector | readonly number[] | null;
  /** Sync-committee subnets: a Bitvector[4] or the subnet numbers. */
  syncnets?: Bitvector | readonly number[] | null;
  cgc?: number | null;
  nfd?: Uint8Array | null;
  eth?: EthForkId | null;
  /** The client entry (EIP-7636): [name, version, build?], printable ASCII. */
  client?: { name: string; version: string; build?: string } | null;
  /** Any other key with a byte-string value (raw bytes, as they go in the record). */
  other?: Readonly<Record<string, Uint8Array | null>>;
}

const encoder = new TextEncoder();
const RESERVED = new Set(['id', 'secp256k1']);

function bad(message: string): never {
  throw new Discv5Error(ErrorCode.ENR_VALUE, message);
}

function ipBytes(value: string | Uint8Array, family: 4 | 6): Uint8Array {
  const size = family === 4 ? 4 : 16;
  if (value instanceof Uint8Array) {
    if (value.length !== size) bad(`ip${family === 6 ? '6' : ''} must be ${size} bytes`);
    return value;
  }
  const parsed = family === 4 ? parseIPv4(value) : parseIPv6(value);
  if (parsed === null) bad(`not an IPv${family} address: ${value}`);
  return parsed;
}

function port(value: number, key: PortKey): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 65535) bad(`${key} must be a port number 0..65535`);
  return encodeUint(value);
}

function bitvector(value: Bitvector | readonly number[], size: number, key: string): Uint8Array {
  const bv = value instanceof Bitvector ? value : Bitvector.fromIndices(value, size);
  if (bv.size !== size) bad(`${key} is a Bitvector[${size}]`);
  return bv.bytes;
}

/** The RLP encoding of each entry to set (null for each to remove). */
export function encodeEntries(entries: EnrEntries): Map<string, Uint8Array | null> {
  const out = new Map<string, Uint8Array | null>();
  const str = (key: string, bytes: Uint8Array | null) => out.set(key, bytes === null ? null : rlpEncode(bytes));
  if (entries.ip !== undefined) str('ip', entries.ip === null ? null : ipBytes(entries.ip, 4));
  if (entries.ip6 !== undefined) str('ip6', entries.ip6 === null ? null : ipBytes(entries.ip6, 6));
  for (const k of PORT_KEYS) {
    const v = entries[k];
    if (v !== undefined) str(k, v === null ? null : port(v, k));
  }
  if (entries.eth2 !== undefined) str('eth2', entries.eth2 === null ? null : encodeEth2(entries.eth2));
  if (entries.attnets !== undefined)
    str('attnets', entries.attnets === null ? null : bitvector(entries.attnets, 64, 'attnets'));
  if (entries.syncnets !== undefined) {
    str('syncnets', entries.syncnets === null ? null : bitvector(entries.syncnets, 4, 'syncnets'));
  }
  if (entries.cgc !== undefined) str('cgc', entries.cgc === null ? null : encodeCgc(entries.cgc));
  if (entries.nfd !== undefined) {
    if (entries.nfd !== null && (!(entries.nfd instanceof Uint8Array) || entries.nfd.length !== 4))
      bad('nfd must be 4 bytes');
    str('nfd', entries.nfd);
  }
  if (entries.eth !== undefined) out.set('eth', entries.eth === null ? null : encodeEth(entries.eth));
  if (entries.client !== undefined) out.set('client', entries.client === null ? null : encodeClient(entries.client));
  for (const [key, value] of Object.entries(entries.other ?? {})) {
    if (RESERVED.has(key) || out.has(key)) bad(`"${key}" cannot be set through other`);
    if (value !== null && !(value instanceof Uint8Array)) bad(`value of "${key}" must be a Uint8Array`);
    str(key, value);
  }
  return out;
}

function encodeClient(client: { name: string; version: string; build?: string }): Uint8Array {
  const parts = [client.name, client.version, ...(client.build === undefined ? [] : [client.build])];
  for (const p of parts) {
    if (typeof p !== 'string' || p === '' || p.length > 64 || !/^[\x20-\x7e]+$/.test(p))
      bad('client name, version and build must be 1..64 printable ASCII characters');
  }
  return rlpEncode(parts.map((p) => encoder.encode(p)));
}

function keyBytes(key: string): Uint8Array {
  // Keys travel as latin1 strings (see EnrPair); ASCII keys are the same in UTF-8.
  return Uint8Array.from(key, (c) => c.charCodeAt(0) & 0xff);
}

/** Signs [seq, k1, v1, ...] built from raw (RLP-encoded) values; `id` and `secp256k1` are added here. */
export function signRecord(
  crypto: Crypto,
  privateKey: Uint8Array,
  seq: bigint,
  raw: Map<string, Uint8Array>,
): EnrParts {
  if (typeof seq !== 'bigint' || seq < 0n || seq > MAX_SEQ) bad('seq must be a uint64 bigint');
  const all = new Map(raw);
  all.set('id', rlpEncode(encoder.encode(ID_SCHEME_V4)));
  all.set('secp256k1', rlpEncode(crypto.publicKeyFromPrivate(privateKey)));
  const keys = [...all.keys()].map((k) => ({ k, bytes: keyBytes(k) })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const parts: Uint8Array[] = [rlpEncode(encodeUint(seq))];
  for (const { k, bytes } of keys) parts.push(rlpEncode(bytes), all.get(k) as Uint8Array);
  const payload = concatBytes(...parts);
  const content = concatBytes(listHeader(payload.length), payload);
  const sigItem = rlpEncode(crypto.enrSign(privateKey, content));
  const encoded = concatBytes(listHeader(sigItem.length + payload.length), sigItem, payload);
  if (encoded.length > MAX_RECORD_SIZE) {
    throw new Discv5Error(ErrorCode.ENR_TOO_LARGE, `record would be ${encoded.length} bytes, over ${MAX_RECORD_SIZE}`);
  }
  return parseRecord(encoded);
}
