/**
 * A node with a data dir, run as a child process by lasting.spec.ts so that it can be killed with
 * SIGKILL: `node --import tsx lasting-node.ts DIR BOOTNODE`. It prints its record, then, each time
 * it sees that the store has been written, one JSON line `{"stored": [node ids]}` naming the table
 * entries it held before that write: those are in the file for sure.
 */
import { createCrypto, Discv5 } from '../../ts/index.js';

const [dataDir, bootnode] = process.argv.slice(2) as [string, string];
const node = await Discv5.create({
  dataDir,
  crypto: createCrypto(), // DISCV5_BACKEND, as the spec that runs it
  bind: { ip4: { ip: '127.0.0.1', port: 0 } },
  bootnodes: [bootnode],
  config: { storeFlushIntervalMs: 100, revalidateNewIntervalMs: 100, inboundPingDelayMs: 50, refreshIntervalMs: 0 },
});
await node.start();
process.stdout.write(`${node.localEnr.text}\n`);
let flushes = node.metrics()['store.flushed'] ?? 0;
let held = node.table().map((e) => e.nodeId);
// Polls rather than hooks: the test must see only what a user of the public API sees.
setInterval(() => {
  const now = node.metrics()['store.flushed'] ?? 0;
  if (now > flushes) process.stdout.write(`${JSON.stringify({ stored: held })}\n`);
  flushes = now;
  held = node.table().map((e) => e.nodeId);
}, 20);
