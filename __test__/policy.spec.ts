/**
 * Policy building blocks: address scopes and subnets, vote counting, token buckets, bans and
 * permits; the inbound gate (protected sources, IPv6 /64 keys, the global handshake budget); and,
 * end to end on the in-memory network at public addresses, that garbage never earns a ban.
 */
import { randomFillSync } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { Discv5, type Discv5Config, MemoryNetwork } from '../ts/index.js';
import { encodeRandomPacket } from '../ts/packet/encode.js';
import { BanList } from '../ts/policy/bans.js';
import { type GateConfig, PacketGate } from '../ts/policy/gate.js';
import { dialable, type IpScope, ipScope, isLoopback, limitKey, relayable, subnetOf } from '../ts/policy/ip-class.js';
import { RateLimiter } from '../ts/policy/rate-limit.js';
import { AddressVotes } from '../ts/policy/votes.js';
import { DEFAULT_GATE_CONFIG } from '../ts/service/config.js';
import { envCrypto as c, waitFor } from './helpers/nodes.js';

test('address scopes and subnets', (t) => {
  const cases: [string, IpScope][] = [
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['fe80::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['8.8.8.8', 'public'],
    ['2001:db8::1', 'public'],
    // Special networks (review L4): never relayed, never dialled.
    ['224.0.0.1', 'special'],
    ['239.255.255.250', 'special'],
    ['240.0.0.1', 'special'],
    ['255.255.255.255', 'special'],
    ['::ffff:224.0.0.1', 'special'],
    ['ff02::1', 'special'],
    ['ff0e::1234', 'special'],
    // Documentation and benchmarking ranges stay public: the tests use them as public addresses.
    ['192.0.2.1', 'public'],
    ['198.51.100.7', 'public'],
    ['203.0.113.1', 'public'],
    ['198.18.0.1', 'public'],
    ['223.255.255.255', 'public'],
  ];
  for (const [ip, scope] of cases) {
    t.is(ipScope(ip), scope, ip);
    // The gate's per-packet shortcut agrees with the full classification (addresses arrive normalised).
    if (!ip.startsWith('::ffff:')) t.is(isLoopback(ip), scope === 'loopback', ip);
  }
  t.is(subnetOf('203.0.113.77'), '203.0.113.0/24');
  t.is(subnetOf('2001:db8:1:2:3::9'), '20010db800010002::/64');
  for (const ip of ['224.0.0.1', '255.255.255.255', 'ff02::1', '0.0.0.0', '::']) t.false(dialable(ip), ip);
  for (const ip of ['8.8.8.8', '10.0.0.1', '127.0.0.1', '2001:db8::1', '203.0.113.1']) t.true(dialable(ip), ip);
  t.false(relayable('224.0.0.1', '224.0.0.2'));
  t.false(relayable('ff02::1', '8.8.8.8'));
});

test('limit keys: an IPv4 address itself, an IPv6 address its /64, IPv4-mapped read as IPv4', (t) => {
  t.is(limitKey('203.0.113.7'), '203.0.113.7');
  t.is(limitKey('2001:db8:1:2::1'), limitKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
  t.not(limitKey('2001:db8:1:2::1'), limitKey('2001:db8:1:3::1'));
  t.is(limitKey('2001:db8:1:2::1'), subnetOf('2001:db8:1:2::1'));
  t.is(limitKey('::ffff:1.2.3.4'), '1.2.3.4');
  t.is(limitKey('::ffff:102:304'), '1.2.3.4');
  t.is(limitKey('fe80::1%eth0'), 'fe80::1%eth0', 'unparsable text is its own key');
});

test('relaying: LAN and loopback records never go to hosts on the internet', (t) => {
  t.true(relayable('8.8.8.8', '1.1.1.1'));
  t.true(relayable('8.8.8.8', '10.0.0.1'));
  t.false(relayable('10.0.0.2', '1.1.1.1'));
  t.true(relayable('10.0.0.2', '10.0.0.1'));
  t.false(relayable('127.0.0.1', '10.0.0.1'));
  t.true(relayable('127.0.0.1', '127.0.0.1'));
  t.false(relayable('0.0.0.0', '127.0.0.1'));
});

test('votes: one per node id, within the window, a minimum and a clear majority', (t) => {
  let now = 0;
  const votes = new AddressVotes({ windowMs: 1_000, minVotes: 4, maxVoters: 100 }, () => now);
  t.is(votes.vote('a', 4, '1.2.3.4', 9000), undefined);
  t.is(votes.vote('a', 4, '1.2.3.4', 9000), undefined, 'the same voter twice is one vote');
  t.is(votes.vote('b', 4, '1.2.3.4', 9000), undefined);
  t.is(votes.vote('c', 4, '5.6.7.8', 9000), undefined);
  t.is(votes.vote('d', 4, '5.6.7.8', 9000), undefined, '2 against 2 is no majority');
  t.deepEqual(votes.vote('e', 4, '1.2.3.4', 9000), { ip: '1.2.3.4', port: 9000 });
  t.is(votes.count(6), 0, 'families are counted apart');
  now = 2_000; // every earlier vote has expired
  t.is(votes.vote('f', 4, '9.9.9.9', 1), undefined);
  t.is(votes.count(4), 1);
});

test('votes are bounded: past maxVoters the oldest go', (t) => {
  const votes = new AddressVotes({ windowMs: 60_000, minVotes: 2, maxVoters: 10 });
  for (let i = 0; i < 100; i++) votes.vote(`v${i}`, 4, '1.2.3.4', 1);
  t.is(votes.count(4), 10);
});

test('token buckets: burst, refill, bounded keys, 0 disables', (t) => {
  let now = 0;
  const limiter = new RateLimiter({ rate: 10, burst: 3 }, 2, () => now);
  t.deepEqual(
    [1, 2, 3, 4].map(() => limiter.take('x')),
    [true, true, true, false],
  );
  now = 100; // one token back
  t.true(limiter.take('x'));
  t.false(limiter.take('x'));
  limiter.take('y');
  limiter.take('z');
  t.is(limiter.size, 2);
  const off = new RateLimiter({ rate: 0, burst: 0 }, 1);
  t.true(Array.from({ length: 1000 }).every(() => off.take('x')));
});

test('bans expire, permits win, repeated invalid packets earn a ban', (t) => {
  let now = 0;
  const bans = new BanList(
    { invalidPacketsToBan: 3, invalidWindowMs: 1_000, autoBanMs: 5_000, maxEntries: 100 },
    () => now,
  );
  bans.banIp('1.1.1.1', 1_000);
  t.true(bans.isBannedIp('1.1.1.1'));
  now = 1_001;
  t.false(bans.isBannedIp('1.1.1.1'));
  bans.banNodeId('n');
  t.true(bans.isBannedId('n'));
  bans.permitNodeId('n');
  t.false(bans.isBannedId('n'), 'a permit wins over a ban');
  t.false(bans.invalidPacket('2.2.2.2'));
  t.false(bans.invalidPacket('2.2.2.2'));
  t.true(bans.invalidPacket('2.2.2.2'));
  t.true(bans.isBannedIp('2.2.2.2'));
  now += 5_001;
  t.false(bans.isBannedIp('2.2.2.2'), 'automatic bans are temporary');
  bans.permitIp('3.3.3.3');
  for (let i = 0; i < 10; i++) bans.invalidPacket('3.3.3.3');
  t.false(bans.isBannedIp('3.3.3.3'));
});

function gateWith(config: Partial<GateConfig>, protect: (ip: string) => boolean = () => false) {
  const clock = { now: 0 };
  const gate = new PacketGate({ ...DEFAULT_GATE_CONFIG, ...config }, protect, () => clock.now);
  return { gate, clock };
}

test('the gate: a protected IP skips the per-IP and per-node limits but not the total, and is never auto-banned (H4)', (t) => {
  const bootnode = '198.51.100.1';
  const other = '198.51.100.2';
  const { gate } = gateWith(
    {
      rateLimitIpPerSecond: 1,
      rateLimitIpBurst: 2,
      rateLimitNodePerSecond: 1,
      rateLimitNodeBurst: 2,
      rateLimitTotalPerSecond: 1,
      rateLimitTotalBurst: 20,
      invalidPacketsToBan: 3,
    },
    (ip) => ip === bootnode,
  );
  t.deepEqual(
    [1, 2, 3, 4, 5].map(() => gate.admit(bootnode)),
    ['pass', 'pass', 'pass', 'pass', 'pass'],
  );
  t.deepEqual(
    [1, 2, 3].map(() => gate.admit(other)),
    ['pass', 'pass', 'rate-ip'],
  );
  t.deepEqual(
    [1, 2, 3].map(() => gate.admitNode('n1', bootnode)),
    ['pass', 'pass', 'pass'],
  );
  t.is(gate.admitNode('n2', other), 'pass');
  t.is(gate.admitNode('n2', other), 'pass');
  t.is(gate.admitNode('n2', other), 'rate-node');
  for (let i = 0; i < 10; i++) t.false(gate.invalid(bootnode));
  t.is(gate.admit(bootnode), 'pass', 'never auto-banned');
  t.false(gate.invalid(other));
  t.false(gate.invalid(other));
  t.true(gate.invalid(other), 'an unprotected IP is banned on the third failure');
  t.is(gate.admit(other), 'banned');
  // The total still applies to everyone: 20 tokens, 8 used above (the banned packet took none).
  const verdicts = Array.from({ length: 20 }, () => gate.admit(bootnode));
  t.true(verdicts.includes('rate-total'));
});

test('the gate: an automatic ban does not hold a source once protected; a ban by the operator does', (t) => {
  let protectedIp = '';
  const { gate } = gateWith({ invalidPacketsToBan: 1 }, (ip) => ip === protectedIp);
  t.true(gate.invalid('198.51.100.3'));
  t.is(gate.admit('198.51.100.3'), 'banned');
  protectedIp = '198.51.100.3'; // say, we now wait on an answer from there
  t.is(gate.admit('198.51.100.3'), 'pass');
  gate.bans.banIp('198.51.100.3', 60_000);
  t.is(gate.admit('198.51.100.3'), 'banned', 'a ban decided by the operator applies');
  gate.bans.unbanIp('198.51.100.3');
  t.is(gate.admit('198.51.100.3'), 'pass');
});

test('the gate: addresses of one IPv6 /64 share one rate limit, handshake budget and ban (M7)', (t) => {
  const { gate } = gateWith({
    rateLimitIpPerSecond: 1,
    rateLimitIpBurst: 2,
    handshakesPerIpPerSecond: 1,
    handshakesBurstPerIp: 2,
    invalidPacketsToBan: 2,
  });
  const a = '2001:db8:1:2::1';
  const b = '2001:db8:1:2:aaaa:bbbb:cccc:dddd';
  const elsewhere = '2001:db8:1:3::1';
  t.deepEqual([gate.admit(a), gate.admit(b), gate.admit(a)], ['pass', 'pass', 'rate-ip']);
  t.is(gate.admit(elsewhere), 'pass');
  t.deepEqual(
    [gate.allowChallenge(a), gate.allowChallenge(b), gate.allowChallenge(b)],
    ['pass', 'pass', 'handshake-budget'],
  );
  t.is(gate.allowChallenge(elsewhere), 'pass');
  t.false(gate.invalid(a));
  t.true(gate.invalid(b), 'failures from two addresses of the /64 add up');
  t.is(gate.admit('2001:db8:1:2::99'), 'banned');
  t.is(gate.admit(elsewhere), 'pass');
  gate.bans.banIp('2001:db8:1:3::7');
  t.true(gate.bans.isBannedIp(elsewhere), 'a manual ban of one address covers its /64');
  gate.bans.permitIp('2001:db8:1:4::1');
  t.true(gate.bans.isPermittedIp('2001:db8:1:4:ffff::1'));
});

test('the gate: a global handshake budget caps new WHOAREYOUs from many IPs; loopback is exempt (M7)', (t) => {
  const { gate, clock } = gateWith({ handshakesTotalPerSecond: 10, handshakesTotalBurst: 5 });
  const verdicts = Array.from({ length: 20 }, (_, i) => gate.allowChallenge(`198.51.100.${i + 1}`));
  t.deepEqual(verdicts.slice(0, 5), Array(5).fill('pass'));
  t.deepEqual(verdicts.slice(5), Array(15).fill('handshake-budget-total'));
  t.is(gate.allowChallenge('127.0.0.1'), 'pass');
  clock.now = 100; // one token back
  t.is(gate.allowChallenge('198.51.100.99'), 'pass');
  t.is(gate.allowChallenge('198.51.100.98'), 'handshake-budget-total');
  // One IP flooding spends only its own budget, not the global one.
  const { gate: g2 } = gateWith({ handshakesBurstPerIp: 2, handshakesTotalBurst: 3, handshakesTotalPerSecond: 1 });
  for (let i = 0; i < 50; i++) g2.allowChallenge('198.51.100.1');
  t.is(g2.allowChallenge('198.51.100.2'), 'pass');
});

async function nodeAt(t: ExecutionContext, network: MemoryNetwork, ip: string, config: Partial<Discv5Config> = {}) {
  const node = await Discv5.create({
    privateKey: c.generatePrivateKey(),
    crypto: c,
    transport: network.transport(ip),
    config: { requestTimeoutMs: 300, ...config },
  });
  await node.start();
  t.teardown(() => node.stop());
  return node;
}

test('undecodable datagrams never earn a ban: a forged flood does not cut off the address it names (H4)', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.3', { invalidPacketsToBan: 5, rateLimitIpPerSecond: 0 });
  const forger = network.transport('198.51.100.9');
  await forger.start();
  t.teardown(() => forger.stop());
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  for (let i = 0; i < 100; i++) forger.send(randomFillSync(new Uint8Array(80)), to);
  await waitFor(() => (victim.metrics()['in.datagrams'] ?? 0) >= 100, 5_000, 'the junk');
  t.is(victim.metrics()['ban.auto'], undefined);
  const honest = await nodeAt(t, network, '198.51.100.9');
  const pong = await honest.ping(victim.localEnr);
  t.is(pong.ip, '198.51.100.9');
  t.is(victim.metrics()['drop.banned'], undefined);
});

test('the global handshake budget holds end to end: many IPs, one packet each', async (t) => {
  const network = new MemoryNetwork();
  const victim = await nodeAt(t, network, '203.0.113.9', { handshakesTotalPerSecond: 1, handshakesTotalBurst: 5 });
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  for (let i = 0; i < 20; i++) {
    const transport = network.transport(`198.51.100.${i + 20}`);
    await transport.start();
    t.teardown(() => transport.stop());
    transport.send(
      encodeRandomPacket(c, victim.nodeId, randomFillSync(new Uint8Array(32)), randomFillSync(new Uint8Array(12))),
      to,
    );
  }
  await waitFor(() => (victim.metrics()['in.datagrams'] ?? 0) >= 20, 5_000, 'the packets');
  const m = victim.metrics();
  t.true((m['out.packet.whoareyou'] ?? 0) <= 6, `${m['out.packet.whoareyou']} WHOAREYOU`);
  t.true((m['drop.handshake-budget-total'] ?? 0) >= 14);
});
