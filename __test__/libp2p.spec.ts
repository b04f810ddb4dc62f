/**
 * discv5-native/libp2p: js-libp2p 3 peer discovery over discv5.
 * - Unit tests (this process's Node, 20 is fine: they import @libp2p/interface, peer-id, crypto
 *   and multiaddr, never open a libp2p connection): record -> multiaddrs, listen addresses ->
 *   record entries, peer ids, keys refused, and the service itself with stub components around
 *   real discv5 nodes on loopback.
 * - Scenarios with real js-libp2p 3 nodes (tcp, noise, yamux, identify): scripts in __test__/libp2p/
 *   run as child processes on a Node that has Promise.withResolvers (this one, else Node 26 from
 *   the CI cache, see helpers/node26.ts); each prints one JSON line asserted on here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '@libp2p/crypto/keys';
import {
  type ComponentLogger,
  type Libp2pEvents,
  type Logger,
  type PeerInfo,
  peerDiscoverySymbol,
  serviceCapabilities,
  TypedEventEmitter,
} from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import test from 'ava';
import { createCrypto, createEnr, Discv5, type Enr, type EnrEntries, peerIdOf } from '../ts/index.js';
import { recordChanges } from '../ts/libp2p/addresses.js';
import { type Discv5PeerDiscovery, discv5PeerDiscovery, listenEntries, recordMultiaddrs } from '../ts/libp2p/index.js';
import { nodeForLibp2p } from './helpers/node26.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const crypto = createCrypto();
const both = { tcp: true, quic: true };

function record(entries: EnrEntries, key = randomBytes(32)): Enr {
  return createEnr(key, entries, { crypto });
}
const strings = (mas: Multiaddr[]) => mas.map((m) => m.toString());
const mas = (...s: string[]) => s.map((x) => multiaddr(x));

// ---- record -> multiaddrs -----------------------------------------------------------------------

test('record -> multiaddrs: ip4 tcp and quic, each ending in the peer id of the record key', (t) => {
  const enr = record({ ip: '10.0.0.1', udp: 9000, tcp: 9001, quic: 9002 });
  const id = peerIdOf(enr.publicKey);
  t.deepEqual(strings(recordMultiaddrs(enr, id, both)), [
    `/ip4/10.0.0.1/tcp/9001/p2p/${id}`,
    `/ip4/10.0.0.1/udp/9002/quic-v1/p2p/${id}`,
  ]);
});

test('record -> multiaddrs: IPv6 takes tcp and quic when tcp6 and quic6 are absent (EIP-778)', (t) => {
  const enr = record({ ip6: '2001:db8::1', udp6: 9000, tcp: 9001, quic: 9002 });
  const id = peerIdOf(enr.publicKey);
  t.deepEqual(strings(recordMultiaddrs(enr, id, both)), [
    `/ip6/2001:db8::1/tcp/9001/p2p/${id}`,
    `/ip6/2001:db8::1/udp/9002/quic-v1/p2p/${id}`,
  ]);
});

test('record -> multiaddrs: tcp6 and quic6 win for IPv6; IPv4 keeps tcp and quic', (t) => {
  const enr = record({ ip: '10.0.0.1', ip6: '2001:db8::1', tcp: 1, tcp6: 2, quic: 3, quic6: 4 });
  const id = peerIdOf(enr.publicKey);
  t.deepEqual(strings(recordMultiaddrs(enr, id, both)), [
    `/ip4/10.0.0.1/tcp/1/p2p/${id}`,
    `/ip4/10.0.0.1/udp/3/quic-v1/p2p/${id}`,
    `/ip6/2001:db8::1/tcp/2/p2p/${id}`,
    `/ip6/2001:db8::1/udp/4/quic-v1/p2p/${id}`,
  ]);
});

test('record -> multiaddrs: announce options choose the transports', (t) => {
  const enr = record({ ip: '10.0.0.1', tcp: 1, quic: 3 });
  const id = peerIdOf(enr.publicKey);
  t.deepEqual(strings(recordMultiaddrs(enr, id, { tcp: true, quic: false })), [`/ip4/10.0.0.1/tcp/1/p2p/${id}`]);
  t.deepEqual(strings(recordMultiaddrs(enr, id, { tcp: false, quic: true })), [
    `/ip4/10.0.0.1/udp/3/quic-v1/p2p/${id}`,
  ]);
  t.deepEqual(recordMultiaddrs(enr, id, { tcp: false, quic: false }), []);
});

test('record -> multiaddrs: none without a transport, an IP, or with port 0', (t) => {
  const id = 'x';
  t.deepEqual(recordMultiaddrs(record({ ip: '10.0.0.1', udp: 9000 }), id, both), []);
  t.deepEqual(recordMultiaddrs(record({ tcp: 9001, quic: 9002 }), id, both), []);
  t.deepEqual(recordMultiaddrs(record({ ip: '10.0.0.1', tcp: 0 }), id, both), []);
});

// ---- listen addresses -> record entries ---------------------------------------------------------

const P2P = '/p2p/16Uiu2HAmN3sdZmRPkmGHB4QRMfw9UfKeYaTLawxZqdXPNbRRrNTW';

test('listen -> entries: ip, tcp and quic of a specific IPv4 address (with or without /p2p)', (t) => {
  const addrs = mas(`/ip4/127.0.0.1/tcp/4001${P2P}`, '/ip4/127.0.0.1/udp/4002/quic-v1');
  t.deepEqual(listenEntries(addrs, both), { ip: '127.0.0.1', tcp: 4001, quic: 4002 });
  t.deepEqual(listenEntries(addrs, { tcp: true, quic: false }), { ip: '127.0.0.1', tcp: 4001 });
  t.deepEqual(listenEntries(addrs, { tcp: false, quic: true }), { ip: '127.0.0.1', quic: 4002 });
});

test('listen -> entries: tcp6 and quic6 only where they differ from tcp and quic', (t) => {
  const same = mas('/ip4/10.0.0.1/tcp/4001', '/ip6/2001:db8::1/tcp/4001', '/ip6/2001:db8::1/udp/4002/quic-v1');
  t.deepEqual(listenEntries(same, both), { ip: '10.0.0.1', ip6: '2001:db8::1', tcp: 4001, quic6: 4002 });
  const differ = mas('/ip4/10.0.0.1/tcp/4001', '/ip6/2001:db8::1/tcp/5001');
  t.deepEqual(listenEntries(differ, both), { ip: '10.0.0.1', ip6: '2001:db8::1', tcp: 4001, tcp6: 5001 });
  t.deepEqual(listenEntries(mas('/ip6/::1/tcp/5001'), both), { ip6: '::1', tcp6: 5001 });
});

test('listen -> entries: no IP for a wildcard or for several interfaces; other transports ignored', (t) => {
  t.deepEqual(listenEntries(mas('/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001'), both), { tcp: 4001 });
  t.deepEqual(listenEntries(mas('/ip4/127.0.0.1/tcp/4001', '/ip4/192.168.1.5/tcp/4001'), both), { tcp: 4001 });
  const others = mas(
    '/ip4/10.0.0.1/tcp/4003/ws',
    '/dns4/example.com/tcp/4004',
    `/ip4/10.0.0.1/tcp/4005${P2P}/p2p-circuit`,
    '/ip4/10.0.0.1/udp/4006',
    '/ip4/10.0.0.1/udp/4007/quic',
  );
  t.deepEqual(listenEntries(others, both), {});
  // Several ports of one kind: the lowest, whatever the order.
  t.deepEqual(listenEntries(mas('/ip4/10.0.0.1/tcp/5000', '/ip4/10.0.0.1/tcp/4000'), both).tcp, 4000);
});

test('entries -> record update: only what differs; pinned keys kept; our ports removed; IPs never', (t) => {
  const enr = record({ ip: '127.0.0.1', udp: 9000, tcp: 4001, quic: 4002 });
  const none = new Set<string>();
  t.is(recordChanges(enr, { ip: '127.0.0.1', tcp: 4001, quic: 4002 }, none, none), undefined);
  t.deepEqual(recordChanges(enr, { ip: '127.0.0.1', tcp: 4010, quic: 4002 }, none, none), { tcp: 4010 });
  t.is(recordChanges(enr, { tcp: 4010 }, none, new Set(['tcp'])), undefined);
  t.is(recordChanges(enr, {}, none, none), undefined, 'ports we did not publish stay');
  t.deepEqual(recordChanges(enr, {}, new Set(['tcp', 'ip']), none), { tcp: null });
  t.deepEqual(recordChanges(enr, { ip6: '::1', tcp6: 5000, tcp: 4001, quic: 4002 }, none, none), {
    ip6: '::1',
    tcp6: 5000,
  });
  // An IP for a record without a UDP port in that family: the port of discv5's socket comes with it.
  const bare = record({});
  const bound = [{ ip: '0.0.0.0', port: 9100, family: 4 as const }];
  t.deepEqual(recordChanges(bare, { ip: '10.0.0.1', tcp: 1 }, none, none, bound), {
    ip: '10.0.0.1',
    tcp: 1,
    udp: 9100,
  });
  t.deepEqual(recordChanges(bare, { tcp: 1 }, none, none, bound), { tcp: 1 });
  const elsewhere = [{ ip: '10.0.0.2', port: 9100, family: 4 as const }];
  t.deepEqual(recordChanges(bare, { ip: '10.0.0.1' }, none, none, elsewhere), { ip: '10.0.0.1' });
});

// ---- the service, with stub components ----------------------------------------------------------

function stubLogger(): ComponentLogger {
  const log: Logger = Object.assign(() => {}, {
    error() {},
    trace() {},
    enabled: false,
    newScope: (): Logger => log,
  });
  return { forComponent: () => log };
}

async function components(addresses: () => Multiaddr[] = () => []) {
  const privateKey = await generateKeyPair('secp256k1');
  return {
    peerId: peerIdFromPrivateKey(privateKey),
    privateKey,
    logger: stubLogger(),
    events: new TypedEventEmitter<Libp2pEvents>(),
    addressManager: { getAddresses: addresses },
  };
}

test('a key other than secp256k1 is refused with a Discv5Error naming the fix', async (t) => {
  const c = { ...(await components()), privateKey: await generateKeyPair('Ed25519') };
  const err = t.throws(() => discv5PeerDiscovery()(c));
  t.is((err as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
  t.regex(err?.message ?? '', /secp256k1.*Ed25519|Ed25519.*secp256k1/s);
});

test('a discv5 node given with another key than libp2p is refused', async (t) => {
  const c = await components();
  const other = await Discv5.create({ privateKey: randomBytes(32), crypto });
  const err = t.throws(() => discv5PeerDiscovery({ discv5: other })(c));
  t.is((err as { code?: string }).code, 'ERR_INVALID_ARGUMENT');
});

test('the service is a libp2p peer discovery, and its node id is the key of the peer id', async (t) => {
  const c = await components(() => mas('/ip4/127.0.0.1/tcp/4001'));
  const service = discv5PeerDiscovery()(c); // discv5 on 0.0.0.0: the record takes libp2p's IP
  t.is(service[peerDiscoverySymbol], service);
  t.deepEqual(service[serviceCapabilities], ['@libp2p/peer-discovery']);
  t.throws(() => service.discv5, { message: /start/ });
  await service.start();
  try {
    const local = service.discv5.localEnr;
    t.is(peerIdOf(local.publicKey), c.peerId.toString());
    t.is(local.tcp, 4001);
    t.is(local.ip, '127.0.0.1');
    t.is(local.udp, service.discv5.addresses[0]?.port, 'with the port of the wildcard socket');
  } finally {
    await service.stop();
  }
});

interface Harness {
  service: Discv5PeerDiscovery;
  peers: PeerInfo[];
  setAddresses: (a: string[]) => void;
  events: TypedEventEmitter<Libp2pEvents>;
}

async function harness(bootnode: string, port: number, init: Parameters<typeof discv5PeerDiscovery>[0] = {}) {
  let addrs = mas(`/ip4/127.0.0.1/tcp/${port}`);
  const c = await components(() => addrs);
  const service = discv5PeerDiscovery({
    bootnodes: [bootnode],
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
    searchIntervalMs: 100,
    config: { revalidateNewIntervalMs: 100, revalidateLiveIntervalMs: 200, inboundPingDelayMs: 50 },
    ...init,
  })(c);
  const peers: PeerInfo[] = [];
  service.addEventListener('peer', (evt) => peers.push(evt.detail));
  const setAddresses = (a: string[]) => {
    addrs = mas(...a);
  };
  return { service, peers, setAddresses, events: c.events } satisfies Harness;
}

function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  // Polls the service's own state; ends by itself either way.
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

test('with discv5 nodes on loopback: peers reported once per seq, throwing listeners counted, record follows the listen addresses, stop cleans up', async (t) => {
  const boot = await Discv5.create({
    privateKey: randomBytes(32),
    crypto,
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
  });
  await boot.start();
  const a = await harness(boot.localEnr.text, 4001);
  const b = await harness(boot.localEnr.text, 4002);
  const hidden = await harness(boot.localEnr.text, 4003, { announce: { tcp: false, quic: true } });
  let thrown = 0;
  a.service.addEventListener('peer', () => {
    thrown++;
    throw new Error('app bug');
  });
  const all = [a, b, hidden];
  try {
    for (const h of all) await h.service.start();
    for (const h of all) h.service.afterStart();
    const idOf = (h: Harness) => h.service.discv5.localEnr;
    await waitFor('a and b to report each other', () => a.peers.length >= 1 && b.peers.length >= 1);
    const seen = a.peers.find((p) => p.id.toString() === peerIdOf(idOf(b).publicKey));
    t.truthy(seen, 'a reports b under the peer id of its record key');
    t.deepEqual(strings(seen?.multiaddrs ?? []), [`/ip4/127.0.0.1/tcp/4002/p2p/${peerIdOf(idOf(b).publicKey)}`]);
    // `hidden` announces quic only and listens on tcp only: its record has no libp2p transport.
    t.is(idOf(hidden).tcp, undefined);
    await waitFor('a to see the record of hidden', () => a.service.discv5.findEnr(idOf(hidden).nodeId) !== undefined);
    t.false(a.peers.some((p) => p.id.toString() === peerIdOf(idOf(hidden).publicKey)));
    t.is(hidden.peers.length, 0, 'hidden announces quic, which nobody has');
    t.true(a.service.metrics()['callback.error.peer'] === thrown && thrown > 0, 'every throw counted');

    // b moves to another port: one record update (seq + 1), and a reports b again.
    const before = idOf(b).seq;
    const reportsOfB = () => a.peers.filter((p) => p.id.toString() === peerIdOf(idOf(b).publicKey)).length;
    t.is(reportsOfB(), 1, 'reported once while its seq stays');
    b.setAddresses(['/ip4/127.0.0.1/tcp/4102']);
    b.events.safeDispatchEvent('transport:listening', {});
    t.is(idOf(b).tcp, 4102);
    t.is(idOf(b).seq, before + 1n);
    b.events.safeDispatchEvent('self:peer:update', {});
    t.is(idOf(b).seq, before + 1n, 'no update when nothing changed');
    await waitFor('a to report b at its new port', () => reportsOfB() === 2);
    t.true(strings(a.peers.at(-1)?.multiaddrs ?? [])[0]?.includes('/tcp/4102/') ?? false);
  } finally {
    for (const h of all) await h.service.stop();
    await boot.stop();
  }
  for (const h of all) {
    t.false(h.service.discv5.isRunning, 'the node we made is stopped');
    t.is(h.events.listenerCount('transport:listening') + h.events.listenerCount('self:peer:update'), 0);
  }
});

test('a bad bootnode fails start() and leaves nothing running or listening', async (t) => {
  const c = await components();
  const made = discv5PeerDiscovery({ bootnodes: ['enr:not-a-record'] })(c);
  const err = await t.throwsAsync(made.start());
  t.regex((err as { code?: string }).code ?? '', /^ERR_ENR_/);
  t.false(made.isStarted);
  const node = await Discv5.create({ privateKey: Uint8Array.from(c.privateKey.raw), crypto });
  const given = discv5PeerDiscovery({ discv5: node, bootnodes: ['enr:not-a-record'] })(c);
  await t.throwsAsync(given.start());
  t.false(given.isStarted);
  t.is(node.listenerCount('discovered') + node.listenerCount('enrAdded'), 0);
  t.is(c.events.listenerCount('transport:listening'), 0);
  await node.stop();
});

test('a discv5 node passed in is used and left running at stop', async (t) => {
  const c = await components(() => mas('/ip4/127.0.0.1/tcp/4001'));
  const node = await Discv5.create({
    privateKey: Uint8Array.from(c.privateKey.raw),
    crypto,
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
  });
  const service = discv5PeerDiscovery({ discv5: node, enr: { tcp: 9999 } })(c);
  await service.start();
  t.is(service.discv5, node);
  t.true(node.isRunning);
  t.is(node.localEnr.tcp, 9999, 'an entry the app set is not overwritten by the listen address');
  await service.stop();
  t.true(node.isRunning);
  await node.stop();
});

// ---- scenarios with real js-libp2p 3 nodes ------------------------------------------------------

const children = new Set<ChildProcess>();
test.after.always(() => {
  for (const child of children) child.kill('SIGKILL');
});

const SCENARIO_TIMEOUT_MS = 90_000;

/** Runs a scenario script on a Node that runs libp2p 3; resolves with its JSON line. */
async function scenario(name: string): Promise<Record<string, unknown>> {
  const node = await nodeForLibp2p();
  const child = spawn(node, ['--import', 'tsx', join(root, '__test__/libp2p', `${name}.ts`)], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), SCENARIO_TIMEOUT_MS);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  children.delete(child);
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    if (code !== 0) throw new Error(`exit code ${code}`);
    return JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `scenario ${name} failed (${(err as Error).message}) on ${node}\nstdout: ${stdout}\nstderr: ${stderr}`,
    );
  }
}

const everyOther = (n: number) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => j).filter((j) => j !== i));

test.serial('scenario a: five libp2p nodes with one bootnode each connect to each other over TCP', async (t) => {
  const r = await scenario('mesh');
  t.log(`full mesh in ${r.connectMs} ms (first peer reported after ${r.firstPeerMs} ms) on ${r.node}, ${r.backend}`);
  t.deepEqual(r.matrix, everyOther(5));
  t.true((r.connectMs as number) >= 0 && (r.connectMs as number) < 60_000);
  t.deepEqual(r.reported, [4, 4, 4, 4, 4], 'each node reported every other once');
  t.deepEqual(r.records, r.listen, "each record's tcp is libp2p's listen port");
  if (process.env.DISCV5_BACKEND) t.is(r.backend, process.env.DISCV5_BACKEND);
  t.is(r.escaped, 0);
});

test.serial(
  'scenario b: a filter on the fork digest keeps the others from dialling a node of another fork',
  async (t) => {
    const r = await scenario('filter');
    t.log(`members meshed in ${r.connectMs} ms, outsider's record seen by all after ${r.totalMs} ms`);
    t.deepEqual((r.matrix as number[][]).slice(0, 4), everyOther(4));
    t.is(r.outsiderPeers, 0);
    t.is(r.membersConnectedToOutsider, 0);
    t.is(r.outsiderSeenBy, 4);
    const filtered = r.filtered as number[];
    for (const f of filtered.slice(0, 4)) t.true(f >= 1, 'each member filtered the outsider out');
    t.true((filtered[4] ?? 0) >= 4, 'the outsider filtered every member out');
    t.deepEqual(r.reported, [3, 3, 3, 3, 0]);
    t.is(r.escaped, 0);
  },
);

test.serial('scenario c: a node whose TCP port changes is dialled at the new port', async (t) => {
  const r = await scenario('port-change');
  t.log(`port ${r.firstPort} -> ${r.secondPort}; dialled at the new port ${r.reconnectMs} ms after the restart`);
  t.not(r.secondPort, r.firstPort);
  t.is(r.recordTcp, r.secondPort);
  t.true(r.seqIncreased, `seq ${r.seqBefore} -> ${r.seqAfter}`);
  for (const conns of r.remotePorts as { dir: string; port: number }[][]) {
    t.true(conns.some((c) => c.dir === 'outbound' && c.port === r.secondPort));
  }
  t.true(
    (r.updated as number[]).every((u) => u >= 1),
    'each dialler got the new record as an update',
  );
  t.is(r.escaped, 0);
});

test.serial('scenario d: throwing app listeners leave discovery working; stop() leaves nothing of ours', async (t) => {
  const r = await scenario('stop');
  t.log(`mesh in ${r.connectMs} ms despite ${r.thrown} throws and ${r.rejected} rejections; stop took ${r.stopMs} ms`);
  t.deepEqual(r.matrix, everyOther(4));
  const thrown = r.thrown as number;
  t.true(thrown >= 3);
  t.is(r.rejected, thrown);
  t.deepEqual(r.counted, { peer: thrown * 2, all: thrown * 2 });
  t.is(r.removedCalls, 0);
  t.is(r.onceCalls, 1);
  t.deepEqual(r.discv5Running, [false, false, false, false]);
  const bus = r.busListeners as Record<'idle' | 'running' | 'stopped', number[][]>;
  t.deepEqual(
    bus.running,
    bus.idle.map(([l = 0, u = 0]) => [l + 1, u + 1]),
  );
  t.deepEqual(bus.stopped, bus.idle);
  t.true((r.oursRunning as number) > 0, 'the trace saw our timers and sockets while running');
  t.deepEqual(r.oursLeft, []);
  const udp = (x: unknown) => (x as Record<string, number>).UDPWrap ?? 0;
  t.is(udp(r.resourcesAfter), udp(r.resourcesBefore));
  t.is(r.escaped, 0);
});
