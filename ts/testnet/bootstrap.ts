/**
 * A testnet that joins as real nodes do: every node learns the bootnode and looks itself up. The
 * nodes share one event loop, so they join 50 at a time, each wave's follow-up checks let through
 * before the next (all at once, 5,000 first PINGs overflowed the bootnode's socket buffer and the
 * 2,015 nodes whose packets were lost stayed alone). Slow: 1,000 nodes take about a minute; a
 * prefilled testnet (prefill.ts) is ready in seconds.
 */
import type { Discv5 } from '../service/discv5.js';

/**
 * Resolves once the event loop keeps up again: a 10 ms timer fires less than 20 ms late twice in a
 * row (or after 30 s, whatever happens).
 */
async function loopKeepsUp(): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (let calm = 0; calm < 2 && performance.now() < deadline; ) {
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 10));
    calm = performance.now() - t < 30 ? calm + 1 : 0;
  }
}

/** Joins `nodes` through `nodes[0]`; logs how long it took. */
export async function bootstrapMembers(nodes: Discv5[], log: (text: string) => void): Promise<void> {
  const boot = nodes[0] as Discv5;
  const started = performance.now();
  const join = async (from: number, first: boolean) => {
    for (let i = from; i < nodes.length; i += 50) {
      const wave = nodes.slice(i, i + 50);
      if (first) for (const n of wave) n.addEnr(boot.localEnr);
      await Promise.all(wave.map((n) => n.findNode(n.nodeId)));
      await loopKeepsUp();
    }
  };
  await join(1, true);
  // Once more now that everyone is in, so that early joiners meet their late neighbours.
  await join(0, false);
  // Nodes serve only entries that have answered a PING, so a node is findable once it is live in
  // some other node's table: wait until every node is (at most 30 s). A node that joined while its
  // neighbours had nothing live to serve, and that they did not keep, knows too few others to be
  // found: it looks again, as its refresh would, every second while it is not found.
  const unfindable = () => {
    const live = new Set<string>();
    for (const n of nodes) for (const e of n.table()) if (e.live) live.add(e.nodeId);
    return nodes.filter((n) => !live.has(n.localEnr.nodeIdHex));
  };
  let lookedAgain = performance.now();
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; ) {
    const alone = unfindable();
    if (alone.length === 0) break;
    if (performance.now() - lookedAgain >= 1_000) {
      for (let i = 0; i < alone.length; i += 50)
        await Promise.all(alone.slice(i, i + 50).map((n) => n.findNode(n.nodeId)));
      lookedAgain = performance.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const live = nodes.reduce((s, n) => s + n.table().filter((e) => e.live).length, 0);
  log(
    `${nodes.length} nodes bootstrapped in ${((performance.now() - started) / 1000).toFixed(1)} s (${live} live table entries)`,
  );
}
