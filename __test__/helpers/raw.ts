/** A bare session-layer endpoint for probing a node with packets a Discv5 node would never send. */
import type { ExecutionContext } from 'ava';
import { Enr } from '../../ts/enr/enr.js';
import type { Discv5, MemoryNetwork } from '../../ts/index.js';
import { DEFAULT_SESSION_CONFIG } from '../../ts/session/config.js';
import { SessionLayer } from '../../ts/session/layer.js';
import type { InboundMessage, NodeContact } from '../../ts/session/types.js';
import { Counters } from '../../ts/util/metrics.js';
import { envCrypto } from './nodes.js';

export async function rawClient(t: ExecutionContext, network: MemoryNetwork) {
  const privateKey = envCrypto.generatePrivateKey();
  const transport = network.transport();
  const nodeId = envCrypto.nodeIdFromPublicKey(envCrypto.publicKeyFromPrivate(privateKey)) as Uint8Array;
  const enr = Enr.create(privateKey, { ip: transport.address.ip, udp: transport.address.port }, envCrypto);
  const received: Uint8Array[] = [];
  // The session layer takes the transport's handler; tap it to also see raw replies.
  const session = new SessionLayer({
    crypto: envCrypto,
    transport,
    privateKey,
    nodeId,
    localEnr: () => enr,
    findEnr: () => undefined,
    counters: new Counters(),
    config: DEFAULT_SESSION_CONFIG,
  });
  const deliverToSession = (transport as unknown as { deliver: (d: Uint8Array, f: unknown) => void }).deliver.bind(
    transport,
  );
  (transport as unknown as { deliver: (d: Uint8Array, f: unknown) => void }).deliver = (d, f) => {
    received.push(Uint8Array.from(d));
    deliverToSession(d, f);
  };
  await transport.start();
  t.teardown(() => transport.stop());
  return {
    nodeId,
    session,
    received,
    send(data: Uint8Array, to: Discv5) {
      transport.send(data, to.addresses[0] as NonNullable<(typeof to.addresses)[0]>);
    },
    contactOf(node: Discv5): NodeContact {
      return {
        nodeId: node.nodeId,
        publicKey: node.localEnr.publicKey,
        socket: node.addresses[0] as NodeContact['socket'],
        enr: node.localEnr,
      };
    },
    /** Messages the session layer delivers, collected. */
    messages(): InboundMessage[] {
      const out: InboundMessage[] = [];
      session.on('message', (m) => out.push(m));
      return out;
    },
  };
}
