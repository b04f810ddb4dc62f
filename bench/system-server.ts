/**
 * The system benchmark's handshake server: one node with default settings on UDP loopback, in a
 * process of its own (its CPU is its own). It prints its record, then answers `cpu` with the CPU
 * (ms) the process has used so far; it exits when stdin closes.
 * Usage: node --import tsx bench/system-server.ts <native|js|rival>
 */
import { startRival, widenReceiveBuffer } from '../__test__/helpers/rival.js';
import { createCrypto, Discv5 } from '../ts/index.js';
import { serveCommands } from './child.js';

const kind = process.argv[2] as 'native' | 'js' | 'rival';

async function server(): Promise<{ text: string; stop: () => Promise<void> }> {
  if (kind === 'rival') {
    const node = await startRival();
    widenReceiveBuffer(node);
    return { text: node.enr.encodeTxt(), stop: () => node.stop() };
  }
  const crypto = createCrypto({ backend: kind });
  const node = await Discv5.create({
    privateKey: crypto.generatePrivateKey(),
    crypto,
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
  });
  await node.start();
  return { text: node.localEnr.text, stop: () => node.stop() };
}

const node = await server();
process.stdout.write(`${node.text}\n`);
await serveCommands(async (line) => {
  if (line !== 'cpu') return `unknown command: ${line}`;
  const cpu = process.cpuUsage();
  return String((cpu.user + cpu.system) / 1000);
});
await node.stop();
process.exit(0);
