/**
 * FINDNODE answers end to end: records packed ~1,000 bytes per NODES message, gathered across
 * messages, verified in batches, checked against the distances asked for, and deduplicated; and
 * answers from anyone but the node asked are ignored.
 */
import test from 'ava';
import { EnrDecoder } from '../ts/enr/batch.js';
import { Enr as EnrClass } from '../ts/enr/enr.js';
import { Discv5, type Enr, MemoryNetwork } from '../ts/index.js';
import { decodeMessage } from '../ts/message/codec.js';
import { type Message, MessageType } from '../ts/message/types.js';
import { DEFAULT_REQUEST_CONFIG } from '../ts/rpc/config.js';
import { RequestManager } from '../ts/rpc/requests.js';
import { packNodes } from '../ts/service/nodes.js';
import type { NodeContact, SessionEvents } from '../ts/session/types.js';
import { socketAddress } from '../ts/transport/address.js';
import { TypedEmitter } from '../ts/util/emitter.js';
import { Counters } from '../ts/util/metrics.js';
import { envCrypto, startNode } from './helpers/nodes.js';

/** Records whose ids lie at log-distance 256 or 255 from `id`. */
function recordsAround(id: Uint8Array, count: number, distance: number): Enr[] {
  const out: Enr[] = [];
  while (out.length < count) {
    const key = envCrypto.generatePrivateKey();
    const enr = EnrClass.create(
      key,
      { ip: `10.0.${out.length}.1`, udp: 9000, tcp: 9000, other: { pad: new Uint8Array(40) } },
      envCrypto,
    );
    if (envCrypto.logDistances(id, enr.nodeId)[0] === distance) out.push(enr);
  }
  return out;
}

test('a FINDNODE answer of 16 records comes in several NODES messages and arrives whole', async (t) => {
  const network = new MemoryNetwork();
  let served: Enr[] = [];
  class Serving extends Discv5 {
    protected override nodesAtDistance(d: number): Enr[] {
      // 255 is answered with records that are really at 256: the asker must drop them.
      return d === 256 || d === 255 ? served : [];
    }
  }
  const b = await startNode(t, { network }, { cls: Serving });
  served = recordsAround(b.nodeId, 16, 256);
  const a = await startNode(t, { network });
  const records = await a.findNodes(b.localEnr, [256, 256]);
  t.is(records.length, 16);
  t.deepEqual(new Set(records.map((r) => r.nodeIdHex)), new Set(served.map((r) => r.nodeIdHex)));
  const messages = b.metrics()['out.response.4'] ?? 0;
  t.true(messages >= 3 && messages <= 6, `${messages} NODES messages`);
  const wrong = await a.findNodes(b.localEnr, [255]);
  t.is(wrong.length, 0);
  t.is(a.metrics()['drop.nodes-wrong-distance'], 16);
  // The same record sent twice (here: in two NODES messages) is kept once.
  served = [...served.slice(0, 8), ...served.slice(0, 8)];
  const twice = await a.findNodes(b.localEnr, [256]);
  t.is(twice.length, 8);
});

test('packNodes: ~1,000 bytes of records per message, the same total in each, one empty message for nothing', (t) => {
  const id = Uint8Array.of(1);
  const records = Array.from({ length: 16 }, () => new Uint8Array(300));
  const packed = packNodes(id, records, 1000);
  t.is(packed.length, 6);
  t.true(packed.every((m) => m.total === 6 && m.enrs.length <= 3));
  t.is(packed.flatMap((m) => m.enrs).length, 16);
  const empty = packNodes(id, [], 1000);
  t.deepEqual(empty, [{ type: MessageType.NODES, requestId: id, total: 1, enrs: [] }]);
});

class StubSession extends TypedEmitter<SessionEvents> {
  readonly sent: Uint8Array[] = [];
  sendRequest(_c: NodeContact, plaintext: Uint8Array) {
    this.sent.push(plaintext);
  }
}

test('a response from an endpoint other than the one asked is ignored', async (t) => {
  const session = new StubSession();
  const counters = new Counters();
  const requests = new RequestManager({
    // biome-ignore lint/suspicious/noExplicitAny: a stub in place of the session layer
    session: session as any,
    crypto: envCrypto,
    decoder: new EnrDecoder(envCrypto),
    counters,
    config: DEFAULT_REQUEST_CONFIG,
  });
  const peer: NodeContact = {
    nodeId: new Uint8Array(32).fill(1),
    publicKey: new Uint8Array(33),
    socket: socketAddress('10.0.0.1', 9000),
  };
  const pong = requests.ping(peer, 1n);
  const { requestId } = decodeMessage(session.sent[0] as Uint8Array) as Message;
  const answer = (socket = peer.socket, nodeId = peer.nodeId) =>
    requests.handleResponse({
      from: { nodeId, socket },
      message: { type: MessageType.PONG, requestId, enrSeq: 1n, ip: '1.2.3.4', port: 1 },
      enr: undefined,
    });
  t.false(answer(socketAddress('10.0.0.2', 9000)));
  t.false(answer(peer.socket, new Uint8Array(32).fill(2)));
  t.is(counters.get('drop.response-wrong-source'), 2);
  t.true(answer());
  t.is((await pong).enrSeq, 1n);
  requests.stop();
});
