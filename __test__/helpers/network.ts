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
  // Everyone knows the bootnode and finds its own neighbourhood, then explores once at random.
  await inWaves(nodes.slice(1), 25, async (n) => {
    n.addEnr(boot.localEnr);
    await n.findNode(n.nodeId);
  });
  await inWaves(nodes, 25, (n) => n.findRandomNode());
  // Self-lookups ran while the network was still joining: once more, now that everyone is in
  // (what the periodic refresh does in a long-running network).
  await inWaves(nodes, 25, (n) => n.findNode(n.nodeId));
  // The maintenance pings make entries live: wait (bounded, generously: CI shares 2 cores) until
  // every node holds live entries and is itself live in some other node's table, instead of guessing
  // how long that takes.
  await waitFor(
    () => {
      const liveSomewhere = new Set<string>();
      for (const n of nodes) for (const e of n.table()) if (e.live) liveSomewhere.add(e.nodeId);
      return nodes.every((n) => liveSomewhere.has(n.localEnr.nodeIdHex) && n.table().some((e) => e.live));
    },
    120_000,
    'every node live in some table, with live entries of its own',
    100,
  );
  return nodes;
}
