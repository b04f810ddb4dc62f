/** Policy building blocks: address scopes and subnets, vote counting, token buckets, bans and permits. */
import test from 'ava';
import { BanList } from '../ts/policy/bans.js';
import { type IpScope, ipScope, isLoopback, relayable, subnetOf } from '../ts/policy/ip-class.js';
import { RateLimiter } from '../ts/policy/rate-limit.js';
import { AddressVotes } from '../ts/policy/votes.js';

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
  ];
  for (const [ip, scope] of cases) {
    t.is(ipScope(ip), scope, ip);
    // The gate's per-packet shortcut agrees with the full classification (addresses arrive normalised).
    if (!ip.startsWith('::ffff:')) t.is(isLoopback(ip), scope === 'loopback', ip);
  }
  t.is(subnetOf('203.0.113.77'), '203.0.113.0/24');
  t.is(subnetOf('2001:db8:1:2:3::9'), '20010db800010002::/64');
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
