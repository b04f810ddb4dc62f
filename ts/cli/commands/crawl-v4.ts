/**
 * `discv5 crawl --discv4` and `--protocols v4,v5`: which protocols a crawl walks, its discv4 seeds
 * (`enode://` URLs, and the UDP endpoints of `enr:` records), and its discv4 job: the shared
 * crawler over each identity's discv4 side (ts/crawl/discv4-asker.ts).
 */
import { discv4Asker, TargetKeys } from '../../crawl/discv4-asker.js';
import { summaryText } from '../../crawl/output.js';
import { BY_EXECUTION_NETWORK, v4GethEntry, v4NodeJson } from '../../crawl/output-v4.js';
import type { Crypto } from '../../crypto/crypto.js';
import { V4Node } from '../../discv4/node.js';
import { Enr } from '../../enr/enr.js';
import type { Discv5 } from '../../index.js';
import { CRAWL_PROTOCOLS, type CrawlProtocol } from '../../store/crawl-schema.js';
import { splitList, UsageError } from '../args.js';
import type { CrawlJob } from './crawl-run.js';

/**
 * The protocols the options name: `--protocols v4,v5` (either order), `--discv4` (= `--protocols
 * v4`), else discv5 alone. Also reads a recorded crawl's options (they keep these keys).
 */
export function protocolsOf(v: Record<string, unknown>): CrawlProtocol[] {
  const given = v.protocols === undefined ? undefined : splitList(String(v.protocols));
  for (const p of given ?? [])
    if (!(CRAWL_PROTOCOLS as readonly string[]).includes(p))
      throw new UsageError(`--protocols takes v4 and/or v5 (e.g. --protocols v4,v5), got "${p}"`);
  if (given !== undefined && given.length === 0) throw new UsageError('--protocols names no protocol');
  if (v.discv4 === true) {
    if (given?.some((p) => p !== 'v4'))
      throw new UsageError('--discv4 means --protocols v4: give --protocols v4,v5 alone to crawl both');
    return ['v4'];
  }
  return given === undefined ? ['v5'] : CRAWL_PROTOCOLS.filter((p) => given.includes(p));
}

/**
 * The discv4 nodes of `texts` (enode URLs; an invalid one is skipped) and of `records` (those with a
 * secp256k1 key and a UDP endpoint), each node once.
 */
export function v4NodesOf(crypto: Crypto, texts: readonly string[], records: readonly Enr[]): V4Node[] {
  const nodes = new Map<string, V4Node>();
  for (const t of texts) {
    if (!t.toLowerCase().startsWith('enode://')) continue;
    try {
      const n = V4Node.fromEnode(crypto, t);
      if (!nodes.has(n.nodeIdHex)) nodes.set(n.nodeIdHex, n);
    } catch {}
  }
  for (const r of records) {
    const n = V4Node.fromEnr(crypto, r);
    if (n !== undefined && !nodes.has(n.nodeIdHex)) nodes.set(n.nodeIdHex, n);
  }
  return [...nodes.values()];
}

/** Records and enode URLs of a resumed crawl (pending nodes, seeds) as discv4 nodes. */
export function v4NodesOfTexts(crypto: Crypto, texts: readonly string[]): V4Node[] {
  const records: Enr[] = [];
  for (const t of texts) {
    if (!t.startsWith('enr:')) continue;
    try {
      records.push(Enr.decode(t, crypto));
    } catch {}
  }
  return v4NodesOf(crypto, texts, records);
}

/** A discv4 crawl from each identity of `nodes` (created with discv4): one asker per identity, one table of target keys. */
export function v4Job(
  nodes: readonly Discv5[],
  crypto: Crypto,
  seeds: V4Node[],
  resume?: { visited: ReadonlySet<string>; pending: readonly V4Node[] },
): CrawlJob<V4Node> {
  const targets = new TargetKeys(crypto);
  const askers = nodes.map((n) => {
    if (n.discv4 === undefined) throw new Error('a discv4 crawl needs identities created with discv4');
    return discv4Asker(n.discv4, n.nodeId, targets);
  });
  return {
    protocol: 'v4',
    askers,
    seeds,
    ...(resume === undefined ? {} : { resume }),
    json: v4NodeJson,
    keep: () => true,
    text: (s, reported) => summaryText(s, reported, BY_EXECUTION_NETWORK),
    geth: v4GethEntry,
    // NEIGHBORS carry no records: in fast mode too, each node is asked for its own (ENRREQUEST).
    // On the js backend recovering each packet's signer costs ~2 ms: with the usual 512 requests in
    // flight the time limits run out behind our own CPU and nodes are lost (bench:system --only v4).
    options: { askRecords: true, ...(crypto.backend === 'js' ? { concurrency: 32 } : {}) },
  };
}
