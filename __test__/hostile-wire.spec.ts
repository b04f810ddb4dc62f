/**
 * The open internet (issue 11), hostile packets: spoofed junk from a bootnode's address, floods of
 * inbound identities, WHOAREYOU replays and repeats, bursts against the handshake budget. One test
 * per attack on the in-memory network at public addresses (every limit applies); each shows the
 * node keeps working and nothing escapes to the process. Review findings covered
 * (../shared/reviews/code-review-502c9db.md): H4 M4 M7.
 */
import { randomFillSync } from 'node:crypto';
import test from 'ava';
import type { Discv5, MemoryNetwork } from '../ts/index.js';
import { encodeRandomPacket, encodeWhoareyou } from '../ts/packet/encode.js';
import type { SocketAddress } from '../ts/transport/types.js';
import {
  addressOf,
  HostilePeer,
  honestNetwork,
  honestNode,
  hostile,
  packetFlag,
  packetNonce,
  publicV4,
  publicV6,
  settle,
  spoof,
  untilLive,
  waitFor,
} from './helpers/hostile.js';
import { envCrypto as c } from './helpers/nodes.js';

const random32 = () => randomFillSync(new Uint8Array(32));
const sameSocket = (a: SocketAddress, b: SocketAddress) => a.ip === b.ip && a.port === b.port;
const _hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test.serial(
  "H4: 1,000 spoofed junk datagrams from a bootnode's address neither ban nor evict it",
  hostile(async (t, network) => {
    const node = await honestNode(t, network, '203.0.113.40');
    const boot = await honestNode(t, network, '203.0.113.41');
    node.addEnr(boot.localEnr);
    const bootEntry = () => node.table().find((e) => e.nodeId === boot.localEnr.nodeIdHex);
    await waitFor(() => bootEntry()?.live === true, 30_000, 'the bootnode live');
    for (let i = 0; i < 1_000; i++) {
      spoof(network, randomFillSync(new Uint8Array(63 + (i % 200))), addressOf(boot), addressOf(node));
    }
    await settle(5);
    t.is((await node.ping(boot.localEnr)).port, addressOf(node).port, 'the node still pings the bootnode');
    t.is((await boot.ping(node.localEnr)).port, addressOf(boot).port, 'and the bootnode still reaches the node');
    t.is(bootEntry()?.live, true, 'the bootnode stays live in the table');
    t.true((await node.findNode(random32())).length > 0 || node.table().length > 0);
  }, 120_000),
);

/** Inbound identities: each pings `node` (a handshake it starts), from its own address. */
async function flood(t: Parameters<typeof honestNode>[0], network: MemoryNetwork, node: Discv5, ips: string[]) {
  const peers = await Promise.all(ips.map((ip) => HostilePeer.start(t, network, ip)));
  const answered = await Promise.all(peers.map((p) => p.ping(node)));
  const ids = new Set(peers.map((p) => p.enr.nodeIdHex));
  return Object.assign(ids, { answered: answered.filter(Boolean).length });
}

function perBucket(node: Discv5, ids: Set<string>): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of node.table()) if (ids.has(e.nodeId)) out.set(e.distance, (out.get(e.distance) ?? 0) + 1);
  return out;
}

for (const family of [4, 6] as const) {
  const subnet = family === 4 ? 'one /24' : 'one /64';
  test.serial(
    `M7: a flood of inbound identities from ${subnet}: subnet limits hold, honest entries stay`,
    hostile(async (t, network) => {
      const honest = await honestNetwork(t, network, 8, { ip: family === 4 ? publicV4 : publicV6 });
      const node = await honestNode(t, network, family === 4 ? '203.0.113.70' : '2001:db8:700::1');
      node.addEnr((honest[0] as Discv5).localEnr);
      await node.findNode(node.nodeId);
      await untilLive(node, 4);
      const honestBefore = node
        .table()
        .filter((e) => e.live)
        .map((e) => e.nodeId);

      const ips = Array.from({ length: 80 }, (_, i) =>
        family === 4 ? `198.51.100.${i + 1}` : `2001:db8:bad::${(i + 1).toString(16)}`,
      );
      const sybils = await flood(t, network, node, ips);
      const buckets = perBucket(node, sybils);
      const total = [...buckets.values()].reduce((a, b) => a + b, 0);
      t.true(total <= 10, `${total} entries from ${subnet} in the table (limit 10)`);
      t.true(
        [...buckets.values()].every((x) => x <= 2),
        `at most 2 from ${subnet} per bucket: ${JSON.stringify([...buckets])}`,
      );
      const ids = new Set(node.table().map((e) => e.nodeId));
      t.deepEqual(
        honestBefore.filter((id) => !ids.has(id)),
        [],
        'every honest live entry stays',
      );
      t.true((await node.findNode(random32())).length > 0, 'lookups still work');
    }, 180_000),
  );
}

test.serial(
  'M7: inbound identities from many subnets take at most incomingPerBucket (8) places in a bucket',
  hostile(async (t, network) => {
    const node = await honestNode(t, network, '203.0.113.80');
    const sybils = await flood(
      t,
      network,
      node,
      Array.from({ length: 64 }, (_, i) => publicV4(4_000 + i)),
    );
    const buckets = perBucket(node, sybils);
    t.true(
      [...buckets.values()].some((x) => x > 0),
      `inbound identities do enter the table (${sybils.answered} of 64 pings answered; table ${node.table().length})`,
    );
    t.true(
      [...buckets.values()].every((x) => x <= 8),
      `inbound entries per bucket: ${JSON.stringify([...buckets])} (cap 8)`,
    );
  }, 180_000),
);

test.serial(
  'M4: a replayed WHOAREYOU gets at most two more handshakes; a new challenge for the same request, none',
  hostile(async (t, network) => {
    const a = await honestNode(t, network, '203.0.113.90', { config: { requestTimeoutMs: 5_000, requestRetries: 0 } });
    const b = await honestNode(t, network, '203.0.113.91');
    const [aAt, bAt] = [addressOf(a), addressOf(b)];
    let handshakes = 0;
    let whoareyou: Uint8Array | undefined;
    network.intercept((data, from, to) => {
      if (sameSocket(from, aAt) && sameSocket(to, bAt) && packetFlag(data, b.nodeId) === 2) {
        handshakes++;
        return false; // b never answers: a's request stays pending
      }
      if (sameSocket(from, bAt) && sameSocket(to, aAt) && packetFlag(data, a.nodeId) === 1)
        whoareyou ??= Uint8Array.from(data);
      return true;
    });
    const pending = a.ping(b.localEnr).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await waitFor(() => handshakes === 1, 30_000, "a's handshake");
    const challenge = whoareyou as Uint8Array;
    for (let i = 0; i < 50; i++) spoof(network, challenge, bAt, aAt);
    await settle(5);
    t.true(handshakes <= 3, `50 copies of one WHOAREYOU drew ${handshakes - 1} more handshakes (at most 2)`);
    const beforeForged = handshakes;
    const nonce = packetNonce(challenge, a.nodeId) as Uint8Array;
    const forged = encodeWhoareyou(c, a.nodeId, nonce, randomFillSync(new Uint8Array(16)), 0n).packet;
    spoof(network, forged, bAt, aAt);
    await settle(5);
    t.is(handshakes, beforeForged, 'a second challenge for the same request nonce gets no handshake');
    network.intercept(undefined);
    await pending;
  }, 120_000),
);

test.serial(
  'M4: a WHOAREYOU for a request already answered gets nothing; the session keeps working',
  hostile(async (t, network) => {
    const a = await honestNode(t, network, '203.0.113.92');
    const b = await honestNode(t, network, '203.0.113.93');
    const [aAt, bAt] = [addressOf(a), addressOf(b)];
    let whoareyou: Uint8Array | undefined;
    const sent: number[] = [];
    network.intercept((data, from, to) => {
      if (sameSocket(from, aAt) && sameSocket(to, bAt)) sent.push(packetFlag(data, b.nodeId) ?? -1);
      if (sameSocket(from, bAt) && sameSocket(to, aAt) && packetFlag(data, a.nodeId) === 1)
        whoareyou ??= Uint8Array.from(data);
      return true;
    });
    await a.ping(b.localEnr);
    t.truthy(whoareyou, 'the WHOAREYOU was captured');
    const before = sent.length;
    for (let i = 0; i < 20; i++) spoof(network, whoareyou as Uint8Array, bAt, aAt);
    await settle(5);
    t.deepEqual(sent.slice(before), [], 'nothing sent in answer to a WHOAREYOU for an answered request');
    await a.ping(b.localEnr);
    t.false(sent.slice(before).includes(2), 'the next request needs no new handshake');
  }, 120_000),
);

test.serial(
  'M7: a burst of new identities from 2,000 addresses meets the global handshake budget; sessions go on',
  hostile(async (t, network) => {
    // handshakesTotalPerSecond / handshakesTotalBurst: the global budget (issue 11); 1 per second makes
    // the bound independent of how fast this machine runs.
    const node = await honestNode(t, network, '203.0.113.110', {
      config: { handshakesTotalPerSecond: 1, handshakesTotalBurst: 50 },
    });
    const friend = await honestNode(t, network, '203.0.113.111');
    await friend.ping(node.localEnr); // a session before the burst
    const at = addressOf(node);
    let whoareyou = 0;
    network.intercept((data, from) => {
      if (sameSocket(from, at) && data.length === 63) whoareyou++;
      return true;
    });
    for (let i = 0; i < 2_000; i++) {
      const packet = encodeRandomPacket(c, node.nodeId, random32(), randomFillSync(new Uint8Array(12)));
      spoof(network, packet, { ip: publicV4(5_000 + i), port: 30303, family: 4 }, at);
    }
    await settle(5);
    t.true(whoareyou <= 100, `${whoareyou} WHOAREYOU for 2,000 new identities (budget: burst 50 + 1/s)`);
    t.is((await friend.ping(node.localEnr)).port, addressOf(friend).port, 'an established session is unaffected');
  }, 120_000),
);
