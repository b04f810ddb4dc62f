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
import test from 'ava';
import { EnrDecoder } from '../ts/enr/batch.js';
import { type Discv5, Enr, UdpTransport } from '../ts/index.js';
import { encodeMessage } from '../ts/message/codec.js';
import { MessageType } from '../ts/message/types.js';
import { DEFAULT_SESSION_CONFIG } from '../ts/session/config.js';
import { SessionLayer } from '../ts/session/layer.js';
import { Counters } from '../ts/util/metrics.js';
import { cryptoFor } from './helpers/backends.js';
import { inWaves } from './helpers/network.js';
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
    let running = true;
    let lookups = 0;
    let emptyLookups = 0;
    const legitWork = (async () => {
      while (running) {
        const found = await legit.findNode(randomFillSync(new Uint8Array(32)));
        lookups++;
        if (found.length === 0) emptyLookups++;
      }
    })();

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
    let handshakes = 0;
    const ping = encodeMessage({ type: MessageType.PING, requestId: Uint8Array.of(1), enrSeq: 1n });
    const contact = { nodeId: victim.nodeId, publicKey: victim.localEnr.publicKey, socket: to, enr: victim.localEnr };
    await inWaves(slots, 50, async (transport) => {
      for (let i = 0; i < IDENTITIES / slots.length; i++) {
        const privateKey = c.generatePrivateKey();
        const address = transport.addresses[0] as NonNullable<(typeof transport.addresses)[0]>;
        const enr = Enr.create(privateKey, { ip: address.ip, udp: address.port }, c);
        // A new session layer takes the slot's socket over: one identity at a time per socket.
        const session = new SessionLayer({
          crypto: c,
          transport,
          privateKey,
          nodeId: enr.nodeId,
          localEnr: () => enr,
          findEnr: () => undefined,
          decoder: new EnrDecoder(c, { cacheSize: 1 }),
          counters: new Counters(),
          config: DEFAULT_SESSION_CONFIG,
        });
        const done = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 2_000);
          session.on('message', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        session.sendRequest(contact, ping);
        if (await done) handshakes++;
      }
    });
    running = false;
    await legitWork;

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
