/** The node's API beyond single requests: events, the predicate search, aborting lookups, the table. */
import test from 'ava';
import { Discv5, Enr, MemoryNetwork, type TableEntryInfo } from '../ts/index.js';
import { logDistance } from '../ts/kademlia/distance.js';
import { envCrypto, startNode, waitFor } from './helpers/nodes.js';

test('a full bucket keeps a newcomer as a replacement; an entry the timers find silent is replaced: nodeInserted names what it replaced', async (t) => {
  const network = new MemoryNetwork();
  let live: Discv5 | undefined;
  const node = await startNode(
    t,
    { network },
    { config: { requestTimeoutMs: 100, requestRetries: 0, revalidateNewIntervalMs: 20 } },
  );
  while (live === undefined) {
    const n = await startNode(t, { network });
    if (logDistance(node.nodeId, n.nodeId) === 256) live = n;
  }
  // 16 records at distance 256 whose endpoints nobody serves: they will not answer.
  const dead: Enr[] = [];
  while (dead.length < 16) {
    const e = Enr.create(envCrypto.generatePrivateKey(), { ip: '127.0.0.1', udp: 1 + dead.length }, envCrypto);
    if (logDistance(node.nodeId, e.nodeId) === 256) dead.push(e);
  }
  const inserted: [TableEntryInfo, TableEntryInfo | undefined][] = [];
  node.on('nodeInserted', (entry, replaced) => inserted.push([entry, replaced]));
  // All in one turn of the event loop, before any timer: the bucket fills, the newcomer waits.
  for (const e of dead) node.addEnr(e);
  node.addEnr(live.localEnr);
  t.is(node.table().length, 16);
  t.is(inserted.length, 16, 'the newcomer took no place: insertions never trigger checks or evictions');
  // The timers ping the new entries; the first silent one to fail hands its place to the newcomer.
  await waitFor(() => inserted.length > 16, 10_000, 'the replacement');
  const [entry, replaced] = inserted[16] as [TableEntryInfo, TableEntryInfo | undefined];
  t.is(entry.nodeId, live.localEnr.nodeIdHex);
  t.true(
    dead.some((d) => d.nodeIdHex === replaced?.nodeId),
    'it replaced an entry that did not answer',
  );
  t.true(node.removeNode(live.localEnr.nodeIdHex));
  t.false(node.table().some((e) => e.nodeId === live?.localEnr.nodeIdHex));
});

test('sessionExpired and sessionEstablished are emitted', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network }, { config: { sessionTtlMs: 1_000, inboundPingDelayMs: 60_000 } });
  // b's own upkeep (pinging a back, checking new entries) would re-handshake first; keep it out.
  const b = await startNode(t, { network }, { config: { inboundPingDelayMs: 60_000, revalidateNewIntervalMs: 0 } });
  const events: string[] = [];
  a.on('sessionEstablished', (_p, _e, inbound) => events.push(inbound ? 'in' : 'out'));
  a.on('sessionExpired', () => events.push('expired'));
  await a.ping(b.localEnr);
  await new Promise((r) => setTimeout(r, 1_100));
  await a.ping(b.localEnr);
  t.deepEqual(events, ['out', 'expired', 'out']);
});

test('findNodesMatching collects records that pass a test; lookups stop on abort', async (t) => {
  const network = new MemoryNetwork();
  const nodes: Discv5[] = [];
  for (let i = 0; i < 12; i++) nodes.push(await startNode(t, { network }));
  const [asker, ...rest] = nodes as [Discv5, ...Discv5[]];
  for (const n of rest) n.addEnr(asker.localEnr);
  await Promise.all(rest.map((n) => n.findNode(n.nodeId)));
  await asker.findNode(asker.nodeId);
  const odd = new Set(rest.filter((n) => (n.nodeId[0] as number) % 2 === 1).map((n) => n.localEnr.nodeIdHex));
  const want = Math.min(3, odd.size);
  const found = await asker.findNodesMatching((e) => (e.nodeId[0] as number) % 2 === 1, {
    count: 3,
    timeoutMs: 20_000,
  });
  t.true(found.length >= want, `found ${found.length} of ${want}`);
  t.true(found.length <= 3, 'no more than asked for');
  t.true(
    found.every((e) => odd.has(e.nodeIdHex)),
    'only records that pass the test',
  );
  // More than the network holds: lookups run until the time is up, and peers hand back our own
  // record along the way; it is never a match.
  const everyone = await asker.findNodesMatching(() => true, { count: 20, timeoutMs: 1_000 });
  t.false(
    everyone.some((e) => e.nodeIdHex === asker.localEnr.nodeIdHex),
    'never our own record',
  );
  t.true(everyone.length >= 1);
  const controller = new AbortController();
  controller.abort();
  const aborted = await asker.lookup(asker.nodeId, { signal: controller.signal });
  t.is(aborted.stop, 'aborted');
  t.is(aborted.queries, 0);
});

test('a PING or PONG announcing a newer record makes us fetch it, and the session record follows (M5)', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  await b.ping(a.localEnr); // a learns b's record from the handshake
  const first = a.findEnr(b.nodeId)?.seq as bigint;
  t.is(first, b.localEnr.seq);
  let talkedWith: Enr | undefined;
  a.registerTalkHandler('who', (_request, _from, enr) => {
    talkedWith = enr;
    return new Uint8Array(0);
  });
  const updates: bigint[] = [];
  b.on('localEnrUpdated', (enr) => updates.push(enr.seq));
  b.updateLocalEnr({ tcp: 9999 });
  t.deepEqual(updates, [first + 1n]);
  await b.ping(a.localEnr); // its enr-seq is newer than what a holds: a asks b for it (FINDNODE [0])
  await waitFor(() => a.findEnr(b.nodeId)?.seq === first + 1n, 10_000, 'the newer record fetched after a PING');
  await b.talkReq(a.localEnr, 'who', new Uint8Array(0));
  t.is(talkedWith?.tcp, 9999, "the session's record is the newer one");
  // And the other way: a PONG with a newer seq.
  b.updateLocalEnr({ tcp: 9998 });
  await a.ping(b.localEnr);
  await waitFor(() => a.findEnr(b.nodeId)?.seq === first + 2n, 10_000, 'the newer record fetched after a PONG');
  t.is(a.findEnr(b.nodeId)?.tcp, 9998);
});

test('a node started before its bootnode joins once the bootnode comes up (M8: the table is re-seeded)', async (t) => {
  const network = new MemoryNetwork();
  const bootKey = envCrypto.generatePrivateKey();
  const bootEnr = Enr.create(bootKey, { ip: '203.0.113.200', udp: 30303 }, envCrypto);
  const node = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    transport: network.transport('203.0.113.201'),
    bootnodes: [bootEnr.text],
    config: {
      requestTimeoutMs: 100,
      requestRetries: 0,
      revalidateNewIntervalMs: 20,
      reseedIntervalMs: 50,
      reseedMaxIntervalMs: 200,
    },
  });
  await node.start();
  t.teardown(() => node.stop());
  // Nobody answers at the bootnode's address: no entry is live, and the bootnode is tried again with back-off.
  await waitFor(() => (node.metrics()['table.reseed'] ?? 0) >= 2, 10_000, 're-seeded twice');
  const boot = await Discv5.create({
    privateKey: bootKey,
    crypto: envCrypto,
    enr: bootEnr,
    transport: network.transport('203.0.113.200', 30303),
  });
  await boot.start();
  t.teardown(() => boot.stop());
  await waitFor(
    () => node.table().some((e) => e.nodeId === bootEnr.nodeIdHex && e.live),
    10_000,
    'the bootnode live in the table',
  );
  t.true(
    boot.table().some((e) => e.nodeId === node.localEnr.nodeIdHex),
    'and the bootnode knows the node',
  );
});

test('TALK protocols are matched by their UTF-8 bytes, whether named by string or bytes (review L3)', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  b.registerTalkHandler('протокол-✓', (request) => Uint8Array.from([...request].reverse()));
  const bytes = new TextEncoder().encode('протокол-✓');
  t.deepEqual([...(await a.talkReq(b.localEnr, 'протокол-✓', Uint8Array.of(1, 2, 3)))], [3, 2, 1]);
  t.deepEqual([...(await a.talkReq(b.localEnr, bytes, Uint8Array.of(4, 5)))], [5, 4]);
  b.unregisterTalkHandler(bytes);
  t.is((await a.talkReq(b.localEnr, 'протокол-✓', Uint8Array.of(1))).length, 0, 'unregistered: an empty answer');
});
