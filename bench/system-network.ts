/**
 * The system benchmark's network, in a process of its own: N of our nodes on UDP loopback, a
 * prefilled testnet (`discv5 testnet --prefill`) with the fault profile given as JSON, in this
 * process or (with a process count above 1, as `--processes`) in shards of their own. When ready it
 * prints one JSON line: the bootnode's record, how long the network took to be ready, every
 * member's id, and the ids of those that answer unsolicited packets (the truth a crawl is scored
 * against); with `--discv4` (every node serves discv4 too, `discv5 testnet --discv4`) also the
 * bootnode's `enode://` URL. Then it answers commands on stdin, a line each:
 * - `remove <id>`: a crawler has left; take it out of every table (v4 ones too), so the next one
 *   meets the same network;
 * - `metrics`: the network's metrics (datagrams, drops by reason, ...) summed over its nodes;
 * - `idle <seconds>`: its CPU (ms) and resident memory (MB) before and after that long untouched
 *   (of every shard, read from /proc, when sharded), and in one process the heap that survives a
 *   collection before and after (resident memory also holds garbage not yet collected).
 * `remove` and `metrics` need the network in this process. It exits when stdin closes.
 * Usage: node --import tsx bench/system-network.ts <nodes> [profile JSON] [processes] [--discv4]
 */
import { CLEAN_PROFILE, type FaultProfile } from '../ts/testnet/plan.js';
import { startShardedTestnet } from '../ts/testnet/sharded.js';
import { startTestnet } from '../ts/testnet/testnet.js';
import { truthOf } from '../ts/testnet/truth.js';
import { fromHex } from '../ts/util/bytes.js';
import { serveCommands } from './child.js';
import { procUsage } from './proc.js';

const discv4 = process.argv.includes('--discv4');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const size = Number(args[0]);
const profile: FaultProfile = { ...CLEAN_PROFILE, ...(JSON.parse(args[1] ?? '{}') as Partial<FaultProfile>) };
const processes = Number(args[2] ?? 1);

/** CPU (ms) and resident memory (MB) of the shards, summed: how a sharded network is measured. */
function shardsUsage(pids: number[]): { cpuMs: number; rssMb: number } {
  let cpuMs = 0;
  let rssMb = 0;
  for (const pid of pids) {
    const u = procUsage(pid);
    cpuMs += u?.cpuMs ?? 0;
    rssMb += u?.rssMb ?? 0;
  }
  return { cpuMs, rssMb };
}

/** The heap (MB) that survives a collection, when this process runs the network and may collect (--expose-gc). */
function retainedMb(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (processes > 1 || gc === undefined) return undefined;
  // Twice: what the first collection frees can keep more alive until the second.
  gc();
  gc();
  return Math.round(process.memoryUsage().heapUsed / 1e6);
}

const ownUsage = () => {
  const cpu = process.cpuUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, rssMb: Math.round(process.memoryUsage().rss / 1e6) };
};

async function start() {
  if (processes > 1) {
    const net = await startShardedTestnet({ nodes: size, processes, profile, seed: 1, discv4 });
    return { net, usage: () => shardsUsage(net.pids) };
  }
  return { net: await startTestnet({ nodes: size, prefill: true, profile, seed: 1, discv4 }), usage: ownUsage };
}

const started = await start();
const { net } = started;
const truth = truthOf(net);
process.stdout.write(
  `${JSON.stringify({
    boot: net.bootEnr.text,
    ...(net.bootEnode === undefined ? {} : { enode: net.bootEnode }),
    readyMs: net.readyMs,
    ids: truth.members.map((m) => m.nodeId),
    answering: truth.members.filter((m) => m.answersUnsolicited).map((m) => m.nodeId),
  })}\n`,
);

await serveCommands(async (line) => {
  const [command, arg] = line.split(' ');
  const nodes = 'nodes' in net ? net.nodes : [];
  if (command === 'remove' && arg !== undefined) {
    let removed = 0;
    const id = fromHex(arg);
    for (const n of nodes) {
      if (n.removeNode(id)) removed++;
      if (n.discv4?.table.remove(id) !== undefined) removed++;
    }
    return String(removed);
  }
  if (command === 'metrics') {
    const sum: Record<string, number> = {};
    for (const n of nodes) for (const [k, v] of Object.entries(n.metrics())) sum[k] = (sum[k] ?? 0) + v;
    return JSON.stringify(sum);
  }
  if (command === 'idle' && arg !== undefined) {
    const heapBefore = retainedMb();
    const before = started.usage();
    await new Promise((r) => setTimeout(r, Number(arg) * 1000));
    const after = started.usage();
    const heapAfter = retainedMb();
    return JSON.stringify({
      cpuMs: after.cpuMs - before.cpuMs,
      rssBefore: before.rssMb,
      rssAfter: after.rssMb,
      heapBefore,
      heapAfter,
    });
  }
  return `unknown command: ${line}`;
});
await net.stop();
process.exit(0);
