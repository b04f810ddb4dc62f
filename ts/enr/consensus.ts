/**
 * Typed ENR entries of the consensus layer (`eth2`, `attnets`, `syncnets`, `cgc`, `nfd`;
 * consensus-specs p2p-interface) and the execution layer (`eth`, EIP-2124 fork id), spec §10.5-10.6.
 * Decoders throw ENR_VALUE on a malformed value; encoders return what goes into the record.
 */
import { decodeUint, encodeUint, RlpError, decode as rlpDecode, encode as rlpEncode } from '../rlp/rlp.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { ATTNETS_SIZE, ETH2_SIZE, FORK_DIGEST_SIZE } from './constants.js';
import type { Eth2Value, EthForkId } from './types.js';

function bad(message: string): never {
  throw new Discv5Error(ErrorCode.ENR_VALUE, message);
}

function bytesOf(value: unknown, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) bad(`${name} must be ${length} bytes`);
  return value;
}

/** ENRForkID: fork_digest (4) ‖ next_fork_version (4) ‖ next_fork_epoch (uint64 little-endian). */
export function decodeEth2(value: Uint8Array): Eth2Value {
  if (value.length !== ETH2_SIZE) bad(`eth2 must be ${ETH2_SIZE} bytes, got ${value.length}`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return {
    forkDigest: value.slice(0, 4),
    nextForkVersion: value.slice(4, 8),
    nextForkEpoch: view.getBigUint64(8, true),
  };
}

export function encodeEth2(eth2: Eth2Value): Uint8Array {
  const out = new Uint8Array(ETH2_SIZE);
  out.set(bytesOf(eth2.forkDigest, FORK_DIGEST_SIZE, 'forkDigest'), 0);
  out.set(bytesOf(eth2.nextForkVersion, 4, 'nextForkVersion'), 4);
  if (
    typeof eth2.nextForkEpoch !== 'bigint' ||
    eth2.nextForkEpoch < 0n ||
    eth2.nextForkEpoch > 0xffff_ffff_ffff_ffffn
  ) {
    bad('nextForkEpoch must be a uint64 bigint');
  }
  new DataView(out.buffer).setBigUint64(8, eth2.nextForkEpoch, true);
  return out;
}

/** An SSZ Bitvector[size]: bit i is bit i % 8 of byte i / 8, least significant first. */
export class Bitvector {
  readonly bytes: Uint8Array;
  readonly size: number;

  constructor(bytes: Uint8Array, size: number) {
    if (bytes.length !== Math.ceil(size / 8))
      bad(`a Bitvector[${size}] is ${Math.ceil(size / 8)} bytes, got ${bytes.length}`);
    // SSZ: bits beyond `size` in the last byte must be zero.
    const spare = bytes.length * 8 - size;
    if (spare > 0 && (bytes[bytes.length - 1] as number) >> (8 - spare) !== 0)
      bad(`Bitvector[${size}] has bits set beyond its size`);
    this.bytes = bytes;
    this.size = size;
  }

  static fromIndices(indices: Iterable<number>, size: number): Bitvector {
    const bytes = new Uint8Array(Math.ceil(size / 8));
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= size) bad(`subnet ${i} is outside 0..${size - 1}`);
      bytes[i >> 3] = (bytes[i >> 3] as number) | (1 << (i & 7));
    }
    return new Bitvector(bytes, size);
  }

  get(i: number): boolean {
    return i >= 0 && i < this.size && (((this.bytes[i >> 3] as number) >> (i & 7)) & 1) === 1;
  }

  /** The indices of the set bits, ascending. */
  indices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.get(i)) out.push(i);
    return out;
  }
}

export const decodeAttnets = (value: Uint8Array): Bitvector => new Bitvector(value, ATTNETS_SIZE * 8);
export const decodeSyncnets = (value: Uint8Array): Bitvector => new Bitvector(value, 4);

/** cgc: custody group count, big-endian with no leading zeros; 0 is the empty string. */
export function decodeCgc(value: Uint8Array): number {
  const v = decodeUint(value, 8);
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER)) bad('cgc must be a minimal big-endian integer');
  return Number(v);
}

export function encodeCgc(count: number): Uint8Array {
  if (!Number.isSafeInteger(count) || count < 0) bad('cgc must be a non-negative integer');
  return encodeUint(count);
}

/** nfd: the 4-byte fork digest of the next scheduled fork. */
export function decodeNfd(value: Uint8Array): Uint8Array {
  return bytesOf(value, FORK_DIGEST_SIZE, 'nfd').slice();
}

/** `eth`: [[fork-hash, fork-next], ...]; only the first element counts and extra list items are ignored. */
export function decodeEth(raw: Uint8Array): EthForkId {
  let item: ReturnType<typeof rlpDecode>;
  try {
    item = rlpDecode(raw);
  } catch (err) {
    if (err instanceof RlpError) bad(`eth: ${err.message}`);
    throw err;
  }
  const first = Array.isArray(item) ? item[0] : undefined;
  if (!Array.isArray(first) || first.length < 2) bad('eth must be [[forkHash, forkNext], ...]');
  const [hash, next] = first;
  if (!(hash instanceof Uint8Array) || hash.length !== 4) bad('eth forkHash must be 4 bytes');
  const forkNext = next instanceof Uint8Array ? decodeUint(next, 8) : null;
  if (forkNext === null) bad('eth forkNext must be a minimal uint64');
  return { forkHash: hash.slice(), forkNext };
}

/** The RLP encoding of an `eth` value. */
export function encodeEth(fork: EthForkId): Uint8Array {
  if (typeof fork.forkNext !== 'bigint' || fork.forkNext < 0n || fork.forkNext > 0xffff_ffff_ffff_ffffn) {
    bad('forkNext must be a uint64 bigint');
  }
  return rlpEncode([[bytesOf(fork.forkHash, 4, 'forkHash'), encodeUint(fork.forkNext)]]);
}
