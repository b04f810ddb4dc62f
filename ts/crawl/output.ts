/**
 * What a crawl writes: one JSON object per node and protocol (NDJSON), geth's devp2p nodes.json,
 * and a summary. discv4 nodes are written by output-v4.ts.
 */
import type { Enr } from '../enr/enr.js';
import { enrJson } from '../enr/json.js';
import { toHex } from '../util/bytes.js';
import type { CrawledNode, CrawlRecord, CrawlSummary } from './crawler.js';

/** One discv5 node, with the field names of `enr decode --json` plus the crawl's own. */
export function nodeJson(node: CrawledNode): Record<string, unknown> {
  return {
    protocol: 'v5',
    ...enrJson(node.enr),
    enr: node.enr.text,
    ...visitJson(node),
  };
}

/** The crawl's fields of a node, either protocol. */
export function visitJson(node: CrawledNode<CrawlRecord>): Record<string, unknown> {
  return {
    answered: node.answered,
    rttMs: node.rttMs ?? null,
    firstSeen: new Date(node.firstSeen).toISOString(),
    lastSeen: new Date(node.lastSeen).toISOString(),
    error: node.error ?? null,
    neighbors: [...node.neighbors],
  };
}

/** go-ethereum's zero time.Time, what nodes.json says for "never". */
const NEVER = '0001-01-01T00:00:00Z';

/** One node of go-ethereum's devp2p nodes.json. */
export interface GethEntry {
  seq: number;
  record: string;
  score: number;
  firstResponse: string;
  lastResponse: string;
  lastCheck: string;
}

/** A node's nodes.json entry: `record` and `seq` are what the protocol knows of it (score 1 if it answered). */
export function gethEntry(node: CrawledNode<CrawlRecord>, record: string, seq: bigint): GethEntry {
  const first = new Date(node.firstSeen).toISOString();
  const last = new Date(node.lastSeen).toISOString();
  return {
    seq: Number(seq),
    record,
    score: node.answered ? 1 : 0,
    firstResponse: node.answered ? first : NEVER,
    lastResponse: node.answered ? last : NEVER,
    lastCheck: last,
  };
}

const isNewer = (a: GethEntry, b: GethEntry) =>
  a.seq !== b.seq ? a.seq > b.seq : a.record.startsWith('enr:') || !b.record.startsWith('enr:');

/**
 * One node seen by both protocols: the newer record (a signed record over an enode URL), answered
 * if it answered either, its earliest first and latest last response and check.
 */
export function mergeGethEntries(a: GethEntry, b: GethEntry): GethEntry {
  const base = isNewer(b, a) ? b : a;
  const answered = [a, b].filter((e) => e.score > 0);
  // ISO times sort as text.
  const min = (xs: string[]) => [...xs].sort()[0] as string;
  const max = (xs: string[]) => [...xs].sort().at(-1) as string;
  return {
    seq: base.seq,
    record: base.record,
    score: Math.max(a.score, b.score),
    firstResponse: answered.length === 0 ? NEVER : min(answered.map((e) => e.firstResponse)),
    lastResponse: answered.length === 0 ? NEVER : max(answered.map((e) => e.lastResponse)),
    lastCheck: max([a.lastCheck, b.lastCheck]),
  };
}

/** go-ethereum's devp2p nodes.json of discv5 nodes (and `more`, e.g. discv4 entries): keyed by node id. */
export function gethNodesJson(
  nodes: CrawledNode[],
  more: Iterable<[string, GethEntry]> = [],
): Record<string, GethEntry> {
  const out: Record<string, GethEntry> = {};
  const add = (id: string, e: GethEntry) => {
    const had = out[id];
    out[id] = had === undefined ? e : mergeGethEntries(had, e);
  };
  for (const n of nodes) add(n.enr.nodeIdHex, gethEntry(n, n.enr.text, n.enr.seq));
  for (const [id, e] of more) add(id, e);
  return out;
}

/** The fork digest of a node's eth2 entry, if it has a well-formed one. */
export function forkDigestOf(node: CrawledNode<Enr>): string | undefined {
  const d = node.enr.forkDigest;
  return d === undefined ? undefined : toHex(d);
}

/** How the summary groups the nodes reported: its name, each node's group, and lines of its own. */
export interface SummaryGroups<R extends CrawlRecord> {
  name: string;
  of(node: CrawledNode<R>): string;
  /** Merges the groups counted (e.g. unknown fork hashes into one), largest first. */
  shown?(counts: [string, number][]): [string, number][];
  /** Lines after the others (e.g. how many discv4 nodes gave their record). */
  extra?(reported: CrawledNode<R>[]): string[];
}

const BY_FORK_DIGEST: SummaryGroups<Enr> = { name: 'fork digest', of: (n) => forkDigestOf(n) ?? 'none' };

export function summaryText<R extends CrawlRecord = Enr>(
  s: CrawlSummary<R>,
  reported: CrawledNode<R>[],
  groups: SummaryGroups<R> = BY_FORK_DIGEST as unknown as SummaryGroups<R>,
): string {
  const perGroup = new Map<string, number>();
  let v4 = 0;
  let v6 = 0;
  for (const n of reported) {
    const g = groups.of(n);
    perGroup.set(g, (perGroup.get(g) ?? 0) + 1);
    if (n.enr.ip !== undefined) v4++;
    if (n.enr.ip6 !== undefined) v6++;
  }
  const seconds = s.durationMs / 1000;
  const sorted = [...perGroup].sort((a, b) => b[1] - a[1]);
  const shown = (groups.shown?.(sorted) ?? sorted).map(([f, n]) => `${f} ${n}`).join(', ');
  const lines = [
    `crawl ${s.stop}: ${s.found} nodes found, ${s.answered} answered, in ${seconds.toFixed(1)} s (${Math.round(s.found / Math.max(seconds, 0.001))} nodes/s)`,
    `requests sent: ${s.requests} (${(s.requests / Math.max(s.found, 1)).toFixed(1)} per node, ${s.mode} mode)`,
    `reported: ${reported.length} (IPv4 ${v4}, IPv6 ${v6}); per ${groups.name}: ${shown}`,
    ...(groups.extra?.(reported) ?? []),
  ];
  // What the crawl's bounds held back, and what the output code threw: shown only when it happened.
  const held: string[] = [];
  if (s.refusedMaxNodes > 0) held.push(`${s.refusedMaxNodes} records over the node limit`);
  if (s.refusedPerIp > 0) held.push(`${s.refusedPerIp} records over the per-IP limit`);
  if (s.callbackErrors > 0) held.push(`${s.callbackErrors} errors in onNode (reporting nodes)`);
  if (held.length > 0) lines.push(`not followed or failed: ${held.join(', ')}`);
  return lines.join('\n');
}
