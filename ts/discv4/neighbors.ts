/**
 * NEIGHBORS answers: how many nodes fit one 1280-byte packet, and an answer of more (FINDNODE
 * asks for the 16 closest) split over several packets, as go-ethereum sends them.
 */
import type { Crypto } from '../crypto/crypto.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import { DATA_OFFSET, NEIGHBORS_MAX_NODES, NODE_KEY_SIZE } from './constants.js';
import { encodePacket } from './packet.js';
import { type EncodedPacket, type NeighborNode, PacketType } from './types.js';

/** Bytes an RLP string (longer than one byte) or list takes for a payload of `n` bytes. */
function rlpSize(n: number): number {
  if (n <= 55) return 1 + n;
  let lengthBytes = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) lengthBytes++;
  return 1 + lengthBytes + n;
}

/** The largest entry: [16-byte IP, two 2-byte ports, 64-byte key]. */
export const MAX_NEIGHBOR_ENTRY_SIZE = rlpSize(rlpSize(16) + 2 * rlpSize(2) + rlpSize(NODE_KEY_SIZE));

/** The size of a NEIGHBORS packet of `n` largest entries and an 8-byte expiration: its worst case. */
export function maxNeighborsPacketSize(n: number): number {
  return DATA_OFFSET + rlpSize(rlpSize(n * MAX_NEIGHBOR_ENTRY_SIZE) + rlpSize(8));
}

/** Nodes in groups of at most `max` (default NEIGHBORS_MAX_NODES), order kept. */
export function splitNeighbors<T>(nodes: readonly T[], max: number = NEIGHBORS_MAX_NODES): T[][] {
  if (!Number.isInteger(max) || max < 1) {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `max must be a positive integer, got ${max}`);
  }
  const out: T[][] = [];
  for (let i = 0; i < nodes.length; i += max) out.push(nodes.slice(i, i + max));
  return out;
}

/**
 * The NEIGHBORS packets of one answer: NEIGHBORS_MAX_NODES nodes each, and one empty packet when
 * there are no nodes at all (so that the asker hears an answer), as go-ethereum does.
 */
export function encodeNeighbors(
  crypto: Crypto,
  privateKey: Uint8Array,
  nodes: readonly NeighborNode[],
  expiration: number,
): EncodedPacket[] {
  const groups = nodes.length === 0 ? [[]] : splitNeighbors(nodes);
  return groups.map((group) =>
    encodePacket(crypto, privateKey, { type: PacketType.NEIGHBORS, nodes: group, expiration }),
  );
}
