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
  // The maintenance pings make entries live. A node that joined while the bootnode had nothing live
  // to serve, and that the bootnode did not keep (nodes reaching it first take at most 8 places of a
  // bucket), knows only the bootnode: its periodic refresh would look again (disabled here), so the
  // warm-up does, for such nodes only. Bounded, generously: CI shares 2 cores with other specs.
  const unsettled = () => {
    const liveSomewhere = new Set<string>();
    for (const n of nodes) for (const e of n.table()) if (e.live) liveSomewhere.add(e.nodeId);
    return nodes.filter((n) => !liveSomewhere.has(n.localEnr.nodeIdHex) || !n.table().some((e) => e.live));
  };
  const t0 = Date.now();
  let left = unsettled();
  while (left.length > 0 && Date.now() - t0 < 90_000) {
    await waitFor(() => unsettled().length === 0, 1_000, 'liveness', 50).catch(() => {});
    left = unsettled();
    await Promise.all(left.map((n) => n.findNode(n.nodeId)));
  }
  t.log(`warm-up: ${Date.now() - t0} ms until every node was live somewhere; ${left.length} unsettled`);
  for (const n of left.slice(0, 3)) {
    const pick = Object.entries(n.metrics()).filter(([k]) => /^(drop|table|request|handshake|lookup)\./.test(k));
    t.log(
      `${n.localEnr.nodeIdHex.slice(0, 8)}: table ${n.table().length}, ${JSON.stringify(Object.fromEntries(pick))}`,
    );
  }
  if (left.length > 0) throw new Error(`${left.length} nodes not live in any table after 90 s`);
  return nodes;
}
