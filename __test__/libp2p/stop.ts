/**
 * Scenario d: app listeners that throw (and reject) on every 'peer' event leave discovery working,
 * and stop() leaves nothing of ours running.
 * - One node's app adds, on node.services.discovery, a listener that throws and one that rejects;
 *   another adds a listener and removes it again, and a `once` listener. The nodes still reach a
 *   full mesh, the process does not crash, and the service counts every throw.
 * - After stop() on every node: each discv5 node is stopped, our listeners are gone from libp2p's
 *   event bus, no UDP socket is left (process.getActiveResourcesInfo(), as before the start), and
 *   no timer, immediate or socket created by this library's code (traced with async_hooks: the
 *   first caller outside Node's internals is a file under ts/) is still alive. libp2p's own timers
 *   (dial queue, upgrader, identify) may outlive stop() for a while: they are not ours to judge.
 * Prints { connectMs, thrown, rejected, counted, ours, resourcesBefore, resourcesAfter, ... }.
 */
import { createHook } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { bootnode, fullMesh, libp2pNode, matrix, type Node, report, until } from './common.js';

// Resources created by the library's own code, by async id: removed again when destroyed.
const OUR_CODE = fileURLToPath(new URL('../../ts/', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const TRACKED = new Set(['Timeout', 'Immediate', 'UDPWRAP']);
const ours = new Map<number, string>();
function caller(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames = stack
    .split('\n')
    .slice(1)
    .filter((l) => !l.includes('node:') && !l.includes(THIS_FILE));
  return frames[0];
}
createHook({
  init(id, type) {
    if (!TRACKED.has(type)) return;
    const frame = caller();
    if (frame?.includes(OUR_CODE)) ours.set(id, `${type} ${frame.trim()}`);
  },
  destroy(id) {
    ours.delete(id);
  },
}).enable();

const resources = () => {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
};
const before = resources();

const boot = await bootnode();
const nodes: Node[] = [];
for (let i = 0; i < 4; i++) nodes.push(await libp2pNode({ bootnodes: [boot.localEnr.text] }));
const [noisy, quiet] = nodes as [Node, Node];
let thrown = 0;
let rejected = 0;
noisy.services.discovery.addEventListener('peer', () => {
  thrown++;
  throw new Error('an app listener that throws');
});
noisy.services.discovery.addEventListener('peer', async () => {
  rejected++;
  throw new Error('an app listener that rejects');
});
let removedCalls = 0;
const removed = () => {
  removedCalls++;
};
quiet.services.discovery.addEventListener('peer', removed);
quiet.services.discovery.removeEventListener('peer', removed);
let onceCalls = 0;
quiet.services.discovery.addEventListener('peer', () => onceCalls++, { once: true });

const bus = (n: Node) =>
  (n as unknown as { components: { events: EventTarget & { listenerCount(t: string): number } } }).components.events;
const busListeners = (n: Node) => [
  bus(n).listenerCount('transport:listening'),
  bus(n).listenerCount('self:peer:update'),
];
const busIdle = nodes.map(busListeners);

const started = performance.now();
await Promise.all(nodes.map((n) => n.start()));
const busRunning = nodes.map(busListeners);
const connectMs = await until(
  'a full mesh',
  () => fullMesh(nodes),
  nodes,
  ['connection:open', 'connection:close', 'peer:connect'],
  60_000,
);
const mesh = matrix(nodes);
// Connected does not mean discovered (the noisy node may have been dialled first): wait for its reports.
const noisyReported = () => (noisy.services.discovery.metrics()['peer.reported'] ?? 0) >= 3;
await until('the noisy node to report every other', noisyReported, [noisy.services.discovery], ['peer'], 30_000);
await new Promise((r) => setImmediate(r)); // the rejections are counted a microtask later
const counted = noisy.services.discovery.metrics();
const discv5Nodes = nodes.map((n) => n.services.discovery.discv5);
const oursRunning = ours.size;

const stopStarted = performance.now();
await Promise.all(nodes.map((n) => n.stop()));
const stopMs = performance.now() - stopStarted;
await boot.stop();
// A closed socket leaves the active list when libuv has closed its handle (a later turn of the
// event loop); a cleared timer at once. Bounded wait for both.
const deadline = performance.now() + 2_000;
while ((ours.size > 0 || (resources().UDPWrap ?? 0) > (before.UDPWrap ?? 0)) && performance.now() < deadline) {
  await new Promise((r) => setImmediate(r));
}
const after = resources();
report({
  connectMs: Math.round(connectMs),
  totalMs: Math.round(performance.now() - started),
  stopMs: Math.round(stopMs),
  matrix: mesh,
  thrown,
  rejected,
  counted: { peer: counted['callback.error.peer'] ?? 0, all: counted['callback.error'] ?? 0 },
  reported: counted['peer.reported'] ?? 0,
  removedCalls,
  onceCalls,
  discv5Running: discv5Nodes.map((d) => d.isRunning),
  busListeners: { idle: busIdle, running: busRunning, stopped: nodes.map(busListeners) },
  oursRunning,
  oursLeft: [...ours.values()],
  resourcesBefore: before,
  resourcesAfter: after,
});
