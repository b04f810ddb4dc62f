/**
 * Soak (issue 6): a node on UDP loopback takes 200,000 junk datagrams and 20,000 fresh identities
 * completing handshakes, while a legitimate peer keeps running lookups through it. Its memory must
 * stay under the bound stated below, the legitimate lookups keep succeeding, nothing throws, and
 * metrics() shows what happened. Loopback is exempt from rate limits by default, so nothing here is
 * turned away early: every packet costs the node its full price. The node runs on native in both
 * suite runs (20,000 js handshakes would take minutes; js robustness is the wire fuzz's job).
 */
import { randomFillSync } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test, { type ExecutionContext } from 'ava';
import {
  type Crypto,
  Discv5,
  type Discv5Config,
  Enr,
  MemoryNetwork,
  type SocketAddress,
  type Transport,
  UdpTransport,
} from '../ts/index.js';
import { encodeMessage } from '../ts/message/codec.js';
import { MessageType } from '../ts/message/types.js';
import { DEFAULT_SESSION_CONFIG } from '../ts/session/config.js';
import { SessionLayer } from '../ts/session/layer.js';
import { Counters } from '../ts/util/metrics.js';
import { cryptoFor } from './helpers/backends.js';
import { startNode } from './helpers/nodes.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const JUNK = 200_000;
const IDENTITIES = 20_000;
/** The node's heap may grow by at most this much (its caches are bounded far below it). */
const HEAP_GROWTH_BOUND = 96 * 1024 * 1024;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test.serial(
  `${JUNK} junk datagrams and ${IDENTITIES} fresh identities: bounded memory, lookups keep working`,
  async (t) => {
    t.timeout(600_000);
    const c = cryptoFor('native');
    const victim = await startNode(t, 'udp', { backend: 'native', config: { requestTimeoutMs: 1_000 } });
    const peers: Discv5[] = [];
    for (let i = 0; i < 12; i++)
      peers.push(await startNode(t, 'udp', { backend: 'native', config: { requestTimeoutMs: 1_000 } }));
    for (const p of peers) p.addEnr(victim.localEnr);
    await Promise.all(peers.map((p) => p.findNode(p.nodeId)));
    const legit = peers[0] as Discv5;
    const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
    const before = heap();

    // A legitimate peer keeps looking up while the node is under load.
    const legitWork = keepLookingUp(legit);

    // Junk: random bytes and random packets of every size, in bursts.
    const junk = createSocket('udp4');
    await new Promise<void>((r) => junk.bind(0, '127.0.0.1', () => r()));
    t.teardown(() => junk.close());
    // Paced, so that the kernel delivers them rather than dropping what the node cannot read in time.
    const received = () => victim.metrics()['in.datagrams'] ?? 0;
    const start = received();
    for (let sent = 0; sent < JUNK; sent += 200) {
      for (let i = 0; i < 200; i++) junk.send(randomFillSync(new Uint8Array(63 + ((sent + i) % 1200))), to.port, to.ip);
      const deadline = Date.now() + 1_000;
      while (received() - start < sent * 0.95 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    }

    // Fresh identities, each completing a handshake (random packet, WHOAREYOU, handshake with its record, PONG).
    const slots = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const transport = new UdpTransport({ ip4: { ip: '127.0.0.1', port: 0 } });
        await transport.start();
        t.teardown(() => transport.stop());
        return transport;
      }),
    );
    const handshakes = await freshIdentities(c, victim, slots, 2_000);
    const { lookups, emptyLookups } = await legitWork.stop();

    const after = heap();
    const m = victim.metrics();
    t.log(
      `heap +${((after - before) / 1048576).toFixed(1)} MiB; handshakes ${handshakes}; legit lookups ${lookups} (${emptyLookups} empty)`,
    );
    t.log(
      Object.entries(m)
        .filter(([k]) => k.startsWith('state.') || k.startsWith('handshake') || k === 'in.datagrams')
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
    t.true(after - before < HEAP_GROWTH_BOUND, `heap grew ${((after - before) / 1048576).toFixed(1)} MiB`);
    t.true(handshakes >= IDENTITIES * 0.99, `${handshakes} handshakes completed`);
    t.true((m['handshake.inbound'] ?? 0) >= IDENTITIES * 0.99);
    t.true((m['state.sessions'] ?? 0) <= victim.config.sessionCacheCapacity, 'sessions bounded');
    t.true((m['state.knownEnrs'] ?? 0) <= victim.config.enrCacheSize, 'records bounded');
    t.is(m['transport.error'], undefined, 'nothing escaped the receive path');
    t.true((m['in.datagrams'] ?? 0) >= JUNK * 0.95, `${m['in.datagrams']} datagrams reached the node`);
    // One process runs the node, 20,000 attackers and the peer at full CPU: a rare lookup may time out.
    t.true(lookups > 0 && emptyLookups <= lookups * 0.01, `${emptyLookups} of ${lookups} legitimate lookups empty`);
    t.is((await legit.ping(victim.localEnr)).port, legit.addresses[0]?.port as number);
  },
);

/**
 * The same load at public addresses on the in-memory network, where nothing is exempt: the gate's
 * rate limits, the handshake budgets (per IP and global) and the ban rules all work under load. The
 * junk comes from 1,000 forged sources, among them the legitimate peer's own address (spoofed junk
 * must not ban it). Fewer identities complete here (the budgets refuse many, which is the point);
 * the memory bound is the same, and the legitimate lookups must keep succeeding.
 */
test.serial(
  `public addresses: ${JUNK} spoofed junk datagrams and ${IDENTITIES} identities through the gate: bounded memory, lookups keep working`,
  async (t) => {
    t.timeout(600_000);
    const c = cryptoFor('native');
    const network = new MemoryNetwork();
    t.teardown(() => network.close());
    const config = { requestTimeoutMs: 3_000 };
    const at = (ip: string) => ({ network, ip });
    const victim = await startPublic(t, at('203.0.113.1'), config);
    const peers: Discv5[] = [];
    for (let i = 0; i < 12; i++) peers.push(await startPublic(t, at(`45.${i}.0.1`), config));
    for (const p of peers) p.addEnr(victim.localEnr);
    await Promise.all(peers.map((p) => p.findNode(p.nodeId)));
    const legit = peers[0] as Discv5;
    const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
    const legitAt = legit.addresses[0] as NonNullable<(typeof legit.addresses)[0]>;
    const before = heap();

    const legitWork = keepLookingUp(legit);

    // Junk from 1,000 forged sources (every 100th datagram "from" the legitimate peer), in bursts the
    // event loop works off before the next.
    const sources = Array.from({ length: 1_000 }, (_, i) =>
      i === 0 ? legitAt : { ip: `198.${18 + (i >> 8)}.${i & 255}.7`, port: 30303, family: 4 as const },
    );
    for (let sent = 0; sent < JUNK; sent += 1_000) {
      for (let i = 0; i < 1_000; i++) {
        const n = sent + i;
        const from = sources[n % 100 === 0 ? 0 : n % sources.length] as (typeof sources)[0];
        network.route(randomFillSync(new Uint8Array(63 + (n % 1200))), from, to);
      }
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }

    // Fresh identities from 200 public addresses; each waits at most 1 s for its PONG (the budgets
    // refuse many of them: a refused one just times out).
    const slots = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const transport = network.transport(`46.${i >> 8}.${i & 255}.1`);
        await transport.start();
        t.teardown(() => transport.stop());
        return transport;
      }),
    );
    const handshakes = await freshIdentities(c, victim, slots, 1_000);
    const { lookups, emptyLookups } = await legitWork.stop();

    const after = heap();
    const m = victim.metrics();
    const gateDrops = Object.entries(m)
      .filter(([k]) => k.startsWith('drop.rate-') || k === 'drop.handshake-budget' || k === 'drop.banned')
      .map(([k, v]) => `${k}=${v}`);
    t.log(
      `heap +${((after - before) / 1048576).toFixed(1)} MiB; handshakes ${handshakes}; legit lookups ${lookups} (${emptyLookups} empty); ${gateDrops.join(' ')}`,
    );
    t.true(after - before < HEAP_GROWTH_BOUND, `heap grew ${((after - before) / 1048576).toFixed(1)} MiB`);
    t.true(gateDrops.length > 0, 'the gate turned traffic away (rate limits or handshake budget)');
    t.true(handshakes > 0, `${handshakes} handshakes completed`);
    t.true((m['state.sessions'] ?? 0) <= victim.config.sessionCacheCapacity, 'sessions bounded');
    t.true((m['state.knownEnrs'] ?? 0) <= victim.config.enrCacheSize, 'records bounded');
    t.is(m['transport.error'], undefined, 'nothing escaped the receive path');
    t.true(lookups > 0 && emptyLookups <= lookups * 0.01, `${emptyLookups} of ${lookups} legitimate lookups empty`);
    // Junk forged from the legitimate peer's address did not get it banned.
    t.is((await legit.ping(victim.localEnr)).port, legitAt.port);
    t.is((await victim.ping(legit.localEnr)).port, to.port);
  },
);

async function startPublic(
  t: ExecutionContext,
  place: { network: MemoryNetwork; ip: string },
  config: Partial<Discv5Config>,
): Promise<Discv5> {
  const node = await Discv5.create({
    privateKey: cryptoFor('native').generatePrivateKey(),
    crypto: cryptoFor('native'),
    transport: place.network.transport(place.ip),
    config,
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

/** A legitimate peer looking up random ids until told to stop: how many lookups, and how many came back empty. */
function keepLookingUp(legit: Discv5): { stop(): Promise<{ lookups: number; emptyLookups: number }> } {
  let running = true;
  let lookups = 0;
  let emptyLookups = 0;
  const work = (async () => {
    while (running) {
      const found = await legit.findNode(randomFillSync(new Uint8Array(32)));
      lookups++;
      if (found.length === 0) emptyLookups++;
    }
  })();
  return {
    async stop() {
      running = false;
      await work;
      return { lookups, emptyLookups };
    },
  };
}

/**
 * IDENTITIES fresh identities, spread over the slots' sockets, each completing a handshake with a
 * PING (random packet, WHOAREYOU, handshake with its record, PONG) or giving up after `waitMs`. A
 * new session layer takes its slot's socket over: one identity at a time per socket. Returns how many
 * got their PONG.
 */
async function freshIdentities(c: Crypto, victim: Discv5, slots: Transport[], waitMs: number): Promise<number> {
  const to = victim.addresses[0] as SocketAddress;
  const ping = encodeMessage({ type: MessageType.PING, requestId: Uint8Array.of(1), enrSeq: 1n });
  const contact = { nodeId: victim.nodeId, publicKey: victim.localEnr.publicKey, socket: to, enr: victim.localEnr };
  let handshakes = 0;
  await Promise.all(
    slots.map(async (transport) => {
      const address = transport.addresses[0] as SocketAddress;
      for (let i = 0; i < IDENTITIES / slots.length; i++) {
        const privateKey = c.generatePrivateKey();
        const enr = Enr.create(privateKey, { ip: address.ip, udp: address.port }, c);
        const session = new SessionLayer({
          crypto: c,
          transport,
          privateKey,
          nodeId: enr.nodeId,
          localEnr: () => enr,
          findEnr: () => undefined,
          counters: new Counters(),
          config: DEFAULT_SESSION_CONFIG,
        });
        const done = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), waitMs);
          session.on('message', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        session.sendRequest(contact, ping);
        if (await done) handshakes++;
      }
    }),
  );
  return handshakes;
}
