/**
 * Lookups in one simulated network: latency, packets and CPU per lookup for our node on native
 * and js and for @chainsafe/discv5 11.0.0, each measured node in a process of its own (its CPU is
 * its own) against the same network of our native nodes on UDP loopback. Packets are counted on the
 * network side (datagrams the network received during the lookups), the same way for everyone.
 * Part of `npm run bench`; writes its section of bench/RESULTS.md and README.
 */
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCrypto, type Discv5, Discv5 as OurDiscv5 } from '../ts/index.js';
import { BenchChild } from './child.js';
import { formatOps, replaceSection } from './harness.js';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const crypto = createCrypto({ backend: 'native' });
const SIZE = quick ? 40 : 100;

async function network(size: number): Promise<Discv5[]> {
  const nodes: Discv5[] = [];
  for (let i = 0; i < size; i++) {
    const n = await OurDiscv5.create({
      privateKey: crypto.generatePrivateKey(),
      crypto,
      bind: { ip4: { ip: '127.0.0.1', port: 0 } },
      // Quiet during measurement: no refresh lookups of their own; checks of new entries stay on.
      config: {
        refreshIntervalMs: 0,
        revalidateLiveIntervalMs: 600_000,
        inboundPingDelayMs: 100,
        revalidateNewIntervalMs: 200,
        revalidateNewBatch: 8,
      },
    });
    await n.start();
    nodes.push(n);
  }
  const boot = nodes[0] as Discv5;
  for (const n of nodes.slice(1)) n.addEnr(boot.localEnr);
  for (let i = 1; i < nodes.length; i += 20) await Promise.all(nodes.slice(i, i + 20).map((n) => n.findNode(n.nodeId)));
  for (let i = 0; i < nodes.length; i += 20) await Promise.all(nodes.slice(i, i + 20).map((n) => n.findNode(n.nodeId)));
  await new Promise((r) => setTimeout(r, 1_500));
  return nodes;
}

const received = (nodes: Discv5[]) => nodes.reduce((s, n) => s + (n.metrics()['in.datagrams'] ?? 0), 0);

interface Run {
  name: string;
  /** The measured node's id (hex), to take it out of the network's tables afterwards. */
  nodeId: string;
  latencies: number[];
  found: number[];
  cpuMs: number;
  packets: number;
}

async function measure(nodes: Discv5[], kind: string, name: string, lookups: number): Promise<Run> {
  const child = new BenchChild('lookup-child.ts', [kind, (nodes[0] as Discv5).localEnr.text, String(lookups)]);
  const ready = await child.next();
  if (ready !== 'ready') throw new Error(`${name}: expected "ready", got ${ready}`);
  const before = received(nodes);
  const result = JSON.parse(await child.ask('go')) as Omit<Run, 'name' | 'packets'>;
  await child.end();
  return { name, ...result, packets: received(nodes) - before };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const nodes = await network(SIZE);
const runs: Run[] = [];
const plan: [string, string, number][] = [
  ['native', 'native', quick ? 10 : 40],
  ['js', 'js', quick ? 5 : 15],
  ['rival', '@chainsafe/discv5', quick ? 5 : 15],
];
for (const [kind, name, lookups] of plan) {
  const r = await measure(nodes, kind, name, lookups);
  runs.push(r);
  // The measured node has left: take it out of every table, so the next one meets the same network.
  for (const n of nodes) n.removeNode(r.nodeId);
  console.log(
    `${name}: median ${median(r.latencies).toFixed(0)} ms, ${(r.packets / r.latencies.length).toFixed(0)} packets and ${(r.cpuMs / r.latencies.length).toFixed(1)} ms CPU per lookup, found median ${median(r.found)}`,
  );
}
await Promise.all(nodes.map((n) => n.stop()));

const rows = runs.map(
  (r) =>
    `| ${r.name} | ${r.latencies.length} | ${median(r.latencies).toFixed(0)} ms | ${(r.packets / r.latencies.length).toFixed(0)} | ${(r.cpuMs / r.latencies.length).toFixed(1)} ms | ${median(r.found)} |`,
);
const table = [
  '| measured node | lookups | median latency | packets sent per lookup | CPU per lookup | records returned (median) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
const cpuOf = (name: string) => {
  const r = runs.find((x) => x.name === name) as Run;
  return r.cpuMs / r.latencies.length;
};
const note = `Native uses ${formatOps(cpuOf('@chainsafe/discv5') / cpuOf('native'))}x less CPU per lookup than @chainsafe/discv5 and ${formatOps(cpuOf('js') / cpuOf('native'))}x less than js.`;
const section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; a network of ${SIZE} native nodes on UDP loopback in one process, the measured node in another, random targets.

${table}

${note}`;
if (!quick) {
  replaceSection(resolve(here, 'RESULTS.md'), 'bench:lookup', section);
  replaceSection(resolve(here, '../README.md'), 'bench:lookup', `${table}\n\n${note}`);
}
console.log(`\n${section}`);
