/**
 * The open internet (issue 11), hostile records: malformed typed values, unreachable and
 * relay-forbidden records, records that move to a victim's address, lying PONGs and throwing user
 * code. One test per attack on the in-memory network at public addresses (every limit applies);
 * each shows the node keeps working and nothing escapes to the process. Review findings covered
 * (../shared/reviews/code-review-502c9db.md): H1 H2 H3 M3 M6.
 */
import { randomFillSync } from 'node:crypto';
import test from 'ava';
import type { Discv5 } from '../ts/index.js';
import { logDistance } from '../ts/kademlia/distance.js';
import { encode as rlp } from '../ts/rlp/rlp.js';
import type { SocketAddress } from '../ts/transport/types.js';
import {
  addressOf,
  atDistances,
  DualTransport,
  HostilePeer,
  honestNetwork,
  honestNode,
  hostile,
  joinNetwork,
  poolAround,
  publicV4,
  publicV6,
  signRaw,
  waitFor,
} from './helpers/hostile.js';
import { envCrypto as c } from './helpers/nodes.js';

const random32 = () => randomFillSync(new Uint8Array(32));
const sameSocket = (a: SocketAddress, b: SocketAddress) => a.ip === b.ip && a.port === b.port;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Entries whose raw values break the typed getters' rules; each record is otherwise valid and signed. */
const MALFORMED: Record<string, { key: string; raw: Uint8Array }> = {
  'eth2 of 3 bytes': { key: 'eth2', raw: rlp(Uint8Array.of(1, 2, 3)) },
  'eth2 as a list': { key: 'eth2', raw: rlp([new Uint8Array(16)]) },
  'attnets of 7 bytes': { key: 'attnets', raw: rlp(new Uint8Array(7).fill(0xff)) },
  'syncnets with bits beyond 4': { key: 'syncnets', raw: rlp(Uint8Array.of(0xff)) },
  'cgc of 9 bytes': { key: 'cgc', raw: rlp(new Uint8Array(9).fill(1)) },
  'nfd of 3 bytes': { key: 'nfd', raw: rlp(Uint8Array.of(1, 2, 3)) },
  'eth as a byte string': { key: 'eth', raw: rlp(Uint8Array.of(1, 2, 3)) },
  'eth of the wrong shape': { key: 'eth', raw: rlp([[Uint8Array.of(1)], Uint8Array.of(2)]) },
};

test.serial(
  'H2: records with malformed typed values never crash the README predicate, a tableFilter or a listener',
  hostile(async (t, network) => {
    const digest = Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd);
    const eth2 = { forkDigest: digest, nextForkVersion: Uint8Array.of(0, 0, 0, 1), nextForkEpoch: 2n ** 64n - 1n };
    const honest = await honestNetwork(t, network, 12, { entries: (i) => (i % 3 === 1 ? { eth2 } : undefined) });
    const eth2Ids = new Set(honest.filter((n) => n.localEnr.has('eth2')).map((n) => n.localEnr.nodeIdHex));

    // Two peers serve, at every distance asked near the top, one signed record per malformed kind.
    const kinds = Object.entries(MALFORMED);
    const hostileIds = new Set<string>();
    const peers: HostilePeer[] = [];
    for (const ip of ['203.0.113.1', '203.0.113.2']) {
      const peer = await HostilePeer.start(t, network, ip);
      const pool = poolAround(peer.nodeId, kinds.length / 4, (key, n) => {
        const [, { key: k, raw }] = kinds[n % kinds.length] as [string, { key: string; raw: Uint8Array }];
        return signRaw(key, { ip: publicV4(1_000 + hostileIds.size), udp: 30303 }, { [k]: raw });
      });
      // Every kind at least once per peer, and each record's flaw reported by invalidKeys().
      for (const r of pool) hostileIds.add(r.nodeIdHex);
      peer.behaviour.serve = (distances) => atDistances(pool, peer.nodeId, distances);
      peers.push(peer);
    }
    // A node as the README and a consensus client would run it.
    let filtered = 0;
    let discovered = 0;
    const node = await honestNode(t, network, '203.0.113.10', {
      tableFilter: (e) => {
        if (hostileIds.has(e.nodeIdHex)) filtered++;
        const fd = e.forkDigest;
        return fd === undefined || hex(fd) === hex(digest);
      },
    });
    node.on('discovered', (e) => {
      if (hostileIds.has(e.nodeIdHex)) discovered++;
      void [e.forkDigest, e.eth2, e.attnets, e.syncnets, e.cgc, e.nfd, e.eth];
    });
    for (const p of peers) node.addEnr(p.enr);
    node.addEnr((honest[0] as Discv5).localEnr);

    const found = await node.findNodesMatching((e) => e.eth2 !== undefined, { count: 3, timeoutMs: 60_000 });
    t.true(found.length >= 3, `found ${found.length} of 3 eth2 nodes`);
    t.true(
      found.every((e) => eth2Ids.has(e.nodeIdHex)),
      'only honest eth2 nodes (a malformed eth2 reads as absent)',
    );
    const closest = await node.findNode(random32());
    t.true(closest.length > 0, 'a lookup after the attack still finds nodes');
    t.true(
      peers.every((p) => p.asked.findnode > 0) && discovered + filtered > 0,
      'the malformed records reached the node',
    );
    for (const [title, { key, raw }] of kinds) {
      const r = signRaw(c.generatePrivateKey(), { ip: '45.1.1.1', udp: 30303 }, { [key]: raw });
      const invalid = (r as unknown as { invalidKeys?: () => string[] }).invalidKeys?.();
      t.deepEqual(invalid, [key], `${title}: enr.invalidKeys() names it`);
      t.is((r as unknown as Record<string, unknown>)[key], undefined, `${title}: the getter reads undefined`);
    }
  }, 180_000),
);

test.serial(
  'H1, M3: unreachable and relay-forbidden records in NODES are dropped; lookups converge, nothing dialled',
  hostile(async (t, network) => {
    const honest = await honestNetwork(t, network, 10);
    const bad: Record<string, (i: number) => Parameters<typeof signRaw>[1]> = {
      'IPv6 only': (i) => ({ ip6: `2001:db8:77::${i + 1}`, udp6: 30303 }),
      loopback: () => ({ ip: '127.0.0.1', udp: 30303 }),
      'LAN 10/8': (i) => ({ ip: `10.0.0.${i + 1}`, udp: 30303 }),
      'LAN 192.168/16': (i) => ({ ip: `192.168.1.${i + 1}`, udp: 30303 }),
      unspecified: () => ({ ip: '0.0.0.0', udp: 30303 }),
      'port 0': (i) => ({ ip: publicV4(2_000 + i), udp: 0 }),
      'port 80': (i) => ({ ip: publicV4(2_100 + i), udp: 80 }),
      'IPv6 only, second': (i) => ({ ip6: `2001:db8:78::${i + 1}`, udp6: 30303 }),
    };
    const kinds = Object.values(bad);
    const peer = await HostilePeer.start(t, network, '203.0.113.20');
    const pool = poolAround(peer.nodeId, 2, (key, n) =>
      signRaw(key, (kinds[n % kinds.length] as (i: number) => object)(n)),
    );
    const badIds = new Set(pool.map((r) => r.nodeIdHex));
    peer.behaviour.serve = (distances) => atDistances(pool, peer.nodeId, distances);

    const node = await honestNode(t, network, '203.0.113.21');
    const dialled: string[] = [];
    const from = addressOf(node);
    network.intercept((_d, src, to) => {
      if (sameSocket(src, from) && !to.ip.startsWith('45.') && !to.ip.startsWith('203.0.113.')) dialled.push(to.ip);
      return true;
    });
    node.addEnr(peer.enr);
    node.addEnr((honest[0] as Discv5).localEnr);
    const honestIds = new Set(honest.map((n) => n.localEnr.nodeIdHex));
    for (let i = 0; i < 3; i++) {
      const result = await node.lookup(random32());
      t.true(
        result.closest.some((e) => honestIds.has(e.nodeIdHex)),
        `lookup ${i} found honest nodes (stop: ${result.stop})`,
      );
    }
    t.true(peer.asked.findnode > 0, 'the hostile peer was asked');
    t.deepEqual(
      node
        .table()
        .filter((e) => badIds.has(e.nodeId))
        .map((e) => `${e.enr.ip ?? e.enr.ip6}:${e.enr.udp ?? e.enr.udp6}`),
      [],
      'no unreachable or forbidden record in the table',
    );
    t.deepEqual([...new Set(dialled)], [], 'no packet to a loopback, LAN, unspecified or IPv6 address named by a peer');
    const drops = Object.entries(node.metrics())
      .filter(([k]) => k.startsWith('drop.record-'))
      .reduce((n, [, v]) => n + v, 0);
    t.true(drops > 0, 'the dropped records are counted (drop.record-*)');
  }, 180_000),
);

for (const [only, others] of [
  [6, 4],
  [4, 6],
] as const) {
  test.serial(
    `H1: an IPv${only}-only node looks up in a mostly IPv${others} network (some nodes dual-stack)`,
    hostile(async (t, network) => {
      const single = others === 4 ? publicV4 : publicV6;
      // A dual-stack bootnode first, then 10 single-family nodes and 4 more dual-stack ones.
      const place = (i: number) =>
        i === 0 || i > 10 ? new DualTransport(network, publicV4(100 + i), publicV6(100 + i)) : single(i);
      const nodes = [];
      for (let i = 0; i < 15; i++) nodes.push(await honestNode(t, network, place(i)));
      await joinNetwork(nodes);
      const dualIds = new Set(nodes.filter((n) => n.addresses.length === 2).map((n) => n.localEnr.nodeIdHex));

      const node = await honestNode(t, network, only === 6 ? '2001:db8:600::1' : '203.0.113.60');
      node.addEnr((nodes[0] as Discv5).localEnr);
      let reached = 0;
      for (let i = 0; i < 3; i++) {
        const found = await node.findNode(random32());
        reached += found.filter((e) => dualIds.has(e.nodeIdHex)).length;
      }
      await node.findNode(node.nodeId);
      t.true(reached > 0, 'lookups find the dual-stack nodes');
      // Entries join the table as their nodes answer: on a loaded machine that can come after the
      // lookups have returned. Wait (bounded) for more than the bootnode, then check every entry.
      await waitFor(() => node.table().length > 1, 30_000, 'entries beyond the bootnode', 50);
      t.deepEqual(
        node
          .table()
          .filter((e) => (only === 6 ? e.enr.ip6 === undefined : e.enr.ip === undefined))
          .map((e) => e.nodeId),
        [],
        `the table holds only nodes reachable over IPv${only}`,
      );
    }, 180_000),
  );
}

test.serial(
  'H3: a newer record that moves a live entry to a victim address is not served until it answers there',
  hostile(async (t, network) => {
    const node = await honestNode(t, network, '203.0.113.30', { config: { revalidateLiveIntervalMs: 200 } });
    const mover = await HostilePeer.start(t, network, '203.0.113.31');
    const asker = await honestNode(t, network, '203.0.113.32');
    const victim = await honestNode(t, network, '203.0.113.33');
    node.addEnr(mover.enr);
    const entry = () => node.table().find((e) => e.nodeId === mover.enr.nodeIdHex);
    await waitFor(() => entry()?.live === true, 30_000, 'the mover live in the table');
    const d = logDistance(node.nodeId, mover.nodeId);
    const served = async () =>
      (await asker.findNodes(node.localEnr, [d])).find((e) => e.nodeIdHex === mover.enr.nodeIdHex);
    t.is((await served())?.seq, 1n, 'served while live at its real endpoint');

    // seq 2 names the victim's endpoint; its PONGs now say seq 2, so the node fetches the record.
    const v = addressOf(victim);
    mover.move({ ip: v.ip, udp: v.port });
    await waitFor(
      () => node.findEnr(mover.nodeId)?.seq === 2n || entry() === undefined,
      60_000,
      'the node to learn seq 2 (or drop the entry)',
    );
    const after = entry();
    t.false(after?.live === true && after.enr.seq === 2n, 'the moved entry is not live');
    const again = await served();
    t.false(
      again !== undefined && again.ip === v.ip && again.udp === v.port,
      "the record naming the victim's endpoint is not in the node's NODES answers",
    );
  }, 180_000),
);

test.serial(
  'M6: PONGs reporting mapped, private, zero, port-0 or one-subnet addresses never move our record',
  hostile(async (t, network) => {
    const cases: [string, (i: number) => string, (real: SocketAddress) => { ip: string; port: number }][] = [
      // Our own address as a dual-stack peer may report it: IPv4-mapped IPv6. Read as IPv4 it is where
      // we are (no change); filed as IPv6 text, it made the old code's record update throw in ping().
      ['IPv4-mapped IPv6', (i) => publicV4(3_000 + i), (r) => ({ ip: `::ffff:${r.ip}`, port: r.port })],
      ['private', (i) => publicV4(3_100 + i), (r) => ({ ip: '10.1.2.3', port: r.port })],
      ['zero', (i) => publicV4(3_200 + i), (r) => ({ ip: '0.0.0.0', port: r.port })],
      ['port 0', (i) => publicV4(3_300 + i), () => ({ ip: '45.201.0.1', port: 0 })],
      ['public, but all voters in one /24', (i) => `198.51.100.${i + 1}`, (r) => ({ ip: '45.202.0.1', port: r.port })],
    ];
    let n = 0;
    for (const [title, ipOf, report] of cases) {
      const node = await honestNode(t, network, `203.0.113.${50 + n++}`, { config: { minVotes: 10 } });
      const before = { ip: node.localEnr.ip, udp: node.localEnr.udp, seq: node.localEnr.seq };
      const moves: string[] = [];
      node.on('socketUpdated', (a) => moves.push(`${a.ip}:${a.port}`));
      const failures: string[] = [];
      for (let i = 0; i < 12; i++) {
        const peer = await HostilePeer.start(t, network, ipOf(i), { pong: () => report(addressOf(node)) });
        await node.ping(peer.enr).catch((err: Error) => failures.push(`${err.name}: ${err.message}`));
      }
      t.deepEqual(failures, [], `${title}: every ping() resolved`);
      t.deepEqual(moves, [], `${title}: no socketUpdated`);
      t.deepEqual(
        { ip: node.localEnr.ip, udp: node.localEnr.udp, seq: node.localEnr.seq },
        before,
        `${title}: the record keeps its address`,
      );
      t.is(node.localEnr.ip6, undefined, `${title}: no IPv6 address appears in an IPv4 node's record`);
    }
  }, 180_000),
);

test.serial(
  'H2: throwing listeners, tableFilter and predicate: lookups, serving and TALK go on, callback.error counts them',
  hostile(async (t, network) => {
    const honest = await honestNetwork(t, network, 10);
    const boom = () => {
      throw new Error('a user callback threw');
    };
    const bootId = (honest[0] as Discv5).localEnr.nodeIdHex;
    const node = await honestNode(t, network, '203.0.113.100', {
      // Throws for half the records (never the bootnode's: the node needs one entry to look up at all).
      tableFilter: (e) => {
        if (e.nodeIdHex !== bootId && (e.nodeId[0] as number) % 2 === 1) boom();
        return true;
      },
    });
    node.on('discovered', boom);
    node.on('nodeInserted', boom);
    node.on('talkRequest', boom);
    node.registerTalkHandler('echo', (request) => request);
    node.addEnr((honest[0] as Discv5).localEnr);
    for (let i = 0; i < 3; i++) {
      t.true((await node.findNode(random32())).length > 0, `lookup ${i} found nodes`);
    }
    const matching = await node.findNodesMatching(
      (e) => {
        if ((e.nodeId[0] as number) % 3 === 0) boom();
        return true;
      },
      { count: 3, timeoutMs: 60_000 },
    );
    t.true(matching.length > 0, 'the predicate search goes on past a throwing predicate');
    await waitFor(() => node.table().some((e) => e.live), 30_000, 'a live entry to serve');
    const asker = honest[1] as Discv5;
    const distances = [
      ...new Set(
        node
          .table()
          .filter((e) => e.live)
          .map((e) => e.distance),
      ),
    ].slice(0, 3);
    t.true((await asker.findNodes(node.localEnr, distances)).length > 0, 'the node still serves FINDNODE');
    t.deepEqual([...(await asker.talkReq(node.localEnr, 'echo', Uint8Array.of(1, 2, 3)))], [1, 2, 3], 'TALK answered');
    t.true((node.metrics()['callback.error'] ?? 0) >= 4, `callback.error = ${node.metrics()['callback.error']}`);
  }, 180_000),
);
