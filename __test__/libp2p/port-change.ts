/**
 * Scenario c: a node's TCP port changes. Two nodes find and dial a third (which dials nobody);
 * the third restarts libp2p (the same instance and key: stop, then start, which listens on a new
 * ephemeral port). Its discovery service starts a new discv5 node, whose record (seq above the old
 * one) names the new port; the two learn it through their lookups and dial the new port: each then
 * holds an outbound connection whose remote address has that port.
 * Prints { firstPort, secondPort, seqBefore, seqAfter, reconnectMs, remotePorts, ... }.
 */
import type { Connection } from '@libp2p/interface';
import { bootnode, libp2pNode, type Node, report, stopAll, until } from './common.js';

const tcpPort = (c: Connection) => Number(c.remoteAddr.toString().split('/')[4]);
const listenPort = (n: Node) => Number(n.getMultiaddrs()[0]?.toString().split('/')[4]);

const boot = await bootnode();
const dialers: Node[] = [];
for (let i = 0; i < 2; i++) dialers.push(await libp2pNode({ bootnodes: [boot.localEnr.text] }));
const target = await libp2pNode({ bootnodes: [boot.localEnr.text], dial: false });
// A record of the target with a new address reaches the dialers' peer stores as 'peer:update'
// (libp2p announces 'peer:discovery' once per peer): dial the target again when not connected.
for (const d of dialers) {
  d.addEventListener('peer:update', (evt) => {
    const id = evt.detail.peer.id;
    if (id.equals(target.peerId) && d.getConnections(id).length === 0) d.dial(id).catch(() => {});
  });
}
await Promise.all([...dialers, target].map((n) => n.start()));
const events = ['connection:open', 'connection:close', 'peer:connect'];
const outboundTo = (d: Node, port: number) =>
  d.getConnections(target.peerId).some((c) => c.direction === 'outbound' && tcpPort(c) === port);

const firstPort = listenPort(target);
const seqBefore = target.services.discovery.discv5.localEnr.seq;
const firstMs = await until(
  'both dialers connected to the target',
  () => dialers.every((d) => outboundTo(d, firstPort)),
  dialers,
  events,
  60_000,
);

const restartedAt = performance.now();
await target.stop();
await target.start();
const secondPort = listenPort(target);
// The new record names the new port (published once libp2p listens there).
await until(
  'the record to name the new port',
  () => target.services.discovery.discv5.localEnr.tcp === secondPort,
  [target],
  ['self:peer:update', 'transport:listening'],
  10_000,
).catch(() => 0);
const record = target.services.discovery.discv5.localEnr;
const reconnectMs = await until(
  'both dialers connected to the new port',
  () => dialers.every((d) => outboundTo(d, secondPort)),
  dialers,
  events,
  60_000,
);
const result = {
  firstPort,
  secondPort,
  recordTcp: record.tcp,
  seqBefore: String(seqBefore),
  seqAfter: String(record.seq),
  seqIncreased: record.seq > seqBefore,
  firstConnectMs: Math.round(firstMs),
  reconnectMs: Math.round(performance.now() - restartedAt),
  reconnectAfterRecordMs: Math.round(reconnectMs),
  remotePorts: dialers.map((d) => d.getConnections(target.peerId).map((c) => ({ dir: c.direction, port: tcpPort(c) }))),
  updated: dialers.map((d) => d.services.discovery.metrics()['peer.updated'] ?? 0),
};
await stopAll([...dialers, target]);
await boot.stop();
report(result);
