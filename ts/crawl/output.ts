/** What a crawl writes: one JSON object per node (NDJSON), geth's devp2p nodes.json, and a summary. */
import { enrJson } from '../enr/json.js';
import { toHex } from '../util/bytes.js';
import type { CrawledNode, CrawlSummary } from './crawler.js';

/** One node, with the field names of `enr decode --json` plus the crawl's own. */
export function nodeJson(node: CrawledNode): Record<string, unknown> {
  return {
    ...enrJson(node.enr),
    enr: node.enr.text,
    answered: node.answered,
    rttMs: node.rttMs ?? null,
    firstSeen: new Date(node.firstSeen).toISOString(),
    lastSeen: new Date(node.lastSeen).toISOString(),
    error: node.error ?? null,
    neighbors: [...node.neighbors],
  };
}

/** go-ethereum's devp2p nodes.json: keyed by node id; score 1 for nodes that answered. */
export function gethNodesJson(nodes: CrawledNode[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const n of nodes) {
    const first = new Date(n.firstSeen).toISOString();
    const last = new Date(n.lastSeen).toISOString();
    out[n.enr.nodeIdHex] = {
      seq: Number(n.enr.seq),
      record: n.enr.text,
      score: n.answered ? 1 : 0,
      firstResponse: n.answered ? first : '0001-01-01T00:00:00Z',
      lastResponse: n.answered ? last : '0001-01-01T00:00:00Z',
      lastCheck: last,
    };
  }
  return out;
}

/** The fork digest of a node's eth2 entry, if it has a well-formed one. */
export function forkDigestOf(node: CrawledNode): string | undefined {
  const d = node.enr.forkDigest;
  return d === undefined ? undefined : toHex(d);
}

export function summaryText(s: CrawlSummary, reported: CrawledNode[]): string {
  const perFork = new Map<string, number>();
  let v4 = 0;
  let v6 = 0;
  for (const n of reported) {
    const f = forkDigestOf(n) ?? 'none';
    perFork.set(f, (perFork.get(f) ?? 0) + 1);
    if (n.enr.ip !== undefined) v4++;
    if (n.enr.ip6 !== undefined) v6++;
  }
  const seconds = s.durationMs / 1000;
  const forks = [...perFork]
    .sort((a, b) => b[1] - a[1])
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  const lines = [
    `crawl ${s.stop}: ${s.found} nodes found, ${s.answered} answered, in ${seconds.toFixed(1)} s (${Math.round(s.found / Math.max(seconds, 0.001))} nodes/s)`,
    `requests sent: ${s.requests} (${(s.requests / Math.max(s.found, 1)).toFixed(1)} per node, ${s.mode} mode)`,
    `reported: ${reported.length} (IPv4 ${v4}, IPv6 ${v6}); per fork digest: ${forks}`,
  ];
  // What the crawl's bounds held back, and what the output code threw: shown only when it happened.
  const held: string[] = [];
  if (s.refusedMaxNodes > 0) held.push(`${s.refusedMaxNodes} records over the node limit`);
  if (s.refusedPerIp > 0) held.push(`${s.refusedPerIp} records over the per-IP limit`);
  if (s.callbackErrors > 0) held.push(`${s.callbackErrors} errors in onNode (reporting nodes)`);
  if (held.length > 0) lines.push(`not followed or failed: ${held.join(', ')}`);
  return lines.join('\n');
}
