/**
 * Scenario a: five js-libp2p nodes, each given only one bootnode record (a plain discv5 node), find
 * and dial each other over TCP until every node is connected to every other.
 * Prints { backend, connectMs, firstPeerMs, matrix, reported, records }.
 */
import { bootnode, fullMesh, libp2pNode, matrix, type Node, report, stopAll, until } from './common.js';

const boot = await bootnode();
const started = performance.now();
const nodes: Node[] = [];
for (let i = 0; i < 5; i++) nodes.push(await libp2pNode({ bootnodes: [boot.localEnr.text] }));
let firstPeerMs: number | undefined;
for (const n of nodes) {
  n.services.discovery.addEventListener('peer', () => {
    firstPeerMs ??= performance.now() - started;
  });
}
await Promise.all(nodes.map((n) => n.start()));
const events = ['connection:open', 'connection:close', 'peer:connect'];
let connectMs: number;
try {
  await until('a full mesh', () => fullMesh(nodes), nodes, events, 60_000);
  connectMs = performance.now() - started;
} catch (err) {
  process.stderr.write(`${(err as Error).message}: ${JSON.stringify(matrix(nodes))}\n`);
  connectMs = -1;
}
// Connected does not mean discovered (a node may have been dialled first): wait for every report too.
const services = nodes.map((n) => n.services.discovery);
const reportedAll = () => services.every((s) => (s.metrics()['peer.reported'] ?? 0) >= 4);
await until('every node to report every other', reportedAll, services, ['peer'], 30_000).catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
});
const result = {
  backend: nodes[0]?.services.discovery.discv5.crypto.backend,
  connectMs: Math.round(connectMs),
  firstPeerMs: Math.round(firstPeerMs ?? -1),
  matrix: matrix(nodes),
  reported: nodes.map((n) => n.services.discovery.metrics()['peer.reported'] ?? 0),
  records: nodes.map((n) => n.services.discovery.discv5.localEnr.tcp),
  listen: nodes.map((n) => Number(n.getMultiaddrs()[0]?.toString().split('/')[4])),
};
await stopAll(nodes);
await boot.stop();
report(result);
