/**
 * Discovery v4 interop with an independent implementation: @ethereumjs/devp2p's DPT (helpers/
 * ethereumjs-dpt.ts runs its nodes in a child process) against our `node.discv4`, over UDP
 * loopback. Bonding both ways, FINDNODE/NEIGHBORS both ways (our endpoint proof refusing DPT's
 * unbonded FINDNODE), ENRREQUEST at a node that does not speak EIP-868, a lookup over a DPT
 * network, and our crawler enumerating one. Every wait is bounded: on DPT's event stream (`dpt.until`) or our own state (`waitFor`).
 *
 * DPT answers FINDNODE with all its neighbours (up to 16) in one packet: over 1280 bytes from 15
 * nodes on, which we refuse (as go-ethereum, whose reads stop at 1280 bytes). Every DPT table here
 * stays under 12 nodes (ours included).
 */
import test, { type ExecutionContext } from 'ava';
import { crawl } from '../ts/crawl/crawler.js';
import { discv4Asker, TargetKeys } from '../ts/crawl/discv4-asker.js';
import type { Discv4 } from '../ts/discv4/discv4.js';
import { V4Node } from '../ts/discv4/node.js';
import { Discv5 } from '../ts/index.js';
import { type DptHarness, type DptOptions, type DptRecv, startDpt } from './helpers/ethereumjs-dpt.js';
import { envCrypto, waitFor } from './helpers/nodes.js';

const HOST = '127.0.0.1';
const REQUEST_TIMEOUT_MS = 2_000;

async function ourNode(t: ExecutionContext): Promise<Discv5> {
  const node = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    bind: { ip4: { ip: HOST, port: 0 } },
    config: { requestTimeoutMs: REQUEST_TIMEOUT_MS },
    discv4: { bondWaitMs: 500 },
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

async function dptNodes(t: ExecutionContext, n: number, options: DptOptions = {}): Promise<DptHarness> {
  const dpt = await startDpt(n, { refreshIntervalMs: 2_000, timeoutMs: 2_000, ...options });
  t.teardown(() => dpt.stop());
  return dpt;
}

const v4 = (node: Discv5): Discv4 => {
  const d = node.discv4;
  if (d === undefined) throw new Error('no discv4');
  return d;
};

const portOf = (node: Discv5): number => {
  const port = node.addresses[0]?.port;
  if (port === undefined) throw new Error('not bound');
  return port;
};

/** Bytes of a hex public key (a FINDNODE or lookup target) or node id (a table key). */
const bytesOf = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

const liveIds = (node: Discv5): Set<string> =>
  new Set(
    v4(node)
      .table.entries()
      .filter((e) => e.live)
      .map((e) => e.enr.nodeIdHex),
  );

const without = (ids: Iterable<string>, ...drop: string[]): string[] =>
  [...ids].filter((id) => !drop.includes(id)).sort();

/** DPT node i's received packets of one type from one signer. */
function received<T extends DptRecv['type']>(
  dpt: DptHarness,
  i: number,
  type: T,
  fromIdHex: string,
): (DptRecv & { type: T })[] {
  return dpt
    .events(i)
    .filter((e): e is DptRecv & { type: T } => e.event === 'recv' && e.type === type && e.nodeIdHex === fromIdHex);
}

/** Node ids in DPT node i's table (itself included) when it read each FINDNODE from `askerIdHex`. */
function tablesAtFindNode(dpt: DptHarness, i: number, askerIdHex: string): string[][] {
  const table = new Set<string>();
  const snapshots: string[][] = [];
  for (const e of dpt.events(i)) {
    if (e.event === 'peer:added') table.add(e.peer.nodeIdHex);
    else if (e.event === 'peer:removed') table.delete(e.peer.nodeIdHex);
    else if (e.event === 'recv' && e.type === 'findneighbours' && e.nodeIdHex === askerIdHex)
      snapshots.push([...table]);
  }
  return snapshots;
}

/**
 * Packets DPT could not read (the harness decodes each one before DPT does). Not DPT's 'error'
 * events: those also report its own pings that timed out, which a loaded machine may cause.
 */
const dptDrops = (dpt: DptHarness) => dpt.events().filter((e) => e.event === 'drop');

test.serial('bonding, ours first: our PING is answered and the DPT node then holds us in its table', async (t) => {
  const started = Date.now();
  const dpt = await dptNodes(t, 1);
  const [d] = dpt.nodes;
  if (d === undefined) throw new Error('no DPT node');
  const a = await ourNode(t);
  const aId = a.localEnr.nodeIdHex;

  const pong = await v4(a).ping(d.enode);
  t.is(pong.enrSeq, undefined, 'DPT does not speak EIP-868: no enr-seq in its PONG');
  t.is(pong.to.ip, HOST);
  t.is(pong.to.udp, portOf(a));
  // The PONG proved DPT's endpoint: it is live in our table at once.
  t.is(v4(a).table.get(bytesOf(d.nodeIdHex))?.live, true);

  // DPT read our PING (with its EIP-868 enr-seq field) and its `from` is our real endpoint.
  const [ping] = received(dpt, 0, 'ping', aId);
  t.truthy(ping, 'DPT got our PING');
  t.deepEqual(ping?.from, { ip: HOST, udp: portOf(a), tcp: null });
  t.is(ping?.version, 4);

  // DPT pings the endpoint our PING named; our PONG puts us in its table.
  await dpt.until('DPT to hold us', () => (dpt.known(0).has(aId) ? true : undefined), 15_000);
  const peer = (await dpt.peers(0)).find((p) => p.nodeIdHex === aId);
  t.deepEqual(peer && { ip: peer.ip, udp: peer.udp, tcp: peer.tcp }, { ip: HOST, udp: portOf(a), tcp: 0 });
  t.true((a.metrics()['discv4.in.ping'] ?? 0) >= 1, 'DPT pinged us');
  t.true((a.metrics()['discv4.out.pong'] ?? 0) >= 1, 'and we answered');
  t.deepEqual(dptDrops(dpt), []);
  t.log(`${Date.now() - started} ms`);
});

test.serial(
  'bonding, DPT first: a DPT node bootstraps from our enode; we answer, ping back, and hold it live',
  async (t) => {
    const started = Date.now();
    const dpt = await dptNodes(t, 1);
    const [d] = dpt.nodes;
    if (d === undefined) throw new Error('no DPT node');
    const a = await ourNode(t);
    const aId = a.localEnr.nodeIdHex;
    t.regex(v4(a).enode, new RegExp(`^enode://[0-9a-f]{128}@127\\.0\\.0\\.1:0\\?discport=${portOf(a)}$`));

    // DPT.addPeer resolves on our PONG.
    const peer = await dpt.bootstrap(0, v4(a).enode);
    t.is(peer.nodeIdHex, aId);
    const [pong] = received(dpt, 0, 'pong', aId);
    t.truthy(pong, 'DPT got our PONG');
    t.deepEqual(pong?.to, { ip: HOST, udp: d.udp, tcp: d.tcp }, 'our PONG names DPT where its PING came from');
    t.true(dpt.known(0).has(aId), 'DPT holds us');

    // We held no proof of DPT, so we ping it back; its PONG makes it live in our table.
    await dpt.until('our ping-back', () => received(dpt, 0, 'ping', aId)[0], 10_000);
    await waitFor(() => v4(a).table.get(bytesOf(d.nodeIdHex))?.live === true, 10_000, 'DPT live in our table');
    const entry = v4(a).table.get(bytesOf(d.nodeIdHex))?.enr;
    t.deepEqual(entry && { ip: entry.address, udp: entry.udp, tcp: entry.tcp }, { ip: HOST, udp: d.udp, tcp: d.tcp });
    t.is(entry?.enode, d.enode);
    const m = a.metrics();
    t.true((m['discv4.in.ping'] ?? 0) >= 1);
    t.true((m['discv4.out.ping'] ?? 0) >= 1);
    // DPT's bootstrap FINDNODE follows our PONG at once, usually before our ping-back is answered:
    // then it is refused for want of proof (go-ethereum's rule too). Either way is correct.
    t.log(
      `bootstrap FINDNODE: ${m['discv4.in.findnode'] ?? 0} in, ${m['discv4.drop.unbonded'] ?? 0} refused unbonded, ${m['discv4.out.neighbors'] ?? 0} answered`,
    );
    t.deepEqual(dptDrops(dpt), []);
    t.log(`${Date.now() - started} ms`);
  },
);

test.serial('FINDNODE, ours at DPT: the answer holds the nodes of its table', async (t) => {
  const started = Date.now();
  const N = 5;
  const dpt = await dptNodes(t, N);
  const { nodes } = dpt;
  for (let i = 1; i < N; i++) await dpt.bootstrap(i, nodes[0]!.enode);
  const missing = () =>
    nodes.flatMap((n) => nodes.filter((m) => m !== n && !dpt.known(n.index).has(m.nodeIdHex)).map((m) => m.index));
  await dpt.until('the DPT nodes to know one another', () => (missing().length === 0 ? true : undefined), 30_000);

  const a = await ourNode(t);
  const aId = a.localEnr.nodeIdHex;
  const found = await v4(a).findNode(nodes[0]!.enode, bytesOf(nodes[3]!.publicKeyHex));
  // DPT's table when it read each FINDNODE of ours (our own upkeep may have sent one too), from its
  // event stream: DPT answers as it reads, and its table changes (it adds us when we answer its
  // ping-back, and itself once a NEIGHBORS names it) at any time around that.
  const snapshots = tablesAtFindNode(dpt, 0, aId).map((ids) => without(ids, aId));
  t.true(snapshots.length >= 1);
  const answer = without(
    found.map((n) => n.nodeIdHex),
    aId,
  );
  t.true(
    snapshots.some((ids) => JSON.stringify(ids) === JSON.stringify(answer)),
    `answer ${answer.map((id) => id.slice(0, 6))} is DPT's table at one of ${snapshots.length} FINDNODE(s)`,
  );
  for (const n of nodes.slice(1)) {
    const f = found.find((x) => x.nodeIdHex === n.nodeIdHex);
    t.truthy(f, `DPT node ${n.index} in the answer`);
    t.deepEqual(f && { ip: f.address, udp: f.udp, tcp: f.tcp }, { ip: HOST, udp: n.udp, tcp: n.tcp });
  }
  t.true((a.metrics()['discv4.in.neighbors'] ?? 0) >= 1);
  t.is(a.metrics()['discv4.drop.record-refused'] ?? 0, 0);
  t.deepEqual(dptDrops(dpt), []);
  t.log(`${found.length} nodes; ${Date.now() - started} ms`);
});

test.serial(
  'FINDNODE, DPT at ours: refused until DPT proved its endpoint, then answered with our live table',
  async (t) => {
    const started = Date.now();
    // Passive DPT nodes (they add no peers and ask nothing by themselves): our table stays as we make it.
    const dpt = await dptNodes(t, 4, { findNeighbours: false });
    const { nodes } = dpt;
    const asker = nodes[3]!;
    const a = await ourNode(t);
    const b = await ourNode(t);
    const c = await ourNode(t);
    for (const n of nodes.slice(0, 3)) await v4(a).ping(n.enode);
    for (const n of [b, c]) await v4(a).ping(v4(n).enode);
    const ours = [...nodes.slice(0, 3).map((n) => n.nodeIdHex), b.localEnr.nodeIdHex, c.localEnr.nodeIdHex].sort();
    t.deepEqual([...liveIds(a)].sort(), ours);

    // Unbonded: refused (counted), nothing sent back.
    const before = a.metrics();
    await dpt.findNeighbours(3, v4(a).enode, asker.publicKeyHex);
    await waitFor(
      () => (a.metrics()['discv4.drop.unbonded'] ?? 0) === (before['discv4.drop.unbonded'] ?? 0) + 1,
      10_000,
      'the unbonded FINDNODE refused',
    );
    t.is(a.metrics()['discv4.out.neighbors'] ?? 0, before['discv4.out.neighbors'] ?? 0);

    // DPT pings us; we answer and ping back; its PONG is the proof (and puts it in our table).
    await dpt.ping(3, v4(a).enode);
    await waitFor(
      () => v4(a).table.get(bytesOf(asker.nodeIdHex))?.live === true,
      10_000,
      'DPT node 3 live in our table',
    );

    await dpt.findNeighbours(3, v4(a).enode, asker.publicKeyHex);
    const answer = await dpt.until(
      'our NEIGHBORS',
      () => received(dpt, 3, 'neighbours', a.localEnr.nodeIdHex)[0],
      10_000,
    );
    // Our live table but the asker itself, in one packet.
    t.deepEqual(without(liveIds(a), asker.nodeIdHex), ours);
    t.deepEqual(answer.nodes.map((n) => n.nodeIdHex).sort(), ours);
    for (const n of nodes.slice(0, 3)) {
      const got = answer.nodes.find((x) => x.nodeIdHex === n.nodeIdHex);
      t.deepEqual(got && { ip: got.ip, udp: got.udp, tcp: got.tcp }, { ip: HOST, udp: n.udp, tcp: n.tcp });
    }
    for (const n of [b, c]) {
      const got = answer.nodes.find((x) => x.nodeIdHex === n.localEnr.nodeIdHex);
      t.deepEqual(got && { ip: got.ip, udp: got.udp, tcp: got.tcp }, { ip: HOST, udp: portOf(n), tcp: null });
    }
    t.is(received(dpt, 3, 'neighbours', a.localEnr.nodeIdHex).length, 1, 'the refused FINDNODE got nothing');
    t.is(a.metrics()['discv4.drop.unbonded'], (before['discv4.drop.unbonded'] ?? 0) + 1);
    t.deepEqual(dptDrops(dpt), []);
    t.log(`${Date.now() - started} ms`);
  },
);

test.serial('ENRREQUEST at DPT (no EIP-868) times out cleanly, and both sides carry on', async (t) => {
  const started = Date.now();
  const dpt = await dptNodes(t, 1);
  const [d] = dpt.nodes;
  if (d === undefined) throw new Error('no DPT node');
  const a = await ourNode(t);
  const aId = a.localEnr.nodeIdHex;

  const asked = Date.now();
  const err = await t.throwsAsync(v4(a).requestEnr(d.enode));
  const took = Date.now() - asked;
  t.is((err as Error & { code?: string }).code, 'ERR_REQUEST_TIMEOUT');
  // The bond (a PING, at most bondWaitMs) and then the request's own time limit.
  t.true(took >= REQUEST_TIMEOUT_MS - 50, `${took} ms`);
  t.true(took < REQUEST_TIMEOUT_MS * 2 + 5_000, `${took} ms`);
  t.is(a.metrics()['discv4.out.enrrequest'], 1);
  // No wait left behind (our table upkeep may have a PING of its own in flight for a moment).
  await waitFor(() => v4(a).state()['state.discv4.pendingReplies'] === 0, 5_000, 'no reply awaited');

  // DPT could not read the packet type (ENRREQUEST is 5) and dropped it; it read all our other
  // packets (PING, PONG, and those of our own table upkeep); and it still works, both ways.
  await dpt.until('DPT to drop our ENRREQUEST', () =>
    dpt.events(0).find((e) => e.event === 'drop' && e.packetType === 5),
  );
  t.deepEqual(
    dpt.events(0).flatMap((e) => (e.event === 'drop' ? [e.packetType] : [])),
    [5],
  );
  const pong = await v4(a).ping(d.enode);
  t.is(pong.to.udp, portOf(a));
  const back = await dpt.ping(0, v4(a).enode);
  t.is(back.nodeIdHex, aId);
  t.log(`ENRREQUEST rejected after ${took} ms; ${Date.now() - started} ms`);
});

test.serial('a lookup over a network of 8 DPT nodes puts every one of them in our table', async (t) => {
  const started = Date.now();
  const N = 8;
  const dpt = await dptNodes(t, N);
  const { nodes } = dpt;
  // A star: each DPT node knows node 0 (and whatever node 0's answers tell it).
  for (let i = 1; i < N; i++) await dpt.bootstrap(i, nodes[0]!.enode);
  await dpt.until(
    'DPT node 0 to know the other seven',
    () => (nodes.slice(1).every((n) => dpt.known(0).has(n.nodeIdHex)) ? true : undefined),
    30_000,
  );

  const a = await ourNode(t);
  v4(a).addNode(nodes[0]!.enode);
  const target = nodes[5]!;
  const lookupStarted = Date.now();
  const closest = await v4(a).lookup(bytesOf(target.publicKeyHex));
  const lookupMs = Date.now() - lookupStarted;
  const dptIds = nodes.map((n) => n.nodeIdHex).sort();
  const inTable = () =>
    new Set(
      v4(a)
        .table.entries()
        .map((e) => e.enr.nodeIdHex),
    );
  t.deepEqual(
    dptIds.filter((id) => !inTable().has(id)),
    [],
    'every DPT node in our table',
  );
  // Every DPT node answered; the target's own node is the closest to keccak256(its key).
  t.deepEqual(closest.map((n) => n.nodeIdHex).sort(), dptIds);
  t.is(closest[0]?.nodeIdHex, target.nodeIdHex);
  const ids = closest.map((n) => n.nodeId);
  t.deepEqual([...envCrypto.closest(bytesOf(target.nodeIdHex), Buffer.concat(ids), ids.length)], [...ids.keys()]);

  // Table upkeep then pings what the lookup found: all of them turn live.
  await waitFor(() => dptIds.every((id) => liveIds(a).has(id)), 30_000, 'every DPT node live in our table', 20);
  t.deepEqual(dptDrops(dpt), []);
  t.log(`lookup ${lookupMs} ms; all live after ${Date.now() - lookupStarted} ms; ${Date.now() - started} ms`);
});

test.serial('our crawler finds every node of a DPT network from one of them', async (t) => {
  const N = 10;
  const dpt = await dptNodes(t, N);
  const { nodes } = dpt;
  // A chain with a star: node i knows node i - 1, and node 0 hears of everyone who bonds with it;
  // no DPT node knows all the others at the start, so the crawl must follow the tables.
  for (let i = 1; i < N; i++) await dpt.bootstrap(i, nodes[i - 1]!.enode);
  const a = await ourNode(t);
  const summary = await crawl<V4Node>(
    discv4Asker(v4(a), a.nodeId, new TargetKeys(envCrypto)),
    [V4Node.fromEnode(envCrypto, nodes[N - 1]!.enode)],
    // DPT never answers ENRREQUEST: each node costs three time limits of the record request.
    { concurrency: 16, rtt: { minMs: 1_000, maxMs: 2_000 }, seedTimeoutMs: 1_000 },
  );
  const found = new Set(summary.nodes.map((n) => n.enr.nodeIdHex));
  t.deepEqual(
    nodes.map((n) => n.nodeIdHex).filter((id) => !found.has(id)),
    [],
    'every DPT node found',
  );
  const answered = summary.nodes.filter((n) => n.answered).map((n) => n.enr.nodeIdHex);
  t.true(
    nodes.every((n) => answered.includes(n.nodeIdHex)),
    'every DPT node answered',
  );
  // DPT has no EIP-868: nodes are reported without a record, with the endpoints their peers gave.
  for (const n of summary.nodes) {
    const known = nodes.find((d) => d.nodeIdHex === n.enr.nodeIdHex);
    if (known === undefined) continue;
    t.is(n.enr.record, undefined);
    t.is(n.enr.udp, known.udp);
  }
  t.log(`${summary.found} found, ${summary.requests} requests, ${Math.round(summary.durationMs)} ms`);
});
