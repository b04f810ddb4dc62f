/**
 * A record's columns in the crawl database: its addresses and the consensus and execution layer
 * entries decoded (a malformed entry gives NULL, never an error: records are hostile input), and
 * the network its fork digest names, where known.
 */
import { clientOf } from '../enr/client.js';
import type { Enr } from '../enr/enr.js';
import { networkOfForkDigest } from '../enr/networks.js';
import type { NodeField, NodeRow } from '../store/crawl-db.js';
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
  };
}

/** A node row for the crawl database: `enr` as seen at `seen` (ms since the epoch). */
export function nodeRow(enr: Enr, seen: number): NodeRow {
  return { nodeId: enr.nodeIdHex, seen, fields: recordFields(enr) };
}

/** The `seq` column's value of a record: a BIGINT, saturated at 2^63 - 1. */
export function seqColumn(seq: bigint): number | bigint {
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : seq > MAX_BIGINT ? MAX_BIGINT : seq;
}
