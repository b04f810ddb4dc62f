/**
 * Sessions and the handshake, end to end between live nodes: all four backend pairings on both
 * transports, simultaneous handshakes, a lost WHOAREYOU, session expiry, an address change,
 * replayed packets, the repeated-WHOAREYOU rule, request-id limits, queued requests, and
 * WHOAREYOU only for our own nonces, once per call and only while the request is pending (review
 * M4); our handshake counts as established only once the peer answers in it (review M7).
 */
import { randomFillSync } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { Enr, MemoryNetwork } from '../ts/index.js';
import { decodeMessage, encodeMessage } from '../ts/message/codec.js';
import { type Message, MessageType } from '../ts/message/types.js';
import { decodePacket } from '../ts/packet/decode.js';
import {
  encodeHandshakePacket,
  encodeMessagePacket,
  encodeRandomPacket,
  encodeWhoareyou,
} from '../ts/packet/encode.js';
import type { HandshakePacket, Packet } from '../ts/packet/types.js';
import type { PacketGate } from '../ts/policy/gate.js';
import { Challenges, FRESH_AFTER_MS } from '../ts/session/challenges.js';
import { acceptHandshake } from '../ts/session/handshake.js';
import type { SocketAddress } from '../ts/transport/types.js';
import { bytesEqual, toHex } from '../ts/util/bytes.js';
import { envCrypto, sleep, startNode, waitFor } from './helpers/nodes.js';
import { rawClient } from './helpers/raw.js';

const pairings = [
  ['native', 'native'],
  ['native', 'js'],
  ['js', 'native'],
  ['js', 'js'],
] as const;

for (const transport of ['memory', 'udp'] as const) {
  for (const [ba, bb] of pairings) {
    test(`${transport}: ${ba} -> ${bb}: handshake, ping, FINDNODE [0], TALKREQ, and the way back in the same session`, async (t) => {
      const place = transport === 'udp' ? 'udp' : { network: new MemoryNetwork() };
      const a = await startNode(t, place, { backend: ba });
      const b = await startNode(t, place, { backend: bb });
      b.registerTalkHandler('echo', (req) => req);
      const pong = await a.ping(b.localEnr);
      t.is(pong.enrSeq, b.localEnr.seq);
      t.is(pong.port, a.addresses[0]?.port as number);
      t.is(pong.ip, '127.0.0.1');
      const [record] = await a.findNodes(b.localEnr, [0]);
      t.is(record?.nodeIdHex, b.localEnr.nodeIdHex);
      t.is(new TextDecoder().decode(await a.talkReq(b.localEnr, 'echo', new TextEncoder().encode('x'))), 'x');
      // b already knows a from the handshake: it answers and asks within the same session.
      await b.ping(a.localEnr);
      t.is(a.metrics()['handshake.outbound'], 1);
      t.is(b.metrics()['handshake.inbound'], 1);
      t.is(b.metrics()['handshake.outbound'], undefined);
    });
  }
}

test('simultaneous handshakes settle: both sides keep talking', async (t) => {
  const network = new MemoryNetwork({ latencyMs: 5 });
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  await Promise.all([a.ping(b.localEnr), b.ping(a.localEnr)]);
  const handshakes = (n: typeof a) => {
    const m = n.metrics();
    return (m['handshake.outbound'] ?? 0) + (m['handshake.inbound'] ?? 0);
  };
  const settled = [handshakes(a), handshakes(b)];
  t.true(
    settled.every((n) => n >= 1 && n <= 2),
    `handshakes ${settled}`,
  );
  const more = await Promise.all(
    Array.from({ length: 10 }, (_, i) => (i % 2 ? a.ping(b.localEnr) : b.ping(a.localEnr))),
  );
  // Every ping was answered by the node asked, and the later pings took no new handshake.
  t.deepEqual(
    more.map((pong) => pong.enrSeq),
    more.map((_, i) => (i % 2 ? b : a).localEnr.seq),
  );
  t.deepEqual([handshakes(a), handshakes(b)], settled, 'no handshake after the first exchange');
  t.is(a.metrics()['state.sessions'], 1, 'one session each way');
  t.is(b.metrics()['state.sessions'], 1);
});

test('a lost WHOAREYOU: the retry starts contact again and succeeds', async (t) => {
  const network = new MemoryNetwork();
  let dropped = 0;
  network.intercept((data) => {
    // WHOAREYOU is the only 63-byte packet.
    if (data.length === 63 && dropped === 0) {
      dropped++;
      return false;
    }
    return true;
  });
  const a = await startNode(t, { network }, { config: { requestTimeoutMs: 1_000, requestRetries: 3 } });
  const b = await startNode(t, { network });
  await a.ping(b.localEnr);
  t.is(dropped, 1);
  // One retry is what it takes; a machine busy enough to let a timeout pass before an answer may take more.
  t.true((a.metrics()['request.retry'] ?? 0) >= 1);
  t.is(b.metrics()['handshake.inbound'], 1);
});

test('an expired session is renewed by a new handshake', async (t) => {
  const network = new MemoryNetwork();
  // Maintenance pinging the newcomer back (the inbound ping-back, and the check of new entries)
  // would race the expiry: its PING, arriving after a's session expired, makes a handshake of its
  // own; this test is about expiry alone. Long request limits: under load a PING retried after 1 s
  // would make a handshake of its own too.
  const config = {
    sessionTtlMs: 1_000,
    inboundPingDelayMs: 60_000,
    revalidateNewIntervalMs: 0,
    requestTimeoutMs: 10_000,
    handshakeTimeoutMs: 10_000,
  };
  const a = await startNode(t, { network }, { config });
  const b = await startNode(t, { network }, { config });
  await a.ping(b.localEnr);
  await sleep(1_100);
  await a.ping(b.localEnr);
  t.is(a.metrics()['handshake.outbound'], 2);
  t.true((a.metrics()['session.expired'] ?? 0) >= 1);
});

test('the same key from another address gets WHOAREYOU and a session of its own', async (t) => {
  const network = new MemoryNetwork();
  const key = envCrypto.generatePrivateKey();
  const a1 = await startNode(t, { network }, { privateKey: key });
  const b = await startNode(t, { network });
  await a1.ping(b.localEnr);
  await a1.stop();
  const a2 = await startNode(t, { network }, { privateKey: key });
  t.not(a2.addresses[0]?.port, a1.localEnr.udp);
  await a2.ping(b.localEnr);
  t.is(b.metrics()['out.packet.whoareyou'], 2);
  t.is(b.metrics()['state.sessions'], 2);
});

test('replayed packets: a handshake finds no challenge; a replayed request draws an answer nobody waits for', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  const fromA: { data: Uint8Array; from: SocketAddress; to: SocketAddress }[] = [];
  network.intercept((data, from, to) => {
    if (from.port === a.addresses[0]?.port) fromA.push({ data: Uint8Array.from(data), from, to });
    return true;
  });
  await a.ping(b.localEnr);
  await a.ping(b.localEnr);
  network.intercept(undefined);
  // Picked by kind, not position: under load a request may be sent again, adding packets.
  const flagOf = (d: Uint8Array) => {
    const p = decodePacket(envCrypto, b.nodeId.subarray(0, 16), d);
    return typeof p === 'string' ? undefined : p.flag;
  };
  const at = fromA.findIndex((p) => flagOf(p.data) === 2);
  const handshake = fromA[at];
  // The second PING: a's first message packet after its handshake.
  const message = fromA.slice(at + 1).find((p) => flagOf(p.data) === 0);
  if (handshake === undefined || message === undefined) return t.fail('expected a handshake and a message from a');
  const answered = b.metrics()['out.response.2'] ?? 0;
  const unexpected = a.metrics()['drop.unexpected-response'] ?? 0;
  // Replayed from a's own address, as an on-path attacker would (the endpoint binding is then no obstacle).
  const viaA = (d: Uint8Array) => network.route(d, handshake.from, handshake.to);
  viaA(handshake.data);
  viaA(message.data);
  await waitFor(() => a.metrics()['drop.unexpected-response'] === unexpected + 1, 5_000, 'the replayed answer');
  t.is(b.metrics()['drop.handshake-without-challenge'], 1);
  t.is(b.metrics()['out.response.2'], answered + 1, 'the replayed PING is answered again...');
  t.is(a.metrics()['drop.unexpected-response'], unexpected + 1, '...and the answer matches nothing a is waiting for');
});

test('while a challenge is pending, undecryptable packets get the very same WHOAREYOU', async (t) => {
  const network = new MemoryNetwork();
  const b = await startNode(t, { network }, { config: { challengeTtlMs: 200 } });
  const client = await rawClient(t, network);
  const packetTo = () => encodeRandomPacket(envCrypto, b.nodeId, client.nodeId, randomFillSync(new Uint8Array(12)));
  client.send(packetTo(), b);
  client.send(packetTo(), b);
  await waitFor(() => client.received.length >= 2, 5_000, 'two WHOAREYOU');
  t.is(toHex(client.received[0] as Uint8Array), toHex(client.received[1] as Uint8Array));
  t.is(b.metrics()['out.packet.whoareyou'], 1);
  t.is(b.metrics()['out.packet.whoareyou-repeat'], 1);
  await sleep(250);
  client.send(packetTo(), b);
  await waitFor(() => client.received.length >= 3, 5_000, 'a third WHOAREYOU');
  t.not(
    toHex(client.received[2] as Uint8Array),
    toHex(client.received[0] as Uint8Array),
    'after the challenge expires, a new one',
  );
});

test('request ids over 8 bytes get no answer; an empty one is answered', async (t) => {
  const network = new MemoryNetwork();
  const b = await startNode(t, { network });
  const client = await rawClient(t, network);
  // b may ping the client back (its inbound ping-back): only PONGs are answers here.
  const messages = client.messages();
  const answers = {
    get length() {
      return messages.filter((m) => m.message.type === MessageType.PONG).length;
    },
    at: (i: number) => messages.filter((m) => m.message.type === MessageType.PONG)[i],
  };
  const ping = (requestId: Uint8Array) => encodeMessage({ type: MessageType.PING, requestId, enrSeq: 1n });
  client.session.sendRequest(client.contactOf(b), ping(new Uint8Array(9)));
  await waitFor(() => b.metrics()['drop.bad-request-id'] === 1, 5_000, 'the drop');
  await sleep(50); // time enough for an answer, were one (wrongly) sent
  t.is(answers.length, 0);
  client.session.sendRequest(client.contactOf(b), ping(new Uint8Array(0)));
  await waitFor(() => answers.length >= 1, 5_000, 'the PONG');
  t.is(answers.length, 1);
  t.is(answers.at(0)?.message.requestId.length, 0);
});

test('requests made during a handshake are all delivered once it completes', async (t) => {
  const network = new MemoryNetwork({ latencyMs: 3 });
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  b.registerTalkHandler('t', () => Uint8Array.of(7));
  const results = await Promise.all([
    a.ping(b.localEnr),
    a.ping(b.localEnr),
    a.findNodes(b.localEnr, [0]),
    a.talkReq(b.localEnr, 't', new Uint8Array(0)),
    a.ping(b.localEnr),
  ]);
  t.is(results.length, 5);
  t.is(a.metrics()['out.packet.random'], 1);
  t.is(b.metrics()['handshake.inbound'], 1);
});

test('a WHOAREYOU that names no nonce of ours is ignored', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network });
  const client = await rawClient(t, network);
  const { packet } = encodeWhoareyou(
    envCrypto,
    a.nodeId,
    randomFillSync(new Uint8Array(12)),
    randomFillSync(new Uint8Array(16)),
    0n,
  );
  client.send(packet, a);
  await waitFor(() => a.metrics()['drop.unsolicited-whoareyou'] === 1, 5_000, 'the drop');
  await sleep(30);
  t.is(client.received.length, 0);
});

test('every request ends: timeout after the retries, abort, stop', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network }, { config: { requestTimeoutMs: 100, requestRetries: 1 } });
  const b = await startNode(t, { network });
  const enrB = b.localEnr;
  await b.stop();
  const started = Date.now();
  const timeout = await t.throwsAsync(a.ping(enrB));
  t.is((timeout as { code?: string }).code, 'ERR_REQUEST_TIMEOUT');
  t.true(Date.now() - started >= 190);
  const controller = new AbortController();
  const aborted = a.ping(enrB, { signal: controller.signal });
  controller.abort();
  t.is(((await t.throwsAsync(aborted)) as { code?: string }).code, 'ERR_ABORTED');
  const pending = a.findNodes(enrB, [256]);
  await a.stop();
  t.is(((await t.throwsAsync(pending)) as { code?: string }).code, 'ERR_STOPPED');
  t.is(((await t.throwsAsync(a.ping(enrB))) as { code?: string }).code, 'ERR_STOPPED');
});

/**
 * A peer played by hand: it sees every packet sent to it (unmasked), and can challenge, complete
 * the handshake as the recipient and answer in the session, one step at a time.
 */
async function handPeer(t: ExecutionContext, network: MemoryNetwork) {
  const privateKey = envCrypto.generatePrivateKey();
  const transport = network.transport();
  const enr = Enr.create(privateKey, { ip: transport.address.ip, udp: transport.address.port }, envCrypto);
  const nodeId = enr.nodeId;
  const inbox: { packet: Packet; data: Uint8Array; from: SocketAddress }[] = [];
  transport.onPacket((data, from) => {
    const packet = decodePacket(envCrypto, nodeId.subarray(0, 16), data);
    if (typeof packet !== 'string') inbox.push({ packet, data: Uint8Array.from(data), from });
  });
  await transport.start();
  t.teardown(() => transport.stop());
  let keys: { read: Uint8Array; write: Uint8Array; peerId: Uint8Array; to: SocketAddress } | undefined;
  const peer = {
    enr,
    nodeId,
    inbox,
    contact: { nodeId, publicKey: enr.publicKey, socket: transport.address, enr },
    of: (flag: 0 | 1 | 2) => inbox.filter((x) => x.packet.flag === flag),
    /** A WHOAREYOU naming the nonce of the `i`-th flag-0 packet received; a fresh challenge each call. */
    whoareyou(i = 0) {
      const first = peer.of(0)[i];
      if (first === undefined || first.packet.flag !== 0) throw new Error('no flag-0 packet to challenge');
      const { packet, challengeData } = encodeWhoareyou(
        envCrypto,
        first.packet.srcId,
        first.packet.nonce,
        randomFillSync(new Uint8Array(16)),
        0n,
      );
      return { packet, challengeData, to: first.from };
    },
    send(data: Uint8Array, to: SocketAddress) {
      transport.send(data, to);
    },
    /** Completes the handshake received as recipient of `challengeData`; the message it carried. */
    accept(challengeData: Uint8Array): Message {
      const hs = peer.of(2)[0];
      if (hs === undefined) throw new Error('no handshake received');
      const p = hs.packet as HandshakePacket;
      const publicKey = Enr.decode(p.record as Uint8Array, envCrypto).publicKey;
      const k = envCrypto.handshakeRespond(
        privateKey,
        publicKey,
        p.ephemeralPublicKey,
        p.idSignature,
        challengeData,
        p.srcId,
        nodeId,
      );
      if (k === null) throw new Error('handshake does not verify');
      keys = { read: k.initiatorKey, write: k.recipientKey, peerId: Uint8Array.from(p.srcId), to: hs.from };
      return decodeMessage(envCrypto.openPacket(k.initiatorKey, p.header, p.datagram) as Uint8Array) as Message;
    },
    /** The messages received in the session (flag 0, decrypted), in order. */
    messages(): Message[] {
      const out: Message[] = [];
      for (const x of peer.of(0)) {
        if (keys === undefined || x.packet.flag !== 0) continue;
        const pt = envCrypto.openPacket(keys.read, x.packet.header, x.packet.datagram);
        if (pt !== null) out.push(decodeMessage(pt) as Message);
      }
      return out;
    },
    /** Answers a PING in the session. */
    pong(requestId: Uint8Array) {
      if (keys === undefined) throw new Error('no session');
      const pong = encodeMessage({ type: MessageType.PONG, requestId, enrSeq: 1n, ip: keys.to.ip, port: keys.to.port });
      const nonce = randomFillSync(new Uint8Array(12));
      transport.send(encodeMessagePacket(envCrypto, keys.peerId, nodeId, nonce, keys.write, pong), keys.to);
    },
  };
  return peer;
}

const pingMessage = (n: number) => encodeMessage({ type: MessageType.PING, requestId: Uint8Array.of(n), enrSeq: 1n });

test('one handshake per call: another challenge for the same nonce is refused, repeats of the same one get the same handshake twice at most (M4)', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network }, { config: { requestTimeoutMs: 10_000, requestRetries: 0 } });
  const b = await handPeer(t, network);
  a.ping(b.enr).catch(() => {}); // never answered; rejected when a stops
  await waitFor(() => b.of(0).length === 1, 5_000, 'the first contact');
  const first = b.whoareyou();
  b.send(first.packet, first.to);
  await waitFor(() => b.of(2).length === 1, 5_000, 'the handshake');
  const handshake = b.of(2)[0]?.data as Uint8Array;
  const other = b.whoareyou(); // same nonce, new id-nonce: other challenge data
  const delivered = network.stats.delivered;
  b.send(other.packet, other.to);
  for (let i = 0; i < 3; i++) b.send(first.packet, first.to);
  await waitFor(() => network.stats.delivered >= delivered + 4 + 2, 5_000, 'the WHOAREYOUs and the answers');
  const m = a.metrics();
  t.is(m['drop.whoareyou-twice'], 1);
  t.is(m['handshake.outbound'], 1, 'no second handshake');
  t.is(m['out.packet.handshake-repeat'], 2);
  t.is(m['drop.handshake-repeat-limit'], 1);
  t.is(b.of(2).length, 3, 'the handshake and two repeats');
  t.true(
    b.of(2).every((x) => bytesEqual(x.data, handshake)),
    'repeats are the same bytes',
  );
});

test('a WHOAREYOU naming a request already answered is ignored (M4)', async (t) => {
  const network = new MemoryNetwork();
  const a = await startNode(t, { network });
  const b = await startNode(t, { network });
  const toB: Uint8Array[] = [];
  network.intercept((data, from, to) => {
    if (from.port === a.addresses[0]?.port && to.port === b.addresses[0]?.port) toB.push(Uint8Array.from(data));
    return true;
  });
  await a.ping(b.localEnr);
  const before = toB.length;
  await a.ping(b.localEnr);
  const packet = decodePacket(envCrypto, b.nodeId.subarray(0, 16), toB[before] as Uint8Array);
  if (typeof packet === 'string' || packet.flag !== 0) return t.fail('expected the PING from a, in the session');
  // What an on-path observer could send: a WHOAREYOU for the answered PING, from b's address.
  const { packet: whoareyou } = encodeWhoareyou(envCrypto, a.nodeId, packet.nonce, new Uint8Array(16), 0n);
  network.route(whoareyou, b.addresses[0] as SocketAddress, a.addresses[0] as SocketAddress);
  await waitFor(() => a.metrics()['drop.unsolicited-whoareyou'] === 1, 5_000, 'the drop');
  t.is(a.metrics()['handshake.outbound'], 1, 'the working session was not replaced');
  await a.ping(b.localEnr);
  t.is(b.metrics()['handshake.inbound'], 1);
});

test('our handshake is established once the peer answers in it, not when we answer its WHOAREYOU (M7)', async (t) => {
  const network = new MemoryNetwork();
  const client = await rawClient(t, network);
  const b = await handPeer(t, network);
  const established: boolean[] = [];
  client.session.on('established', (_peer, _enr, inbound) => established.push(inbound));
  const messages = client.messages();
  client.session.sendRequest(b.contact, pingMessage(1));
  await waitFor(() => b.of(0).length === 1, 5_000, 'the first contact');
  const challenge = b.whoareyou();
  b.send(challenge.packet, challenge.to);
  await waitFor(() => b.of(2).length === 1, 5_000, 'the handshake');
  const request = b.accept(challenge.challengeData);
  t.is(request.type, MessageType.PING);
  t.deepEqual(established, [], 'not established on sending the handshake');
  b.pong(request.requestId);
  await waitFor(() => messages.length === 1, 5_000, 'the PONG');
  t.deepEqual(established, [false], 'established (outbound) once the answer decrypted');
  t.is(messages[0]?.message.type, MessageType.PONG);
});

test('requests made during our handshake wait for the first answer of the peer; those no longer pending are never sent (M4, spec 4.6)', async (t) => {
  const network = new MemoryNetwork();
  const client = await rawClient(t, network);
  const b = await handPeer(t, network);
  const { contact } = b;
  let secondPending = true;
  client.session.sendRequest(contact, pingMessage(1));
  client.session.sendRequest(contact, pingMessage(2), { pending: () => secondPending });
  client.session.sendRequest(contact, pingMessage(3));
  await waitFor(() => b.of(0).length === 1, 5_000, 'the first contact');
  secondPending = false; // say, it timed out
  const challenge = b.whoareyou();
  b.send(challenge.packet, challenge.to);
  await waitFor(() => b.of(2).length === 1, 5_000, 'the handshake');
  const request = b.accept(challenge.challengeData);
  const delivered = network.stats.delivered;
  client.session.sendRequest(contact, pingMessage(4)); // made after the handshake went out: waits too
  await new Promise((r) => setImmediate(r));
  t.is(network.stats.delivered, delivered, 'nothing sent before the peer answered');
  t.is(b.messages().length, 0);
  b.pong(request.requestId);
  await waitFor(() => b.messages().length >= 2, 5_000, 'the queued requests');
  t.deepEqual(
    b.messages().map((m) => toHex(m.requestId)),
    ['03', '04'],
    'the queue, less the request no longer pending',
  );
});

test('a failed inbound handshake proves its source only once the id-signature over our challenge verified (H4)', (t) => {
  const key = (k: Uint8Array) => ({
    crypto: envCrypto,
    privateKey: k,
    nodeId: envCrypto.nodeIdFromPublicKey(envCrypto.publicKeyFromPrivate(k)) as Uint8Array,
  });
  const a = key(envCrypto.generatePrivateKey()); // the initiator
  const b = key(envCrypto.generatePrivateKey()); // us, the recipient
  const enrA = Enr.create(a.privateKey, { ip: '198.51.100.1', udp: 9000 }, envCrypto);
  const socket: SocketAddress = { ip: '198.51.100.1', port: 9000, family: 4 };
  const nonce = randomFillSync(new Uint8Array(12));
  const { packet: w, challengeData } = encodeWhoareyou(
    envCrypto,
    a.nodeId,
    nonce,
    randomFillSync(new Uint8Array(16)),
    0n,
  );
  t.is(w.length, 63);
  const challenge = {
    nonce: new Uint8Array(12),
    issuedAt: 0,
    challengeData,
    packet: w,
    expiresAt: Number.POSITIVE_INFINITY,
    enr: undefined,
  };
  const init = envCrypto.handshakeInitiate(
    a.privateKey,
    envCrypto.publicKeyFromPrivate(b.privateKey),
    challengeData,
    a.nodeId,
    b.nodeId,
  );
  if (init === null) return t.fail('initiate');
  const handshake = (idSignature: Uint8Array, writeKey: Uint8Array) => {
    const data = encodeHandshakePacket(
      envCrypto,
      b.nodeId,
      a.nodeId,
      nonce,
      idSignature,
      init.ephemeralPublicKey,
      enrA.encoded,
      writeKey,
      pingMessage(1),
    );
    const p = decodePacket(envCrypto, b.nodeId.subarray(0, 16), data);
    if (typeof p === 'string' || p.flag !== 2) throw new Error('not a handshake packet');
    return acceptHandshake(b, challenge, undefined, p, { nodeId: a.nodeId, socket }, 1e15);
  };
  const good = handshake(init.idSignature, init.initiatorKey);
  t.false('reason' in good, 'a valid handshake is accepted');
  const forgedSig = Uint8Array.from(init.idSignature);
  forgedSig[5] = (forgedSig[5] as number) ^ 1;
  t.deepEqual(handshake(forgedSig, init.initiatorKey), { reason: 'handshake-bad-signature', proven: false });
  t.deepEqual(handshake(init.idSignature, init.recipientKey), { reason: 'handshake-bad-message', proven: true });
});

test('a retry with a new nonce gets a fresh WHOAREYOU naming it, through the budget; a burst gets the same one', (t) => {
  let now = 1_000;
  let verdict: 'pass' | 'handshake-budget' = 'pass';
  const gate = { allowChallenge: () => verdict } as unknown as PacketGate;
  const challenges = new Challenges({
    crypto: envCrypto,
    findEnr: () => undefined,
    gate,
    capacity: 16,
    ttlMs: 10_000,
    now: () => now,
  });
  const src = new Uint8Array(32).fill(7);
  const nonce = (b: number) => new Uint8Array(12).fill(b);
  const first = challenges.challenge('peer', src, nonce(1), '127.0.0.1');
  if (typeof first === 'string') throw new Error(first);
  t.false(first.repeat);
  // A burst (another nonce within FRESH_AFTER_MS) and a retransmission (the same nonce, later): the same packet.
  now += FRESH_AFTER_MS - 1;
  t.deepEqual(challenges.challenge('peer', src, nonce(2), '127.0.0.1'), { packet: first.packet, repeat: true });
  now += 5_000;
  t.deepEqual(challenges.challenge('peer', src, nonce(1), '127.0.0.1'), { packet: first.packet, repeat: true });
  // A new nonce after that: a fresh challenge that names it, and it replaces the old one.
  const fresh = challenges.challenge('peer', src, nonce(3), '127.0.0.1');
  if (typeof fresh === 'string') throw new Error(fresh);
  t.false(fresh.repeat);
  t.false(bytesEqual(fresh.packet, first.packet));
  t.true(bytesEqual(challenges.take('peer')?.nonce ?? new Uint8Array(), nonce(3)));
  // The budget still decides: a refused fresh challenge is refused.
  challenges.challenge('peer', src, nonce(4), '127.0.0.1');
  now += FRESH_AFTER_MS;
  verdict = 'handshake-budget';
  t.is(challenges.challenge('peer', src, nonce(5), '127.0.0.1'), 'handshake-budget');
});
