/**
 * Discovery v4 in a testnet (`discv5 testnet --discv4`): every node serves discv4 beside discv5 on
 * the same socket and key, as go-ethereum and reth do, so the fault links (faults.ts) act on both.
 * Prefilled, the v4 tables hold the same members as the v5 ones (the same buckets of the same ids:
 * a v4 node id is keccak256 of the same key), each as one `V4Node` made from its record and shared
 * by every table that holds it; a member's `enode://` URL is the one those tables serve.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { Discv4Options } from '../discv4/config.js';
import { V4Node } from '../discv4/node.js';
import type { Enr } from '../enr/enr.js';
import type { Discv5 } from '../service/discv5.js';

/** A member's discv4 settings: the protocol's own (its bonding as go-ethereum's). */
export const TESTNET_DISCV4: Readonly<Discv4Options> = Object.freeze({});

/** The v4 node a member's record describes (its UDP endpoint, and its TCP port: the same number in a testnet). */
export function v4NodeOf(crypto: Crypto, enr: Enr): V4Node {
  const node = V4Node.fromEnr(crypto, enr);
  if (node === undefined) throw new Error(`testnet record ${enr.nodeIdHex} names no UDP endpoint`);
  return node;
}

/** Lazily made `V4Node`s of the members' records, one per member, shared by all the tables that hold it. */
export function v4Nodes(crypto: Crypto, records: readonly Enr[]): (index: number) => V4Node {
  const made = new Map<number, V4Node>();
  return (index) => {
    let node = made.get(index);
    if (node === undefined) {
      node = v4NodeOf(crypto, records[index] as Enr);
      made.set(index, node);
    }
    return node;
  };
}

/** Fills `node`'s v4 table with the members at `indices` (as its v5 table); returns how many took a place. */
export function prefillV4(node: Discv5, indices: readonly number[], nodeAt: (index: number) => V4Node): number {
  const v4 = node.discv4;
  if (v4 === undefined) return 0;
  return v4.prefillTable(indices.map(nodeAt));
}

/** A node's 64-byte public key, the target of its v4 self-lookup. */
export function ownKey(node: Discv5): Uint8Array | undefined {
  const key = node.localEnr.publicKey;
  return key === undefined ? undefined : (node.crypto.decompressPublicKey(key)?.subarray(1) ?? undefined);
}
