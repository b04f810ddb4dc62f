/**
 * Random and mutated discv4 datagrams at a live node that serves both protocols, on the backend
 * this run uses: byte mutations of valid packets of every type (most then fail the hash, as
 * another protocol's traffic would), mutations of the packet data signed again (so that they get
 * past the hash and signature into the RLP and field checks), and valid hashes over junk
 * signatures. Nothing may escape the receive path, nothing the node keeps may grow past its
 * bounds, and an honest peer must still get answers on both protocols afterwards.
 */
import test from 'ava';
import { encodeMessage } from '../ts/discv4/messages.js';
import { expirationFrom, nowSeconds } from '../ts/discv4/packet.js';
import { type Discv4Message, PacketType } from '../ts/discv4/types.js';
import { Discv5, MemoryNetwork } from '../ts/index.js';
import { envCrypto as c, waitFor } from './helpers/nodes.js';
import { Rng } from './helpers/random.js';

const DATAGRAMS = 6_000;

test(`${DATAGRAMS} hostile discv4 datagrams: nothing escapes, state stays bounded, peers still get answers (${c.backend})`, async (t) => {
  const network = new MemoryNetwork({ mtu: 1_500 });
  const start = async (ip: string) => {
    const node = await Discv5.create({
      privateKey: c.generatePrivateKey(),
      crypto: c,
      transport: network.transport(ip),
      config: { requestTimeoutMs: 2_000 },
      discv4: { maxPendingReplies: 64 },
    });
    await node.start();
    t.teardown(() => node.stop());
    return node;
  };
  const victim = await start('203.0.113.1');
  const attacker = network.transport('127.0.0.9');
  await attacker.start();
  t.teardown(() => attacker.stop());
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  const rng = new Rng(0x4f4);
  const key = rng.privateKey();
  const exp = () => expirationFrom(nowSeconds());
  const endpoint = { ip: to.ip, udp: to.port, tcp: 0 };
  const messages: Discv4Message[] = [
    {
      type: PacketType.PING,
      version: 4,
      from: { ip: '127.0.0.9', udp: 1, tcp: 0 },
      to: endpoint,
      expiration: exp(),
      enrSeq: 3n,
    },
    { type: PacketType.PONG, to: endpoint, pingHash: rng.bytes(32), expiration: exp(), enrSeq: 1n },
    { type: PacketType.FINDNODE, target: rng.bytes(64), expiration: exp() },
    {
      type: PacketType.NEIGHBORS,
      nodes: Array.from({ length: 12 }, (_, i) => ({
        ip: `10.0.0.${i + 1}`,
        udp: 30303,
        tcp: 30303,
        publicKey: rng.bytes(64),
      })),
      expiration: exp(),
    },
    { type: PacketType.ENR_REQUEST, expiration: exp() },
    { type: PacketType.ENR_RESPONSE, requestHash: rng.bytes(32), record: victim.localEnr.encoded },
  ];
  const datas = messages.map((m) => ({ type: m.type as number, data: encodeMessage(m) }));
  const mutate = (p: Uint8Array): Uint8Array => rng.mutate(p, 1);

  const kinds = { random: 0, bytes: 0, resigned: 0, junkSignature: 0 };
  for (let sent = 0; sent < DATAGRAMS; ) {
    for (let i = 0; i < 200 && sent < DATAGRAMS; i++, sent++) {
      const roll = rng.int(10);
      const sample = datas[rng.int(datas.length)] as { type: number; data: Uint8Array };
      let datagram: Uint8Array;
      if (roll < 1) {
        kinds.random++;
        datagram = rng.bytes(98 + rng.int(1300));
      } else if (roll < 4) {
        kinds.bytes++;
        datagram = mutate(c.discv4Pack(key, sample.type, sample.data));
      } else if (roll < 8) {
        kinds.resigned++;
        const type = rng.int(8) === 0 ? rng.int(256) : sample.type;
        const data = mutate(sample.data);
        datagram = data.length <= 1182 ? c.discv4Pack(key, type, data) : rng.bytes(200);
      } else {
        kinds.junkSignature++;
        const rest = Buffer.concat([rng.bytes(65), Uint8Array.of(sample.type), sample.data]);
        datagram = Buffer.concat([c.keccak256(rest), rest]);
      }
      attacker.send(datagram, to);
    }
    await new Promise((r) => setImmediate(r));
  }
  await waitFor(
    () => (victim.metrics()['in.datagrams'] ?? 0) + network.stats.oversized >= DATAGRAMS,
    120_000,
    'all datagrams',
  );
  const m = victim.metrics();
  t.log(
    `sent ${JSON.stringify(kinds)}; victim: ${Object.entries(m)
      .filter(([k]) => k.startsWith('discv4.') || k.startsWith('drop.'))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  t.is(m['transport.error'], undefined, 'no exception escaped the receive path');
  // The mutations reached every layer: the hash, the signature, the RLP and the fields.
  t.true((m['drop.malformed-header'] ?? 0) > 500, 'hash failures go to discv5 as not ours');
  t.true((m['discv4.drop.bad-signature'] ?? 0) > 300);
  t.true((m['discv4.drop.bad-rlp'] ?? 0) + (m['discv4.drop.bad-field'] ?? 0) > 300);
  t.true((m['discv4.drop.unknown-type'] ?? 0) > 30);
  t.true((m['discv4.in.ping'] ?? 0) > 10, 'valid PINGs among the mutations were answered');
  t.is(m['discv4.out.pong'], m['discv4.in.ping']);
  // Bounded: replies awaited (ping-backs capped at a quarter of 64) and endpoint proofs.
  t.true((m['state.discv4.pendingReplies'] ?? 0) <= 16);
  t.true((m['state.discv4.bonds'] ?? 0) <= 10_000);

  const honest = await start('203.0.113.2');
  const pong = await honest.discv4?.ping(victim.discv4?.enode as string);
  t.is(pong?.enrSeq, victim.localEnr.seq);
  t.is((await honest.ping(victim.localEnr)).enrSeq, victim.localEnr.seq);
});
