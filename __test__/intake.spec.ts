/**
 * The record-intake check (H1, M3, L5, L6) and the local record's address votes (M1, M6), as units:
 * which records we may send to on whose word, and which reports may move our address.
 */
import test from 'ava';
import { type Discv5Config, Enr } from '../ts/index.js';
import { decodeMessage, encodeMessage } from '../ts/message/codec.js';
import { MessageType, type PongMessage } from '../ts/message/types.js';
import { admitRecord } from '../ts/policy/intake.js';
import { dialable, relayable } from '../ts/policy/ip-class.js';
import { resolveConfig } from '../ts/service/config.js';
import { LocalNode } from '../ts/service/local-node.js';
import type { IpFamily } from '../ts/transport/types.js';
import { Counters } from '../ts/util/metrics.js';
import { envCrypto as c } from './helpers/nodes.js';

const both = new Set<IpFamily>([4, 6]);
const v4 = new Set<IpFamily>([4]);
const v6 = new Set<IpFamily>([6]);
const rec = (entries: Parameters<typeof Enr.create>[1]) => Enr.create(c.generatePrivateKey(), entries, c);

test('a record with no endpoint in a family we bind is refused, not thrown (H1)', (t) => {
  const only6 = rec({ ip6: '2001:db8::1', udp6: 9000 });
  const only4 = rec({ ip: '203.0.113.1', udp: 9000 });
  t.deepEqual(admitRecord(only6, { families: v4 }), { ok: false, reason: 'no-endpoint' });
  t.deepEqual(admitRecord(only4, { families: v6 }), { ok: false, reason: 'no-endpoint' });
  t.like(admitRecord(only6, { families: v6 }), { ok: true, family: 6, endpoint: { ip: '2001:db8::1', port: 9000 } });
  // EIP-778: a port without the 6 suffix serves both families.
  const dual = rec({ ip: '203.0.113.2', ip6: '2001:db8::2', udp: 9000 });
  t.like(admitRecord(dual, { families: v6 }), { ok: true, endpoint: { ip: '2001:db8::2', port: 9000 } });
  t.like(admitRecord(dual, { families: both }), { ok: true, family: 4 });
  t.deepEqual(admitRecord(rec({}), { families: both }), { ok: false, reason: 'no-endpoint' });
});

test('relay rules: no LAN, loopback, unspecified or low ports on the word of a host on the internet (M3)', (t) => {
  const from = (ip: string, port = 9000) =>
    admitRecord(rec({ ip, udp: port }), { families: both, sender: '198.51.100.1' });
  t.like(from('10.0.0.1'), { ok: false, reason: 'not-relayable' });
  t.like(from('192.168.1.1'), { ok: false, reason: 'not-relayable' });
  t.like(from('127.0.0.1'), { ok: false, reason: 'not-relayable' });
  t.like(from('0.0.0.0'), { ok: false, reason: 'not-relayable' });
  t.like(from('203.0.113.9', 0), { ok: false, reason: 'port' });
  t.like(from('203.0.113.9', 1024), { ok: false, reason: 'port' });
  t.like(from('203.0.113.9', 1025), { ok: true });
  // From the LAN, LAN records are fine; loopback only from loopback.
  const lan = rec({ ip: '10.0.0.7', udp: 9000 });
  t.like(admitRecord(lan, { families: both, sender: '10.0.0.1' }), { ok: true });
  t.like(admitRecord(rec({ ip: '127.0.0.1', udp: 9000 }), { families: both, sender: '127.0.0.1' }), { ok: true });
  t.like(admitRecord(rec({ ip: '127.0.0.1', udp: 9000 }), { families: both, sender: '10.0.0.1' }), { ok: false });
  // The application's own word (no sender): LAN and loopback are fine, port 0 and 0.0.0.0 are not.
  t.like(admitRecord(lan, { families: both }), { ok: true });
  t.like(admitRecord(rec({ ip: '203.0.113.9', udp: 0 }), { families: both }), { ok: false, reason: 'port' });
  t.like(admitRecord(rec({ ip: '0.0.0.0', udp: 9000 }), { families: both }), { ok: false, reason: 'not-relayable' });
  // A dual-stack record with a LAN IPv4 and a public IPv6 is reached through the IPv6 one (L5).
  const mixed = rec({ ip: '10.0.0.8', ip6: '2001:db8::8', udp: 9000 });
  t.like(admitRecord(mixed, { families: both, sender: '198.51.100.1' }), {
    ok: true,
    endpoint: { ip: '2001:db8::8' },
  });
  t.true(relayable('2001:db8::8', '198.51.100.1'));
  t.false(relayable('fe80::1', '2001:db8::1'));
  t.false(dialable('::'));
});

function localNode(minVotes = 3) {
  const counters = new Counters();
  const key = c.generatePrivateKey();
  const changes: string[] = [];
  const node = new LocalNode({
    privateKey: key,
    crypto: c,
    counters,
    enr: Enr.create(key, { ip: '203.0.113.50', udp: 9000 }, c),
    votes: { windowMs: 60_000, minVotes },
    onChanged: (enr, address) => changes.push(address ? `${address.ip}:${address.port}` : `seq ${enr.seq}`),
  });
  return { node, counters, changes };
}

const voter = (ip: string) => ({
  nodeId: c.nodeIdFromPublicKey(c.publicKeyFromPrivate(c.generatePrivateKey())) as Uint8Array,
  ip,
});

test('PONG reports are validated before they vote: family, scope and port (M6)', (t) => {
  const { node, counters, changes } = localNode(1);
  // A PONG reporting an IPv4-mapped IPv6 address (16 bytes on the wire) reads as IPv4, never as IPv6 text.
  const pongIp = (ip: string) =>
    (
      decodeMessage(
        encodeMessage({ type: MessageType.PONG, requestId: Uint8Array.of(1), enrSeq: 1n, ip, port: 1 }),
      ) as PongMessage
    ).ip;
  t.is(pongIp('::ffff:1.2.3.4'), '1.2.3.4');
  t.is(pongIp('::ffff:102:304'), '1.2.3.4');
  t.is(pongIp('2001:db8::1'), '2001:db8::1');
  for (const [ip, port] of [
    ['10.0.0.1', 9000], // a LAN address reported by a host on the internet
    ['0.0.0.0', 9000],
    ['127.0.0.1', 9000],
    ['203.0.113.60', 0],
    ['2001:db8::60', 9000], // the wrong family for an IPv4 socket
  ] as const) {
    t.notThrows(() => node.vote(voter('198.51.100.1'), 4, ip, port));
  }
  t.deepEqual(changes, []);
  t.is(counters.get('vote.invalid'), 5);
  node.vote(voter('198.51.100.1'), 4, pongIp('::ffff:203.0.113.61'), 9001);
  t.deepEqual(changes, ['203.0.113.61:9001']);
  t.is(node.record.ip, '203.0.113.61');
});

test('one /24 casts one vote: a crowd of identities in one subnet cannot move our address (M6)', (t) => {
  const { node, changes } = localNode(3);
  for (let i = 0; i < 50; i++) node.vote(voter(`198.51.100.${i + 1}`), 4, '203.0.113.66', 6666);
  t.deepEqual(changes, [], '50 ids in one /24 are one voter');
  t.is(node.voters(4), 1);
  node.vote(voter('198.51.101.1'), 4, '203.0.113.50', 9000);
  node.vote(voter('198.51.102.1'), 4, '203.0.113.50', 9000);
  t.deepEqual(changes, [], 'the honest majority keeps the address it has');
});

test('a fresh record starts at the time in ms, so it is newer than any record made before a restart (M1)', (t) => {
  const key = c.generatePrivateKey();
  const node = new LocalNode({
    privateKey: key,
    crypto: c,
    counters: new Counters(),
    votes: { windowMs: 1, minVotes: 1 },
    onChanged: () => {},
    now: () => 1_700_000_000_000,
  });
  node.init([{ ip: '203.0.113.70', port: 9000, family: 4 }]);
  t.is(node.record.seq, 1_700_000_000_000n);
  t.is(node.record.ip, '203.0.113.70');
  const updated = node.update({ tcp: 9001 });
  t.is(updated.seq, 1_700_000_000_001n);
  t.is(updated.tcp, 9001);
});

test('config values that would break a node are refused up front (review L9)', (t) => {
  for (const bad of [
    { maxChallenges: 0 },
    { lookupParallelism: 0 },
    { maxNodesPerFindNode: 0 },
    { nodesMessageRecordBytes: 1_200 },
    { nodesMessageRecordBytes: 100 },
    { requestTimeoutMs: 1.5 },
    { requestRetries: -1 },
    { addressVoting: 1 as unknown as boolean },
    { noSuchSetting: 1 } as unknown as Partial<Discv5Config>,
  ]) {
    t.throws(() => resolveConfig(bad), { code: 'ERR_INVALID_ARGUMENT' }, JSON.stringify(bad));
  }
  t.is(resolveConfig({ nodesMessageRecordBytes: 1_100, lookupParallelism: 1 }).nodesMessageRecordBytes, 1_100);
});
