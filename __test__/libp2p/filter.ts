/**
 * Scenario b: every node reports only records of its own fork digest. Four nodes share one digest;
 * a fifth carries another (through `enr`). The four connect to each other; nobody connects to the
 * fifth, although each of the four has learned its record (and filtered it out).
 * Prints { connectMs, matrix, outsiderPeers, filtered, outsiderSeenBy }.
 */
import type { Enr } from '../../ts/enr/enr.js';
import { bootnode, fullMesh, libp2pNode, matrix, type Node, report, stopAll, until, untilRecord } from './common.js';

const digestA = Uint8Array.of(0x6a, 0x95, 0xa1, 0xa9);
const digestB = Uint8Array.of(0xb5, 0x30, 0x3f, 0x2a);
const eth2 = (forkDigest: Uint8Array) => ({
  forkDigest,
  nextForkVersion: new Uint8Array(4),
  nextForkEpoch: 2n ** 64n - 1n,
});
const sameDigest = (d: Uint8Array) => (enr: Enr) => Buffer.from(enr.forkDigest ?? []).equals(d);

const boot = await bootnode();
const started = performance.now();
const members: Node[] = [];
for (let i = 0; i < 4; i++) {
  members.push(
    await libp2pNode({ bootnodes: [boot.localEnr.text], enr: { eth2: eth2(digestA) }, filter: sameDigest(digestA) }),
  );
}
const outsider = await libp2pNode({
  bootnodes: [boot.localEnr.text],
  enr: { eth2: eth2(digestB) },
  filter: sameDigest(digestB),
});
const all = [...members, outsider];
await Promise.all(all.map((n) => n.start()));
const events = ['connection:open', 'connection:close', 'peer:connect'];
const connectMs = await until('the members in a full mesh', () => fullMesh(members), all, events, 60_000);
// Every member has learned the outsider's record (so the filter, not ignorance, kept it away).
const outsiderId = outsider.services.discovery.discv5.nodeId;
const seenMs = await Promise.all(
  members.map((m) => untilRecord(m.services.discovery.discv5, (e) => Buffer.from(e.nodeId).equals(outsiderId), 30_000)),
);
// And the outsider has learned every member's record and reported none of them.
const memberIds = members.map((m) => Buffer.from(m.services.discovery.discv5.nodeId));
await Promise.all(
  memberIds.map((id) => untilRecord(outsider.services.discovery.discv5, (e) => id.equals(e.nodeId), 30_000)),
);
// Connected does not mean discovered (a member may have been dialled first): wait for every report too.
const services = members.map((m) => m.services.discovery);
const reportedAll = () => services.every((s) => (s.metrics()['peer.reported'] ?? 0) >= 3);
await until('every member to report every other', reportedAll, services, ['peer'], 30_000);
const result = {
  search: 'filter (default with a filter)',
  connectMs: Math.round(connectMs),
  totalMs: Math.round(performance.now() - started),
  matrix: matrix(all),
  outsiderPeers: outsider.getPeers().length,
  membersConnectedToOutsider: members.filter((m) => m.getPeers().some((p) => p.equals(outsider.peerId))).length,
  filtered: all.map((n) => n.services.discovery.metrics()['peer.filtered'] ?? 0),
  reported: all.map((n) => n.services.discovery.metrics()['peer.reported'] ?? 0),
  outsiderSeenBy: seenMs.length,
  rounds: all.map((n) => n.services.discovery.metrics()['search.rounds'] ?? 0),
};
await stopAll(all);
await boot.stop();
report(result);
