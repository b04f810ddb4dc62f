/**
 * The system benchmark's network, in a process of its own: N of our nodes on UDP loopback, made and
 * bootstrapped exactly as `discv5 testnet` makes them, then quiet (no refresh lookups, live entries
 * not re-checked during the run; new entries are still checked, so a crawler that arrives is pinged
 * back as in any network). When ready it prints one JSON line: the bootnode's record and every
 * node's id. Then it answers commands on stdin, a line each:
 * - `remove <id>`: a crawler has left; take it out of every table, so the next one meets the same network;
 * - `metrics`: the network's metrics (datagrams, drops by reason, ...) summed over its nodes.
 * It exits when stdin closes. Usage: node --import tsx bench/system-network.ts <nodes>
 */
import { testnet } from '../ts/cli/commands/net.js';
import { serveCommands } from './child.js';

const size = Number(process.argv[2]);
const quiet = (text: string) => process.stderr.write(`network: ${text}\n`);
const { nodes } = await testnet(
  { nodes: size },
  { line: () => {}, log: quiet },
  {
    refreshIntervalMs: 0,
    revalidateLiveIntervalMs: 3_600_000,
  },
);
const boot = nodes[0];
if (boot === undefined) throw new Error('no network');
process.stdout.write(`${JSON.stringify({ boot: boot.localEnr.text, ids: nodes.map((n) => n.localEnr.nodeIdHex) })}\n`);

await serveCommands(async (line) => {
  const [command, arg] = line.split(' ');
  if (command === 'remove' && arg !== undefined) {
    let removed = 0;
    for (const n of nodes) if (n.removeNode(arg)) removed++;
    return String(removed);
  }
  if (command === 'metrics') {
    const sum: Record<string, number> = {};
    for (const n of nodes) for (const [k, v] of Object.entries(n.metrics())) sum[k] = (sum[k] ?? 0) + v;
    return JSON.stringify(sum);
  }
  return `unknown command: ${line}`;
});
await Promise.all(nodes.map((n) => n.stop()));
process.exit(0);
