/**
 * The system benchmark's network, in a process of its own: N of our nodes on UDP loopback, a
 * prefilled testnet (`discv5 testnet --prefill`) with the fault profile given as JSON. When ready it
 * prints one JSON line: the bootnode's record, how long the network took to be ready, every
 * member's id, and the ids of those that answer unsolicited packets (the truth a crawl is scored
 * against). Then it answers commands on stdin, a line each:
 * - `remove <id>`: a crawler has left; take it out of every table, so the next one meets the same network;
 * - `metrics`: the network's metrics (datagrams, drops by reason, ...) summed over its nodes;
 * - `idle <seconds>`: its CPU (ms) and resident memory (MB) before and after that long untouched.
 * It exits when stdin closes. Usage: node --import tsx bench/system-network.ts <nodes> [profile JSON]
 */
import { CLEAN_PROFILE, type FaultProfile } from '../ts/testnet/plan.js';
import { startTestnet } from '../ts/testnet/testnet.js';
import { truthOf } from '../ts/testnet/truth.js';
import { serveCommands } from './child.js';

const size = Number(process.argv[2]);
const profile: FaultProfile = { ...CLEAN_PROFILE, ...(JSON.parse(process.argv[3] ?? '{}') as Partial<FaultProfile>) };
const net = await startTestnet({ nodes: size, prefill: true, profile, seed: 1 });
const truth = truthOf(net);
process.stdout.write(
  `${JSON.stringify({
    boot: net.boot.localEnr.text,
    readyMs: net.readyMs,
    ids: truth.members.map((m) => m.nodeId),
    answering: truth.members.filter((m) => m.answersUnsolicited).map((m) => m.nodeId),
  })}\n`,
);

const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);
await serveCommands(async (line) => {
  const [command, arg] = line.split(' ');
  if (command === 'remove' && arg !== undefined) {
    let removed = 0;
    for (const n of net.nodes) if (n.removeNode(arg)) removed++;
    return String(removed);
  }
  if (command === 'metrics') {
    const sum: Record<string, number> = {};
    for (const n of net.nodes) for (const [k, v] of Object.entries(n.metrics())) sum[k] = (sum[k] ?? 0) + v;
    return JSON.stringify(sum);
  }
  if (command === 'idle' && arg !== undefined) {
    const rssBefore = rssMb();
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, Number(arg) * 1000));
    const cpu = process.cpuUsage(cpu0);
    return JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, rssBefore, rssAfter: rssMb() });
  }
  return `unknown command: ${line}`;
});
await net.stop();
process.exit(0);
