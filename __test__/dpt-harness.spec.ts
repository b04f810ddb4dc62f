/**
 * The ethereumjs DPT harness (helpers/ethereumjs-dpt.ts) on its own, before any spec of ours
 * leans on it: five DPT nodes bootstrapped from node 0 find one another over loopback, and the
 * harness's commands and event stream say what went over the wire. Every wait is bounded.
 */
import { createSocket } from 'node:dgram';
import test from 'ava';
import { type DptRecv, startDpt } from './helpers/ethereumjs-dpt.js';

const N = 5;

test('five DPT nodes bootstrapped from node 0 all learn one another', async (t) => {
  const dpt = await startDpt(N, { refreshIntervalMs: 2000, timeoutMs: 2000 });
  t.teardown(() => dpt.stop());
  t.log(`DPT child on Node ${dpt.nodeVersion}`);

  const { nodes } = dpt;
  t.is(nodes.length, N);
  t.is(new Set(nodes.map((n) => n.udp)).size, N, 'distinct ephemeral ports');
  for (const n of nodes) {
    t.regex(n.enode, /^enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/);
    t.regex(n.nodeIdHex, /^[0-9a-f]{64}$/);
    t.regex(n.privateKeyHex, /^[0-9a-f]{64}$/);
  }

  for (let i = 1; i < N; i++) {
    const peer = await dpt.bootstrap(i, nodes[0]!.enode);
    t.is(peer.nodeIdHex, nodes[0]!.nodeIdHex, `node ${i} bonded with node 0`);
  }

  const others = (i: number) => nodes.filter((n) => n.index !== i).map((n) => n.nodeIdHex);
  const missing = () => nodes.flatMap((n) => others(n.index).filter((id) => !dpt.known(n.index).has(id)));
  await dpt
    .until('every DPT node to know the other four', () => (missing().length === 0 ? true : undefined), 30_000)
    .catch((err: Error) => {
      throw new Error(`${err.message}; still missing ${missing().length} entries`);
    });

  // The tables themselves agree with the events.
  for (const n of nodes) {
    const table = await dpt.peers(n.index);
    const ids = new Set(table.map((p) => p.nodeIdHex));
    for (const id of others(n.index)) t.true(ids.has(id), `node ${n.index}'s table holds ${id.slice(0, 8)}`);
    for (const p of table) {
      const owner = nodes.find((m) => m.nodeIdHex === p.nodeIdHex);
      t.truthy(owner, `node ${n.index}'s table holds only harness nodes`);
      t.is(p.ip, '127.0.0.1');
      t.is(p.udp, owner!.udp);
    }
  }

  // The wire log: node 0 got PINGs from 1..4 whose `from` names their real endpoints, and answered FINDNODE.
  const pings = dpt.events(0).filter((e): e is DptRecv & { type: 'ping' } => e.event === 'recv' && e.type === 'ping');
  for (let i = 1; i < N; i++) {
    const ping = pings.find((p) => p.nodeIdHex === nodes[i]!.nodeIdHex);
    t.truthy(ping, `node 0 got a PING from node ${i}`);
    t.deepEqual(ping?.from, { ip: '127.0.0.1', udp: nodes[i]!.udp, tcp: nodes[i]!.tcp });
    t.is(ping?.version, 4);
  }
  t.true(dpt.events(0).some((e) => e.event === 'send' && e.type === 'neighbours'));
  t.false(
    dpt.events().some((e) => e.event === 'drop'),
    'no packet failed to decode',
  );
});

test('ping and findNeighbours: a bare PING is answered; FINDNODE without a bond is answered too', async (t) => {
  const dpt = await startDpt(3, { findNeighbours: false, timeoutMs: 1000 });
  t.teardown(() => dpt.stop());
  const [a, b, c] = dpt.nodes;

  const pong = await dpt.ping(1, a!.enode);
  t.is(pong.nodeIdHex, a!.nodeIdHex);
  t.deepEqual(await dpt.peers(1), [], 'a bare PING adds nothing');

  await dpt.bootstrap(0, c!.enode); // node 0 now knows node 2 (and does not look for more)
  await dpt.findNeighbours(1, a!.enode, b!.publicKeyHex);
  const answer = await dpt.until(
    'node 1 to get NEIGHBORS from node 0',
    () =>
      dpt.events(1).find((e): e is DptRecv & { type: 'neighbours' } => e.event === 'recv' && e.type === 'neighbours'),
    10_000,
  );
  t.is(answer.nodeIdHex, a!.nodeIdHex);
  t.true(answer.nodes.some((n) => n.nodeIdHex === c!.nodeIdHex && n.udp === c!.udp));

  // A PING that gets no PONG (a socket that reads and never answers) fails within DPT's timeout.
  const silent = createSocket('udp4');
  t.teardown(() => silent.close());
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
  const started = Date.now();
  await t.throwsAsync(dpt.ping(2, { ip: '127.0.0.1', udp: silent.address().port }), { message: /Timeout/ });
  t.true(Date.now() - started < 10_000);
});
