/** A whole network of nodes bootstrapped from one, warmed up, for convergence and lookup specs. */
import type { ExecutionContext } from 'ava';
import type { BackendName } from '../../ts/crypto/types.js';
import type { Discv5, Discv5Config } from '../../ts/index.js';
import { MemoryNetwork } from '../../ts/index.js';
import { startNode, waitFor } from './nodes.js';

/** Fast maintenance, so a warm-up takes seconds rather than minutes. */
export const FAST_MAINTENANCE: Partial<Discv5Config> = {
  revalidateNewIntervalMs: 100,
  revalidateNewBatch: 8,
  inboundPingDelayMs: 50,
  refreshIntervalMs: 0,
};

/** Runs `fn` over `items`, `width` at a time. */
export async function inWaves<T, R>(items: T[], width: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    out.push(...(await Promise.all(items.slice(i, i + width).map((x, j) => fn(x, i + j)))));
  }
  return out;
}

export async function buildNetwork(
  t: ExecutionContext,
  size: number,
  options: { udp?: boolean; backend?: BackendName; config?: Partial<Discv5Config> } = {},
): Promise<Discv5[]> {
  const network = options.udp ? undefined : new MemoryNetwork();
  if (network) t.teardown(() => network.close());
  const place = network ? { network } : ('udp' as const);
  // Requests get several seconds: these networks check convergence, not latency, and share the CPU.
  const config = { ...FAST_MAINTENANCE, requestTimeoutMs: 3_000, ...options.config };
  const nodes = await inWaves(Array.from({ length: size }), 50, () =>
    startNode(t, place, { backend: options.backend ?? 'native', config }),
  );
  const boot = nodes[0] as Discv5;
  const started = Date.now();
  // Everyone knows the bootnode and finds its own neighbourhood, then explores once at random.
  await inWaves(nodes.slice(1), 25, async (n) => {
    n.addEnr(boot.localEnr);
    await n.findNode(n.nodeId);
  });
  await inWaves(nodes, 25, (n) => n.findRandomNode());
  // Self-lookups ran while the network was still joining: once more, now that everyone is in
  // (what the periodic refresh does in a long-running network).
  await inWaves(nodes, 25, (n) => n.findNode(n.nodeId));
  t.log(`bootstrap lookups: ${Date.now() - started} ms`);
  const t0 = Date.now();
  await untilEveryoneLive(nodes, 90_000, (line) => t.log(line));
  t.log(`warm-up: ${Date.now() - t0} ms until every node was live somewhere`);
  return nodes;
}

/**
 * Waits (bounded) until every node holds live entries and is live in some other node's table. The
 * maintenance pings make entries live. A node that joined while its neighbours had nothing live to
 * serve, and that they did not keep (nodes reaching a node first take at most 8 places of a
 * bucket), knows only the bootnode: its periodic refresh would look again (specs disable it), so
 * this does, for such nodes only, once a second.
 */
export async function untilEveryoneLive(
  nodes: Discv5[],
  timeoutMs: number,
  log: (line: string) => void = () => {},
): Promise<void> {
  const unsettled = () => {
    const liveSomewhere = new Set<string>();
    for (const n of nodes) for (const e of n.table()) if (e.live) liveSomewhere.add(e.nodeId);
    return nodes.filter((n) => !liveSomewhere.has(n.localEnr.nodeIdHex) || !n.table().some((e) => e.live));
  };
  const deadline = Date.now() + timeoutMs;
  let left = unsettled();
  while (left.length > 0 && Date.now() < deadline) {
    await waitFor(() => unsettled().length === 0, 1_000, 'liveness', 50).catch(() => {});
    left = unsettled();
    await Promise.all(left.map((n) => n.findNode(n.nodeId)));
  }
  if (left.length === 0) return;
  for (const n of left.slice(0, 3)) {
    const pick = Object.entries(n.metrics()).filter(([k]) => /^(drop|table|request|handshake|lookup)\./.test(k));
    log(`${n.localEnr.nodeIdHex.slice(0, 8)}: table ${n.table().length}, ${JSON.stringify(Object.fromEntries(pick))}`);
  }
  throw new Error(`${left.length} nodes not live in any table (or without live entries) after ${timeoutMs} ms`);
}
