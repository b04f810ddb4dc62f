/**
 * A record's columns in the crawl database: its addresses and the consensus and execution layer
 * entries decoded (a malformed entry gives NULL, never an error: records are hostile input), and
 * the networks its fork digest and its eth fork hash name, where known. A discv4 node's row is its
 * record's (when it answered ENRREQUEST) with its enode URL, else the endpoint discv4 knows, with
 * the enode URL as its record and seq 0 (as go-ethereum's nodes.json writes such a node).
 */
import { V4Node } from '../discv4/node.js';
import { clientOf } from '../enr/client.js';
import type { Enr } from '../enr/enr.js';
import { ethNetworkOf } from '../enr/eth-networks.js';
import { networkOfForkDigest } from '../enr/networks.js';
import type { NodeField, NodeRow } from '../store/crawl-db.js';
import { NODE_FIELDS as NODE_FIELD_NAMES } from '../store/crawl-schema.js';
import type { SqlValue } from '../store/sqlite.js';
import { toHex } from '../util/bytes.js';

/** The largest seq a BIGINT column holds; a record's larger seq is saturated there (its text keeps the exact one). */
const MAX_BIGINT = (1n << 63n) - 1n;

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function popcount(bytes: Uint8Array): number {
  let n = 0;
  for (let b of bytes) {
    for (; b !== 0; b &= b - 1) n++;
  }
  return n;
}

/** The decoded columns of `enr`. */
export function recordFields(enr: Enr): Record<NodeField, SqlValue> {
  const eth2 = enr.eth2;
  const attnets = enr.attnets;
  const syncnets = enr.syncnets;
  const nfd = enr.nfd;
  const eth = enr.eth;
  const known = eth2 === undefined ? undefined : networkOfForkDigest(eth2.forkDigest);
  const execution = eth === undefined ? undefined : ethNetworkOf(eth.forkHash);
  return {
    seq: seqColumn(enr.seq),
    record: enr.text,
    ip: orNull(enr.ip),
    udp: orNull(enr.udp),
    tcp: orNull(enr.tcp),
    quic: orNull(enr.quic),
    ip6: orNull(enr.ip6),
    udp6: orNull(enr.udp6),
    tcp6: orNull(enr.tcp6),
    quic6: orNull(enr.quic6),
    fork_digest: eth2 === undefined ? null : toHex(eth2.forkDigest),
    next_fork_version: eth2 === undefined ? null : toHex(eth2.nextForkVersion),
    next_fork_epoch: eth2 === undefined ? null : eth2.nextForkEpoch.toString(),
    attnets: attnets === undefined ? null : toHex(attnets.bytes),
    attnets_count: attnets === undefined ? null : popcount(attnets.bytes),
    syncnets: syncnets === undefined ? null : toHex(syncnets.bytes),
    syncnets_count: syncnets === undefined ? null : popcount(syncnets.bytes),
    cgc: orNull(enr.cgc),
    nfd: nfd === undefined ? null : toHex(nfd),
    eth_fork_hash: eth === undefined ? null : toHex(eth.forkHash),
    eth_fork_next: eth === undefined ? null : eth.forkNext.toString(),
    client: orNull(clientOf(enr)),
    network: known === undefined ? null : known.network,
    eth_network: execution === undefined ? null : execution.network,
    eth_fork: execution === undefined ? null : execution.fork,
    enode: null,
  };
}

/** The columns of a discv4 node: its record's with its enode URL, or without a record its endpoint. */
export function v4Fields(node: V4Node): Record<NodeField, SqlValue> {
  const enode = node.enode;
  if (node.record !== undefined) return { ...recordFields(node.record), enode };
  const fields = Object.fromEntries(NODE_FIELD_NAMES.map((f) => [f, null])) as Record<NodeField, SqlValue>;
  const v4 = node.ip !== undefined;
  return {
    ...fields,
    seq: 0,
    record: enode,
    [v4 ? 'ip' : 'ip6']: node.address,
    [v4 ? 'udp' : 'udp6']: node.udp,
    [v4 ? 'tcp' : 'tcp6']: node.tcp === 0 ? null : node.tcp,
    enode,
  };
}

/** A node row for the crawl database: a record (discv5) or a discv4 node as seen at `seen` (ms since the epoch). */
export function nodeRow(node: Enr | V4Node, seen: number): NodeRow {
  return { nodeId: node.nodeIdHex, seen, fields: isV4(node) ? v4Fields(node) : recordFields(node) };
}

/** Whether a crawled record is a discv4 node. */
export const isV4 = (node: Enr | V4Node): node is V4Node => node instanceof V4Node;

/** The `seq` column's value of a record: a BIGINT, saturated at 2^63 - 1. */
export function seqColumn(seq: bigint): number | bigint {
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : seq > MAX_BIGINT ? MAX_BIGINT : seq;
}
