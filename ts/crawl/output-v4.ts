/**
 * What a discv4 crawl writes of a node: its NDJSON object (its key, enode URL and endpoint, its
 * record and the record's fields once it answered ENRREQUEST, and the execution network its `eth`
 * fork id names), its nodes.json entry, and how the summary groups nodes (by execution network).
 *
 * nodes.json: go-ethereum's crawler (cmd/devp2p crawl.go) leaves out a node that never answered
 * ENRREQUEST; its file format holds such a node as an enode URL (enode.Node's text for a node made
 * by NewV4, which its loader parses back), and that is what is written here for a node without a
 * record, with seq 0: our crawls report every node found, and `--reseed` reads the URL as a seed.
 */
import type { V4Node } from '../discv4/node.js';
import { ethNetworkOf } from '../enr/eth-networks.js';
import { enrJson } from '../enr/json.js';
import { toHex } from '../util/bytes.js';
import type { CrawledNode } from './crawler.js';
import { type GethEntry, gethEntry, type SummaryGroups, visitJson } from './output.js';

/** The execution network and fork a discv4 node's record names, if its `eth` entry is a known fork id. */
export function ethOf(node: V4Node): Record<string, unknown> | null {
  const eth = node.record?.eth;
  if (eth === undefined) return null;
  const known = ethNetworkOf(eth.forkHash);
  return {
    forkHash: toHex(eth.forkHash),
    forkNext: eth.forkNext.toString(),
    network: known?.network ?? null,
    fork: known?.fork ?? null,
  };
}

/** One discv4 node: its key, enode URL and endpoint; its record decoded (`record`) once it gave one. */
export function v4NodeJson(node: CrawledNode<V4Node>): Record<string, unknown> {
  const n = node.enr;
  const record = n.record;
  return {
    protocol: 'v4',
    nodeId: n.nodeIdHex,
    publicKey: toHex(n.publicKey),
    enode: n.enode,
    ...(n.ip !== undefined ? { ip: n.ip } : { ip6: n.ip6 }),
    udp: n.udp,
    tcp: n.tcp,
    seq: n.seq.toString(),
    enr: record?.text ?? null,
    record: record === undefined ? null : enrJson(record),
    eth: ethOf(n),
    ...visitJson(node),
  };
}

/** Its nodes.json entry: the record, else the enode URL (seq 0). */
export function v4GethEntry(node: CrawledNode<V4Node>): [string, GethEntry] {
  const n = node.enr;
  return [n.nodeIdHex, gethEntry(node, n.record?.text ?? n.enode, n.seq)];
}

/** The summary's group of a discv4 node: `network fork`, `other` (an unknown fork hash), `no eth entry`, `no record`. */
export function executionGroup(node: V4Node): string {
  if (node.record === undefined) return 'no record';
  const eth = node.record.eth;
  if (eth === undefined) return 'no eth entry';
  const known = ethNetworkOf(eth.forkHash);
  return known === undefined ? `other:${toHex(eth.forkHash)}` : `${known.network} ${known.fork}`;
}

/** discv4 nodes in the summary: per execution network and fork, unknown fork hashes (other chains) summed. */
export const BY_EXECUTION_NETWORK: SummaryGroups<V4Node> = {
  name: 'execution network',
  of: (n) => executionGroup(n.enr),
  shown(counts) {
    const other = counts.filter(([g]) => g.startsWith('other:'));
    const rest = counts.filter(([g]) => !g.startsWith('other:'));
    if (other.length === 0) return rest;
    const total = other.reduce((s, [, n]) => s + n, 0);
    return [...rest, [`other (${other.length} fork hashes)`, total] as [string, number]].sort((a, b) => b[1] - a[1]);
  },
  extra: (reported) => {
    const answered = reported.filter((n) => n.answered);
    const records = answered.filter((n) => n.enr.record !== undefined).length;
    return [`records (ENRREQUEST): ${records} of ${answered.length} that answered`];
  },
};
