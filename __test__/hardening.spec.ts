/**
 * Hardening rules end to end (issue 6), each probed with the bad input it exists for. The in-memory
 * network lets nodes and attackers take public and LAN addresses.
 */
import { randomFillSync } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { Discv5, type Discv5Config, Enr, MemoryNetwork } from '../ts/index.js';
import { logDistance } from '../ts/kademlia/distance.js';
import { encodeRandomPacket } from '../ts/packet/encode.js';
import { socketAddress } from '../ts/transport/address.js';
import { DualTransport } from './helpers/hostile.js';
import { envCrypto as c, waitFor } from './helpers/nodes.js';

async function nodeAt(
  t: ExecutionContext,
  network: MemoryNetwork,
  ip: string,
  config: Partial<Discv5Config> = {},
  enr?: Enr,
  key?: Uint8Array,
) {
  const privateKey = key ?? c.generatePrivateKey();
  const node = await Discv5.create({
    privateKey,
    crypto: c,
    transport: network.transport(ip),
    ...(enr ? { enr } : {}),
    config: { requestTimeoutMs: 300, ...config },
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

async function attackerAt(t: ExecutionContext, network: MemoryNetwork, ip: string) {
  const transport = network.transport(ip);
  const received: Uint8Array[] = [];
  transport.onPacket((d) => received.push(d));
  await transport.start();
  t.teardown(() => transport.stop());
  return { transport, received };
}

test('rate limit per IP: a flood from one address is cut to the bucket; the handshake budget caps WHOAREYOU', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.1', {
    rateLimitIpPerSecond: 50,
    rateLimitIpBurst: 100,
    handshakesPerIpPerSecond: 5,
    handshakesBurstPerIp: 10,
  });
  const { transport, received } = await attackerAt(t, network, '198.51.100.7');
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  let sent = 0;
  for (let i = 0; i < 1_000; i++) {
    transport.send(
      encodeRandomPacket(c, victim.nodeId, randomFillSync(new Uint8Array(32)), randomFillSync(new Uint8Array(12))),
      to,
    );
    sent++;
  }
  await waitFor(() => (victim.metrics()['in.datagrams'] ?? 0) >= sent, 5_000, 'the flood');
  const m = victim.metrics();
  t.true((m['drop.rate-ip'] ?? 0) >= 850, `dropped ${m['drop.rate-ip']}`);
  t.true((m['out.packet.whoareyou'] ?? 0) <= 12, `${m['out.packet.whoareyou']} WHOAREYOU sent`);
  t.true((m['drop.handshake-budget'] ?? 0) > 0);
  await waitFor(() => received.length === (m['out.packet.whoareyou'] ?? 0), 5_000, 'the WHOAREYOU replies');
  t.is(received.length, m['out.packet.whoareyou'] ?? 0);
});

test('amplification: to an endpoint without a session we never send more bytes than it sent', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.2');
  const { transport, received } = await attackerAt(t, network, '198.51.100.8');
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  let bytesIn = 0;
  for (let i = 0; i < 40; i++) {
    const p = encodeRandomPacket(
      c,
      victim.nodeId,
      randomFillSync(new Uint8Array(32)),
      randomFillSync(new Uint8Array(12)),
    );
    bytesIn += p.length;
    transport.send(p, to);
  }
  await waitFor(() => received.length >= 40, 5_000, 'the answers');
  const bytesOut = received.reduce((n, d) => n + d.length, 0);
  t.true(
    received.every((d) => d.length === 63),
    'only WHOAREYOU (63 bytes)',
  );
  t.true(bytesOut <= bytesIn, `${bytesOut} out, ${bytesIn} in`);
});

test('garbage never earns a ban (anyone can spoof its source): the IP is still answered afterwards (H4)', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.3', { invalidPacketsToBan: 20, rateLimitIpPerSecond: 0 });
  const { transport } = await attackerAt(t, network, '198.51.100.9');
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  for (let i = 0; i < 1_000; i++) transport.send(randomFillSync(new Uint8Array(80)), to);
  await waitFor(() => (victim.metrics()['in.datagrams'] ?? 0) >= 1_000, 10_000, 'the garbage');
  t.is(victim.metrics()['ban.auto'], undefined, 'no automatic ban from unauthenticated garbage');
  await transport.stop();
  const honest = await nodeAt(t, network, '198.51.100.9');
  const pong = await honest.ping(victim.localEnr);
  t.is(pong.ip, '198.51.100.9');
  t.is(victim.metrics()['drop.banned'], undefined);
});

test('bans and permits per instance: a banned node id is dropped and leaves the table; a permitted IP skips the limits', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.4', { rateLimitIpPerSecond: 1, rateLimitIpBurst: 1 });
  const friend = await nodeAt(t, network, '198.51.100.10');
  victim.permitIp('198.51.100.10');
  for (let i = 0; i < 5; i++) await friend.ping(victim.localEnr);
  t.is(victim.metrics()['drop.rate-ip'], undefined, 'the permitted IP was never limited');
  const foe = await nodeAt(t, network, '198.51.100.11');
  victim.permitIp('198.51.100.11');
  await foe.ping(victim.localEnr);
  victim.banNode(foe.nodeId);
  await t.throwsAsync(foe.ping(victim.localEnr));
  t.true((victim.metrics()['drop.banned'] ?? 0) > 0);
  t.false(victim.table().some((e) => e.nodeId === foe.localEnr.nodeIdHex));
  // Another node in the same process is unaffected: nothing is global.
  const other = await nodeAt(t, network, '203.0.113.40');
  await foe.ping(other.localEnr);
  t.pass();
});

test('subnet limits: 2 per /24 in a bucket and 10 per /24 in the table; LAN addresses exempt', async (t) => {
  const network = new MemoryNetwork();
  const node = await nodeAt(t, network, '203.0.113.5');
  const at = (d: number, ip: string) => {
    for (;;) {
      const e = Enr.create(c.generatePrivateKey(), { ip, udp: 9000 }, c);
      if (logDistance(node.nodeId, e.nodeId) === d) return e;
    }
  };
  for (let i = 0; i < 3; i++) node.addEnr(at(256, `192.0.2.${i + 1}`));
  t.is(node.table().length, 2, 'a third from one /24 in one bucket is refused');
  for (const d of [255, 254, 253, 252, 251])
    for (let i = 0; i < 2; i++) node.addEnr(at(d, `192.0.2.${10 * d - 2500 + i}`));
  t.is(node.table().filter((e) => e.enr.ip?.startsWith('192.0.2.')).length, 10, 'ten from one /24 in the table');
  node.addEnr(at(250, '192.0.2.200'));
  t.is(node.table().filter((e) => e.enr.ip?.startsWith('192.0.2.')).length, 10);
  for (let i = 0; i < 4; i++) node.addEnr(at(256, `10.0.0.${i + 1}`));
  t.true(node.table().filter((e) => e.enr.ip?.startsWith('10.0.0.')).length >= 3, 'LAN addresses are exempt');
});

test('LAN and loopback records are served to LAN requesters, never to hosts on the internet', async (t) => {
  const network = new MemoryNetwork();
  const node = await nodeAt(t, network, '10.0.0.1', { inboundPingDelayMs: 50 });
  const lanPeers = await Promise.all([2, 3, 4].map((i) => nodeAt(t, network, `10.0.0.${i}`)));
  for (const p of lanPeers) await p.ping(node.localEnr);
  await waitFor(() => node.table().filter((e) => e.live).length === 3, 5_000, 'the peers live');
  const distances = [...new Set(lanPeers.map((p) => logDistance(node.nodeId, p.nodeId)))].slice(0, 3);
  const fromLan = await nodeAt(t, network, '10.0.0.99');
  const fromInternet = await nodeAt(t, network, '198.51.100.12');
  t.true((await fromLan.findNodes(node.localEnr, distances)).length > 0);
  t.is((await fromInternet.findNodes(node.localEnr, distances)).length, 0);
});

test('a record whose address is not where its packets come from is answered, reported, and not added', async (t) => {
  const network = new MemoryNetwork();
  const node = await nodeAt(t, network, '203.0.113.6');
  const key = c.generatePrivateKey();
  const lying = Enr.create(key, { ip: '203.0.113.99', udp: 1234 }, c);
  const liar = await nodeAt(t, network, '203.0.113.7', {}, lying, key);
  const reports: string[] = [];
  node.on('addressMismatch', (enr, source) => reports.push(`${enr.ip}:${enr.udp} from ${source.socket.ip}`));
  await liar.ping(node.localEnr); // answered
  t.deepEqual(reports, ['203.0.113.99:1234 from 203.0.113.7']);
  t.false(node.table().some((e) => e.nodeId === lying.nodeIdHex));
});

test('an IPv4 packet with a record that names only an IPv6 address is answered, reported, and not added (review L6)', async (t) => {
  const network = new MemoryNetwork();
  const victim = await Discv5.create({
    privateKey: c.generatePrivateKey(),
    crypto: c,
    transport: new DualTransport(network, '203.0.113.60', '2001:db8::60'),
  });
  await victim.start();
  t.teardown(() => victim.stop());
  const key = c.generatePrivateKey();
  // It reaches us over IPv4, but its record points at someone else's IPv6 address.
  const elsewhere = Enr.create(key, { ip6: '2001:db8::bad', udp6: 9000 }, c);
  const liar = await nodeAt(t, network, '198.51.100.60', {}, elsewhere, key);
  const reports: string[] = [];
  victim.on('addressMismatch', (enr, source) => reports.push(`${enr.ip6} from ${source.socket.ip}`));
  await liar.ping(victim.localEnr);
  t.deepEqual(reports, ['2001:db8::bad from 198.51.100.60']);
  t.false(
    victim.table().some((e) => e.nodeId === elsewhere.nodeIdHex),
    'never pinged at the address it named',
  );
});

test('address voting: enough peers agreeing move our record to the address they see', async (t) => {
  const network = new MemoryNetwork();
  const key = c.generatePrivateKey();
  const stale = Enr.create(key, { ip: '203.0.113.8', udp: 1 }, c); // we think our port is 1
  const node = await nodeAt(t, network, '203.0.113.8', { minVotes: 3 }, stale, key);
  const updates: string[] = [];
  node.on('socketUpdated', (a, enr) => updates.push(`${a.ip}:${a.port} seq ${enr.seq}`));
  // Votes count once per /24: three voters in three subnets.
  const peers = await Promise.all([1, 2, 3].map((i) => nodeAt(t, network, `198.51.${100 + i}.20`)));
  for (const p of peers) await node.ping(p.localEnr);
  const port = node.addresses[0]?.port as number;
  t.deepEqual(updates, [`203.0.113.8:${port} seq 2`]);
  t.is(node.localEnr.udp, port);
  t.true(node.localEnr.verify());
});

test('address voting can be switched off, and the app can set the address itself', async (t) => {
  const network = new MemoryNetwork();
  const key = c.generatePrivateKey();
  const node = await nodeAt(
    t,
    network,
    '203.0.113.9',
    { minVotes: 1, addressVoting: false },
    Enr.create(key, { ip: '203.0.113.9', udp: 1 }, c),
    key,
  );
  const peer = await nodeAt(t, network, '198.51.100.30');
  await node.ping(peer.localEnr);
  t.is(node.localEnr.udp, 1);
  node.setLocalAddress('203.0.113.9', 4242);
  t.is(node.localEnr.udp, 4242);
  t.is(node.localEnr.seq, 2n);
});

test('per node id and total limits: one id from many addresses, and many sources at once', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.10', {
    rateLimitIpPerSecond: 0,
    rateLimitNodePerSecond: 5,
    rateLimitNodeBurst: 10,
  });
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  const srcId = randomFillSync(new Uint8Array(32));
  for (let i = 0; i < 10; i++) {
    const { transport } = await attackerAt(t, network, `198.51.100.${100 + i}`);
    for (let j = 0; j < 10; j++)
      transport.send(encodeRandomPacket(c, victim.nodeId, srcId, randomFillSync(new Uint8Array(12))), to);
  }
  await waitFor(() => (victim.metrics()['in.datagrams'] ?? 0) >= 100, 5_000, 'the packets');
  t.true((victim.metrics()['drop.rate-node'] ?? 0) >= 85, `${victim.metrics()['drop.rate-node']} dropped by node id`);

  const busy = await nodeAt(t, network, '203.0.113.11', {
    rateLimitIpPerSecond: 0,
    rateLimitTotalPerSecond: 10,
    rateLimitTotalBurst: 20,
  });
  const busyTo = busy.addresses[0] as NonNullable<(typeof busy.addresses)[0]>;
  for (let i = 0; i < 10; i++) {
    const { transport } = await attackerAt(t, network, `198.51.100.${150 + i}`);
    for (let j = 0; j < 10; j++) transport.send(randomFillSync(new Uint8Array(100)), busyTo);
  }
  await waitFor(() => (busy.metrics()['in.datagrams'] ?? 0) >= 100, 5_000, 'the packets');
  t.true((busy.metrics()['drop.rate-total'] ?? 0) >= 75, `${busy.metrics()['drop.rate-total']} dropped in total`);
});

test('answers to our own requests are exempt from the limits', async (t) => {
  const network = new MemoryNetwork();
  let served: Enr[] = [];
  class Serving extends Discv5 {
    protected override nodesAtDistance(d: number): Enr[] {
      return d === 256 ? served : [];
    }
  }
  const server = await Serving.create({
    privateKey: c.generatePrivateKey(),
    crypto: c,
    transport: network.transport('198.51.100.200'),
  });
  await server.start();
  t.teardown(() => server.stop());
  // 16 records of ~300 bytes: six NODES packets in a burst, from one IP.
  while (served.length < 16) {
    const e = Enr.create(c.generatePrivateKey(), { ip: '192.0.2.1', udp: 9000, other: { zz: new Uint8Array(150) } }, c);
    if (logDistance(server.nodeId, e.nodeId) === 256) served.push(e);
  }
  const asker = await nodeAt(t, network, '203.0.113.12', {
    rateLimitIpPerSecond: 1,
    rateLimitIpBurst: 1,
    rateLimitNodePerSecond: 1,
    rateLimitNodeBurst: 1,
  });
  const records = await asker.findNodes(server.localEnr, [256]);
  t.is(records.length, 15, 'five messages (the requester cap), none dropped by the limits');
  t.is(asker.metrics()['drop.rate-ip'], undefined);
  t.is(asker.metrics()['drop.rate-node'], undefined);
  served = [];
});

test("an app's table filter decides what enters the table", async (t) => {
  const network = new MemoryNetwork();
  const node = await Discv5.create({
    privateKey: c.generatePrivateKey(),
    crypto: c,
    transport: network.transport('203.0.113.13'),
    tableFilter: (enr) => enr.tcp !== undefined,
  });
  await node.start();
  t.teardown(() => node.stop());
  node.addEnr(Enr.create(c.generatePrivateKey(), { ip: '192.0.2.7', udp: 1 }, c));
  node.addEnr(Enr.create(c.generatePrivateKey(), { ip: '192.0.2.8', udp: 1, tcp: 2 }, c));
  t.deepEqual(
    node.table().map((e) => e.enr.ip),
    ['192.0.2.8'],
  );
});

test('IPv4-mapped IPv6 addresses are the IPv4 address', (t) => {
  t.deepEqual(socketAddress('::ffff:192.0.2.9', 30303), { ip: '192.0.2.9', port: 30303, family: 4 });
  t.deepEqual(socketAddress('2001:db8::9', 1), { ip: '2001:db8::9', port: 1, family: 6 });
});
