/**
 * A testnet that joins as real nodes do: every node learns the bootnode and looks itself up. The
 * nodes share one event loop, so they join 50 at a time, each wave's follow-up checks let through
 * before the next (all at once, 5,000 first PINGs overflowed the bootnode's socket buffer and the
 * 2,015 nodes whose packets were lost stayed alone). Slow: 1,000 nodes take about a minute; a
 * prefilled testnet (prefill.ts) is ready in seconds. With discv4, each node joins the v4 network
 * the same way in the same waves: the bootnode's `V4Node` in its v4 table, then a v4 self-lookup
 * (which bonds with the bootnode first).
 */
import type { V4Node } from '../discv4/node.js';
import type { Discv5 } from '../service/discv5.js';
import { ownKey, v4NodeOf } from './discv4.js';

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

/** A node's v4 self-lookup (nothing without discv4; a failure is the node's own: it looks again later). */
async function lookupV4(n: Discv5): Promise<void> {
  await n.discv4?.lookup(ownKey(n)).catch(() => undefined);
}

/** Joins `nodes` through `nodes[0]` (and, with `discv4`, their v4 sides too); logs how long it took. */
export async function bootstrapMembers(
  nodes: Discv5[],
  log: (text: string) => void,
  options: { discv4?: boolean } = {},
): Promise<void> {
  const boot = nodes[0] as Discv5;
  const discv4 = options.discv4 === true;
  const bootV4: V4Node | undefined = discv4 ? v4NodeOf(boot.crypto, boot.localEnr) : undefined;
  const started = performance.now();
  const join = async (from: number, first: boolean) => {
    for (let i = from; i < nodes.length; i += 50) {
      const wave = nodes.slice(i, i + 50);
      if (first)
        for (const n of wave) {
          n.addEnr(boot.localEnr);
          if (bootV4 !== undefined) n.discv4?.addNode(bootV4);
        }
      await Promise.all(wave.flatMap((n) => (discv4 ? [n.findNode(n.nodeId), lookupV4(n)] : [n.findNode(n.nodeId)])));
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
    const liveV4 = new Set<string>();
    for (const n of nodes) {
      for (const e of n.table()) if (e.live) live.add(e.nodeId);
      for (const e of n.discv4?.entries() ?? []) if (e.live) liveV4.add(e.enr.nodeIdHex);
    }
    return {
      v5: nodes.filter((n) => !live.has(n.localEnr.nodeIdHex)),
      v4: discv4 ? nodes.filter((n) => !liveV4.has(n.localEnr.nodeIdHex)) : [],
    };
  };
  let lookedAgain = performance.now();
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; ) {
    const alone = unfindable();
    if (alone.v5.length === 0 && alone.v4.length === 0) break;
    if (performance.now() - lookedAgain >= 1_000) {
      for (let i = 0; i < alone.v5.length; i += 50)
        await Promise.all(alone.v5.slice(i, i + 50).map((n) => n.findNode(n.nodeId)));
      for (let i = 0; i < alone.v4.length; i += 50) await Promise.all(alone.v4.slice(i, i + 50).map(lookupV4));
      lookedAgain = performance.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const live = nodes.reduce((s, n) => s + n.table().filter((e) => e.live).length, 0);
  const liveV4 = nodes.reduce((s, n) => s + (n.discv4?.table.liveSize ?? 0), 0);
  log(
    `${nodes.length} nodes bootstrapped in ${((performance.now() - started) / 1000).toFixed(1)} s (${live} live table entries${discv4 ? `, ${liveV4} live discv4 table entries` : ''})`,
  );
}
