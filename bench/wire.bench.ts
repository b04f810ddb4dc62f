/**
 * The wire: packets encoded and decoded per second (native, js), and inbound handshakes completed
 * per second by one node (native, js, and @chainsafe/discv5 11.0.0), on the in-memory network so
 * that the kernel stays out. Part of `npm run bench`; writes its section of bench/RESULTS.md and README.
 *
 * Handshakes: fresh client identities (our native nodes) each PING the server once, which takes a
 * full handshake: random packet, WHOAREYOU, handshake packet with the client's record, PONG. The
 * server's own handling of every inbound packet is timed (`busy`), so the clients' work in the same
 * process is not counted against it; for @chainsafe/discv5 only its synchronous handling is counted,
 * which can only flatter it.
 */
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Discv5 as RivalDiscv5 } from '@chainsafe/discv5';
import { SignableENR } from '@chainsafe/enr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr-12';
import { Rng } from '../__test__/helpers/random.js';
import { type Crypto, createCrypto, Discv5, Enr, MemoryNetwork } from '../ts/index.js';
import { decodeMessage, encodeMessage } from '../ts/message/codec.js';
import { MessageType } from '../ts/message/types.js';
import { decodePacket } from '../ts/packet/decode.js';
import { encodeMessagePacket } from '../ts/packet/encode.js';
import { type BenchCase, type CaseResult, formatOps, markdownTable, replaceSection, runCase } from './harness.js';
import { RivalMemoryTransport } from './rival-memory.js';
import { TimedTransport } from './timed-transport.js';

const quick = process.argv.includes('--quick');
const native = createCrypto({ backend: 'native' });
const js = createCrypto({ backend: 'js' });
const rng = new Rng(5);

// --- packets -------------------------------------------------------------------------------------
const destId = rng.bytes(32);
const srcId = rng.bytes(32);
const key = rng.bytes(16);
const iv = rng.bytes(16);
const nonce = rng.bytes(12);
const findnode = encodeMessage({ type: MessageType.FINDNODE, requestId: rng.bytes(8), distances: [256, 255, 254] });
const packet = encodeMessagePacket(native, destId, srcId, nonce, key, findnode, iv);
const mask = destId.subarray(0, 16);

function decodeAll(c: Crypto) {
  const p = decodePacket(c, mask, packet);
  if (typeof p === 'string' || p.flag !== 0) throw new Error('bench packet does not decode');
  return decodeMessage(c.openPacket(key, p.header, p.datagram) as Uint8Array);
}

const packetCases: BenchCase[] = [
  {
    name: 'encode: FINDNODE message into a sealed, masked packet',
    contenders: [native, js].map((c) => ({
      name: c.backend,
      fn: () => encodeMessagePacket(c, destId, srcId, nonce, key, findnode, iv),
    })),
  },
  {
    name: 'decode: unmask, parse, open, decode the message',
    contenders: [native, js].map((c) => ({ name: c.backend, fn: () => decodeAll(c) })),
  },
];

// --- handshakes ----------------------------------------------------------------------------------
interface HandshakeResult {
  name: string;
  completed: number;
  failed: number;
  busySeconds: number;
  wallSeconds: number;
}

async function rivalServer(network: MemoryNetwork) {
  // Two copies of @libp2p/interface in the tree give the same key two types; the value is the same.
  const privateKey = (await generateKeyPair('secp256k1')) as unknown as Parameters<
    typeof SignableENR.createFromPrivateKey
  >[0];
  const enr = SignableENR.createFromPrivateKey(privateKey);
  const transport = new RivalMemoryTransport(network, enr.nodeId);
  enr.ip = transport.address.ip;
  enr.udp = transport.address.port;
  const node = RivalDiscv5.create({
    enr,
    privateKey,
    bindAddrs: { ip4: multiaddr(`/ip4/${transport.address.ip}/udp/${transport.address.port}`) },
    transport,
  });
  await node.start();
  return { enr: Enr.decode(enr.encodeTxt(), native), busy: () => transport.busyNs, stop: () => node.stop() };
}

async function ourServer(network: MemoryNetwork, crypto: Crypto) {
  const transport = new TimedTransport(network.transport());
  const node = await Discv5.create({ privateKey: crypto.generatePrivateKey(), crypto, transport });
  await node.start();
  return { enr: node.localEnr, busy: () => transport.busyNs, stop: () => node.stop() };
}

async function handshakes(
  name: string,
  clients: number,
  makeServer: (n: MemoryNetwork) => Promise<{ enr: Enr; busy: () => bigint; stop: () => Promise<void> }>,
): Promise<HandshakeResult> {
  const network = new MemoryNetwork();
  const server = await makeServer(network);
  const nodes = await Promise.all(
    Array.from({ length: clients }, async () => {
      const node = await Discv5.create({
        privateKey: native.generatePrivateKey(),
        crypto: native,
        transport: network.transport(),
        config: { requestTimeoutMs: 10_000 },
      });
      await node.start();
      return node;
    }),
  );
  const busyBefore = server.busy();
  const started = process.hrtime.bigint();
  let completed = 0;
  let failed = 0;
  const concurrency = 32;
  for (let i = 0; i < nodes.length; i += concurrency) {
    // A handshake that fails is counted, not fatal: the table shows how many did.
    const wave = nodes.slice(i, i + concurrency).map((n) => n.ping(server.enr));
    for (const r of await Promise.allSettled(wave)) {
      if (r.status === 'fulfilled') completed++;
      else failed++;
    }
  }
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const busySeconds = Number(server.busy() - busyBefore) / 1e9;
  await Promise.all(nodes.map((n) => n.stop()));
  await server.stop();
  network.close();
  return { name, completed, failed, busySeconds, wallSeconds };
}

const options = quick ? { rounds: 3, batchMs: 10 } : { rounds: 7, batchMs: 40 };
const packetResults: CaseResult[] = packetCases.map((c) => {
  const r = runCase(c, options);
  console.log(`${c.name}: ${[...r.opsPerSec].map(([k, v]) => `${k} ${formatOps(v)}/s`).join(', ')}`);
  return r;
});

const scale = quick ? 0.25 : 1;
const runs: HandshakeResult[] = [];
// Interleaved: each contender twice, the better run kept (a cold first run would be unfair to anyone).
for (let round = 0; round < 2; round++) {
  runs.push(await handshakes('native', Math.round(600 * scale), (n) => ourServer(n, native)));
  runs.push(await handshakes('js', Math.round(60 * scale), (n) => ourServer(n, js)));
  runs.push(await handshakes('@chainsafe/discv5', Math.round(60 * scale), rivalServer));
}
const best = new Map<string, HandshakeResult>();
for (const r of runs) {
  const prev = best.get(r.name);
  if (prev === undefined || r.completed / r.busySeconds > prev.completed / prev.busySeconds) best.set(r.name, r);
}
const perSec = (name: string) => {
  const r = best.get(name) as HandshakeResult;
  return r.completed / r.busySeconds;
};
const rows = [...best.values()].map(
  (r) =>
    `| ${r.name} | ${r.completed}${r.failed > 0 ? ` (${r.failed} failed)` : ''} | ${formatOps(r.completed / r.busySeconds)} | ${((r.busySeconds * 1e3) / r.completed).toFixed(2)} ms | ${formatOps(r.completed / r.wallSeconds)} |`,
);
const handshakeTable = [
  '| server | handshakes | per second of server CPU | server CPU per handshake | per second of wall time (clients included) |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
const verdict = `- ${perSec('native') >= 2000 ? 'met' : 'NOT met'}: native >= 2,000 inbound handshakes/s on one core (measured ${formatOps(perSec('native'))}/s; ${(perSec('native') / perSec('@chainsafe/discv5')).toFixed(0)}x @chainsafe/discv5, ${(perSec('native') / perSec('js')).toFixed(0)}x js)`;
const packetTable = markdownTable(packetResults, ['native', 'js'], [['native', 'js']]);
const section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.

${packetTable}

Inbound handshakes on one node (in-memory network; clients are native nodes in the same process, not counted):

${handshakeTable}

${verdict}`;
const here = dirname(fileURLToPath(import.meta.url));
if (!quick) {
  replaceSection(resolve(here, 'RESULTS.md'), 'bench:wire', section);
  replaceSection(resolve(here, '../README.md'), 'bench:wire', `${packetTable}\n\n${handshakeTable}\n\n${verdict}`);
}
console.log(`\n${section}`);
