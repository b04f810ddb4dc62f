/** Answering requests (service/serve.ts) as a unit: what a PONG says, and that a TALK handler cannot hurt the node. */
import test from 'ava';
import { Enr } from '../ts/index.js';
import { decodeMessage } from '../ts/message/codec.js';
import { MessageType } from '../ts/message/types.js';
import { MAX_TALK_IN_FLIGHT, RequestServer } from '../ts/service/serve.js';
import type { SessionLayer } from '../ts/session/layer.js';
import type { NodeAddress } from '../ts/session/types.js';
import { Counters } from '../ts/util/metrics.js';
import { envCrypto as c } from './helpers/nodes.js';

function server() {
  const sent: Uint8Array[] = [];
  const counters = new Counters();
  const session = { sendResponse: (_to: NodeAddress, plaintext: Uint8Array) => sent.push(plaintext) > 0 };
  const s = new RequestServer({
    session: session as unknown as SessionLayer,
    counters,
    localEnr: () => Enr.create(c.generatePrivateKey(), { ip: '203.0.113.1', udp: 9000 }, c),
    nodesAt: () => [],
    maxNodes: 16,
    recordBytes: 1_000,
    isRunning: () => true,
    onTalkRequest: () => {},
    onPing: () => {},
  });
  return { s, sent, counters };
}

const from = (ip: string): NodeAddress => ({ nodeId: new Uint8Array(32), socket: { ip, port: 9000, family: 6 } });

test('a PING from a link-local address with a zone is answered with the address alone (review L10)', (t) => {
  const { s, sent } = server();
  s.ping(from('fe80::1%eth0'), { type: MessageType.PING, requestId: Uint8Array.of(1), enrSeq: 1n });
  const pong = decodeMessage(sent[0] as Uint8Array);
  t.like(pong, { type: MessageType.PONG, ip: 'fe80::1', port: 9000 });
});

test('TALK handlers that throw, reject or never settle are counted and bounded', async (t) => {
  const { s, sent, counters } = server();
  const talk = (protocol: string) =>
    s.talk(
      from('2001:db8::1'),
      {
        type: MessageType.TALKREQ,
        requestId: Uint8Array.of(2),
        protocol: new TextEncoder().encode(protocol),
        request: Uint8Array.of(1),
      },
      undefined,
    );
  s.register('throws', () => {
    throw new Error('boom');
  });
  s.register('rejects', async () => {
    throw new Error('later boom');
  });
  s.register('hangs', () => new Promise<Uint8Array>(() => {}));
  await talk('throws');
  await talk('rejects');
  t.is(counters.get('callback.error.talkHandler'), 2);
  t.is(sent.length, 2, 'both answered (empty)');
  for (let i = 0; i < MAX_TALK_IN_FLIGHT + 5; i++) void talk('hangs');
  await new Promise((r) => setImmediate(r));
  t.is(counters.get('drop.talk-busy'), 5, 'past the cap, requests are dropped instead of piling up');
});
