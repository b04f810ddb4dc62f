/**
 * The promise of a discovery network: every node can be found, and lookups find the true k closest
 * quickly. 200 nodes on the in-memory network and 30 over UDP loopback, all bootstrapped from one
 * node. These run on the native backend in both suite runs (200 js nodes would take minutes);
 * the js backend's network behaviour is covered by the session specs. They run one at a time:
 * two 200-node networks at once would only measure the machine.
 */
import { randomFillSync } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import type { Discv5 } from '../ts/index.js';
import { buildNetwork, inWaves } from './helpers/network.js';

function xorKey(id: Uint8Array, target: Uint8Array): string {
  return Buffer.from(id.map((x, i) => x ^ (target[i] as number))).toString('hex');
}

async function converges(t: ExecutionContext, nodes: Discv5[]) {
  const [first] = nodes as [Discv5];
  // A lookup that misses (a query timed out under load; lookup queries are not retried, as geth's
  // are not) is repeated once, as a client would. Misses must stay rare, and none may remain.
  let repeats = 0;
  let lookups = 0;
  const finds = async (asker: Discv5, target: Discv5) => {
    for (let attempt = 0; attempt < 2; attempt++) {
      lookups++;
      const found = await asker.findNode(target.nodeId);
      if (found.some((e) => e.nodeIdHex === target.localEnr.nodeIdHex)) return true;
      repeats++;
    }
    return false;
  };
  const begun = Date.now();
  // A lookup for every node's id, from one node, finds that node.
  const missed: string[] = [];
  await inWaves(nodes.slice(1), 10, async (n) => {
    if (!(await finds(first, n))) missed.push(n.localEnr.nodeIdHex);
  });
  t.log(`lookups for every id: ${Date.now() - begun} ms`);
  t.deepEqual(missed, [], 'every node found by a lookup for its id');

  // Each node finds 10 random others by lookup.
  let failures = 0;
  await inWaves(nodes, 20, async (n, i) => {
    for (let j = 1; j <= 10; j++) {
      const other = nodes[(i + j * 7 + 1) % nodes.length] as Discv5;
      if (other !== n && !(await finds(n, other))) failures++;
    }
  });
  t.is(failures, 0, 'each node finds 10 others');
  t.log(`${lookups} lookups, ${repeats} repeated`);
  t.true(repeats <= lookups * 0.01, `${repeats} of ${lookups} lookups had to be repeated`);

  // Every node is live in the table of at least one other.
  const liveSomewhere = new Set<string>();
  for (const n of nodes) for (const e of n.table()) if (e.live) liveSomewhere.add(e.nodeId);
  const notLive = nodes.filter((n) => !liveSomewhere.has(n.localEnr.nodeIdHex)).length;
  t.is(notLive, 0, 'every node live in some table');
}

test.serial('200 nodes on the in-memory network converge', async (t) => {
  t.timeout(240_000);
  const nodes = await buildNetwork(t, 200);
  await converges(t, nodes);
});

test.serial('30 nodes over UDP loopback converge', async (t) => {
  t.timeout(240_000);
  const nodes = await buildNetwork(t, 30, { udp: true });
  await converges(t, nodes);
});

/*
 * Exactness: a peer answers FINDNODE by distance from itself, at most 16 records, so a node at the
 * far edge of the true 16 closest (rank 13-15) can sit, for every peer that knows it, outside the
 * three distances asked or behind the cap: measured here, each miss was known to all 16 nodes
 * returned. No lookup that follows the protocol can see it; geth's lookups share this. So: the
 * closest node always, nearly all of the true 16 every time, all 16 in most lookups.
 */
test.serial('lookups return the true 16 closest and stop early', async (t) => {
  t.timeout(240_000);
  // Nothing is lost on the in-memory network, so a timeout only means a stalled event loop (other
  // spec files share the 2 cores): requests wait long rather than drop peers from a lookup, which
  // cost one run a lookup with 9 of the true 16 (CI, Node 26 leg, a core kept busy).
  const nodes = await buildNetwork(t, 200, { config: { requestTimeoutMs: 10_000 } });
  const queries: number[] = [];
  const recall: number[] = [];
  let nearest = 0;
  let exact = 0;
  let total = 0;
  for (const asker of nodes.slice(0, 5)) {
    for (let i = 0; i < 10; i++) {
      const target = randomFillSync(new Uint8Array(32));
      const result = await asker.lookup(target);
      const brute = nodes
        .filter((n) => n !== asker)
        .map((n) => n.localEnr.nodeIdHex)
        .sort((a, b) => (xorKey(Buffer.from(a, 'hex'), target) < xorKey(Buffer.from(b, 'hex'), target) ? -1 : 1))
        .slice(0, 16);
      total++;
      const got = new Set(result.closest.map((e) => e.nodeIdHex));
      if (result.closest[0]?.nodeIdHex === brute[0]) nearest++;
      recall.push(brute.filter((id) => got.has(id)).length);
      if (JSON.stringify(result.closest.map((e) => e.nodeIdHex)) === JSON.stringify(brute)) exact++;
      queries.push(result.queries);
      t.is(result.stop, 'converged');
    }
  }
  queries.sort((a, b) => a - b);
  const median = queries[queries.length >> 1] as number;
  t.log(
    `exact ${exact}/${total}; recall ${recall.join(',')}; queries per lookup: median ${median}, max ${queries[queries.length - 1]}`,
  );
  // Observed over repeated runs: 45-47 of 50 exact, recall mostly 16, sometimes 15, once 13; 39 of 50
  // exact once, when CI shared the 2 cores with an npm install and other test processes. Margins
  // keep this from flaking while a broken lookup (recall falls to single digits) still fails it.
  const meanRecall = recall.reduce((a, b) => a + b, 0) / recall.length;
  t.true(meanRecall >= 15.5, `mean recall ${meanRecall}`);
  t.true(
    recall.every((r) => r >= 12),
    'at least 12 of the true 16, every time',
  );
  t.true(exact >= total * 0.7, `all 16 in ${exact}/${total} lookups`);
  t.is(nearest, total, 'the closest node, every time');
  // Early stop: a lookup that never stops would ask most of the network (DESIGN.md found a median of 516 for the rival).
  t.true(median <= 30, `median ${median} queries`);
  t.true((queries[queries.length - 1] as number) <= 60);
});
