/**
 * 100,000 random and mutated datagrams at a live node, on the backend this run uses
 * (.ci/run runs the suite once per backend): random bytes, byte-level mutations of valid packets
 * of every kind, and header-level mutations re-masked with the node's key so that they get past
 * unmasking into the per-flag checks, the session lookup and the handshake. Nothing may escape
 * the receive path, and a legitimate peer must still complete a handshake afterwards.
 */
import test from 'ava';
import { Enr, MemoryNetwork } from '../ts/index.js';
import { encodeMessage } from '../ts/message/codec.js';
import { MessageType } from '../ts/message/types.js';
import {
  encodeHandshakePacket,
  encodeMessagePacket,
  encodeRandomPacket,
  encodeWhoareyou,
} from '../ts/packet/encode.js';
import { envCrypto as c, startNode, waitFor } from './helpers/nodes.js';
import { Rng } from './helpers/random.js';

const DATAGRAMS = 100_000;

test(`${DATAGRAMS} hostile datagrams: nothing escapes, memory stays bounded, a real peer still gets through (${c.backend})`, async (t) => {
  const network = new MemoryNetwork();
  const victim = await startNode(t, { network });
  const attacker = network.transport();
  await attacker.start();
  t.teardown(() => attacker.stop());
  const to = victim.addresses[0] as NonNullable<(typeof victim.addresses)[0]>;
  const rng = new Rng(0xf022);
  const id = victim.nodeId;
  const mask = id.subarray(0, 16);

  // Valid packets of every kind, addressed to the victim, from one identity with a real record:
  // its undecryptable packets open challenges, so mutated handshakes get as far as the record and
  // the signature checks.
  const key = rng.privateKey();
  const self = Enr.create(key, { ip: attacker.address.ip, udp: attacker.address.port }, c);
  const src = self.nodeId;
  const ping = encodeMessage({ type: MessageType.PING, requestId: rng.bytes(8), enrSeq: 1n });
  const eph = c.publicKeyFromPrivate(rng.privateKey());
  const samples = [
    encodeRandomPacket(c, id, src, rng.bytes(12), rng.bytes(16)),
    encodeMessagePacket(c, id, src, rng.bytes(12), rng.bytes(16), ping, rng.bytes(16)),
    encodeWhoareyou(c, id, rng.bytes(12), rng.bytes(16), 5n, rng.bytes(16)).packet,
    encodeHandshakePacket(c, id, src, rng.bytes(12), rng.bytes(64), eph, null, rng.bytes(16), ping, rng.bytes(16)),
    encodeHandshakePacket(
      c,
      id,
      src,
      rng.bytes(12),
      rng.bytes(64),
      eph,
      self.encoded,
      rng.bytes(16),
      ping,
      rng.bytes(16),
    ),
  ];

  const mutateBytes = (p: Uint8Array): Uint8Array => rng.mutate(p);
  const mutateHeader = (p: Uint8Array): Uint8Array => {
    const header = c.unmaskHeader(mask, p) as Uint8Array;
    const h = Uint8Array.from(header.subarray(16));
    // Aim at the fields that steer decoding: version, flag, nonce, authdata-size, sizes in authdata, ids.
    const targets = [6, 7, 8, 9 + rng.int(12), 21, 22, 23 + rng.int(Math.max(1, h.length - 23))];
    for (let n = 1 + rng.int(2); n > 0; n--) h[targets[rng.int(targets.length)] as number] = rng.int(256);
    const message = p.subarray(header.length);
    return c.maskPacket(mask, rng.bytes(16), h, rng.int(4) === 0 ? mutateBytes(message) : message);
  };

  const kinds = { random: 0, bytes: 0, header: 0 };
  for (let sent = 0; sent < DATAGRAMS; ) {
    for (let i = 0; i < 1000 && sent < DATAGRAMS; i++, sent++) {
      const roll = rng.int(10);
      const sample = samples[rng.int(samples.length)] as Uint8Array;
      let datagram: Uint8Array;
      if (roll < 2) {
        kinds.random++;
        datagram = rng.bytes(rng.int(1400));
      } else if (roll < 6) {
        kinds.bytes++;
        datagram = mutateBytes(sample);
      } else {
        kinds.header++;
        datagram = mutateHeader(sample);
      }
      attacker.send(datagram, to);
    }
    // Let the victim's loop run between bursts, as a socket would.
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
      .filter(([k]) => k.startsWith('drop.') || k.startsWith('out.packet'))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  t.is(m['transport.error'], undefined, 'no exception escaped the receive path');
  // The mutations reached deep: past unmasking into the flag checks, and as far as WHOAREYOU.
  t.true((m['drop.malformed-header'] ?? 0) > 1000);
  t.true((m['drop.bad-flag'] ?? 0) + (m['drop.bad-authdata-size'] ?? 0) + (m['drop.bad-version'] ?? 0) > 1000);
  t.true((m['out.packet.whoareyou'] ?? 0) > 1000);
  t.true((m['in.packet.handshake'] ?? 0) > 100);
  t.true(
    (m['drop.handshake-bad-signature'] ?? 0) + (m['drop.handshake-bad-record'] ?? 0) > 10,
    'handshakes reached the checks',
  );
  t.true((m['state.sessions'] ?? 0) <= victim.config.sessionCacheCapacity);

  const peer = await startNode(t, { network });
  const pong = await peer.ping(victim.localEnr);
  t.is(pong.port, peer.addresses[0]?.port as number);
  t.is(victim.metrics()['handshake.inbound'], 1);
});
