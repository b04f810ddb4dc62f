/**
 * One measured node in its own process (so its CPU is its own): joins the network through the
 * bootnode, warms up with a self-lookup, then runs lookups for random ids. Prints one JSON line:
 * per-lookup latency (ms), CPU (ms) over the measured phase, and the results found.
 * Usage: node --import tsx bench/lookup-child.ts <native|js|rival> <bootnode enr> <lookups>
 */
import { randomFillSync } from 'node:crypto';
import { ENR } from '@chainsafe/enr';
import { startRival } from '../__test__/helpers/rival.js';
import { createCrypto, Discv5 } from '../ts/index.js';

const [kind, bootText, countText] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);

interface Measured {
  nodeId: string;
  lookup(target: Uint8Array): Promise<number>;
  stop(): Promise<void>;
}

async function ours(backend: 'native' | 'js'): Promise<Measured> {
  const crypto = createCrypto({ backend });
  const node = await Discv5.create({
    privateKey: crypto.generatePrivateKey(),
    crypto,
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
    config: { refreshIntervalMs: 0 },
  });
  await node.start();
  node.addEnr(bootText);
  return {
    nodeId: node.localEnr.nodeIdHex,
    lookup: async (t) => (await node.findNode(t)).length,
    stop: () => node.stop(),
  };
}

async function rival(): Promise<Measured> {
  const node = await startRival();
  const enr = node.enr;
  node.addEnr(ENR.decodeTxt(bootText));
  return {
    nodeId: enr.nodeId,
    lookup: async (t) => (await node.findNode(Buffer.from(t).toString('hex'))).length,
    stop: () => node.stop(),
  };
}

const node = kind === 'rival' ? await rival() : await ours(kind as 'native' | 'js');
// Warm-up: find our own neighbourhood (fills the table, makes the sessions), as a joining node does.
await node.lookup(randomFillSync(new Uint8Array(32)));
await node.lookup(randomFillSync(new Uint8Array(32)));
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const latencies: number[] = [];
const found: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < count; i++) {
  const started = performance.now();
  found.push(await node.lookup(randomFillSync(new Uint8Array(32))));
  latencies.push(performance.now() - started);
}
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ nodeId: node.nodeId, latencies, found, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
);
await node.stop();
process.exit(0);
