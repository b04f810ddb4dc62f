/**
 * Sessions and the handshake, end to end between live nodes: all four backend pairings on both
 * transports, simultaneous handshakes, a lost WHOAREYOU, session expiry, an address change,
 * replayed packets, the repeated-WHOAREYOU rule, request-id limits, queued requests, and
 * WHOAREYOU only for our own nonces.
 */
import { randomFillSync } from 'node:crypto';
import test from 'ava';
import { MemoryNetwork } from '../ts/index.js';
import { encodeMessage } from '../ts/message/codec.js';
import { MessageType } from '../ts/message/types.js';
import { encodeRandomPacket, encodeWhoareyou } from '../ts/packet/encode.js';
import type { SocketAddress } from '../ts/transport/types.js';
import { toHex } from '../ts/util/bytes.js';
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
      t.is(pong.enrSeq, 1n);
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
  const more = await Promise.all(
    Array.from({ length: 10 }, (_, i) => (i % 2 ? a.ping(b.localEnr) : b.ping(a.localEnr))),
  );
  t.is(more.length, 10);
  t.true((a.metrics()['handshake.outbound'] ?? 0) <= 2);
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
  const a = await startNode(t, { network }, { config: { requestTimeoutMs: 200, requestRetries: 2 } });
  const b = await startNode(t, { network });
  await a.ping(b.localEnr);
  t.is(dropped, 1);
  t.is(a.metrics()['request.retry'], 1);
  t.is(b.metrics()['handshake.inbound'], 1);
});

test('an expired session is renewed by a new handshake', async (t) => {
  const network = new MemoryNetwork();
  // The inbound ping-back (maintenance) would race the expiry; this test is about expiry alone.
  const config = { sessionTtlMs: 1_000, inboundPingDelayMs: 60_000 };
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
  const [, handshake, message] = fromA;
  if (handshake === undefined || message === undefined) return t.fail('expected three packets from a');
  network.intercept(undefined);
  // Replayed from a's own address, as an on-path attacker would (the endpoint binding is then no obstacle).
  const viaA = (d: Uint8Array) => network.route(d, handshake.from, handshake.to);
  viaA(handshake.data);
  viaA(message.data);
  await waitFor(() => a.metrics()['drop.unexpected-response'] === 1, 5_000, 'the replayed answer');
  t.is(b.metrics()['drop.handshake-without-challenge'], 1);
  t.is(b.metrics()['out.response.2'], 3, 'the replayed PING is answered again...');
  t.is(a.metrics()['drop.unexpected-response'], 1, '...and the answer matches nothing a is waiting for');
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
  const answers = client.messages();
  const ping = (requestId: Uint8Array) => encodeMessage({ type: MessageType.PING, requestId, enrSeq: 1n });
  client.session.sendRequest(client.contactOf(b), ping(new Uint8Array(9)));
  await waitFor(() => b.metrics()['drop.bad-request-id'] === 1, 5_000, 'the drop');
  await sleep(50); // time enough for an answer, were one (wrongly) sent
  t.is(answers.length, 0);
  client.session.sendRequest(client.contactOf(b), ping(new Uint8Array(0)));
  await waitFor(() => answers.length >= 1, 5_000, 'the PONG');
  t.is(answers.length, 1);
  t.is(answers[0]?.message.type, MessageType.PONG);
  t.is(answers[0]?.message.requestId.length, 0);
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
  t.is(((await t.throwsAsync(a.ping(enrB))) as { code?: string }).code, 'ERR_NOT_STARTED');
});
