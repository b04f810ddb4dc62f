/** `discv5 ping`, `findnode`, `talk` (through a short-lived node) and `testnet` (long-running). */

import { enrJson } from '../../enr/json.js';
import { createCrypto, Discv5, type Discv5Config, Enr, MemoryNetwork } from '../../index.js';
import { toHex } from '../../util/bytes.js';
import { parseDistances, parseHex, parseHostPort, required, UsageError } from '../args.js';
import { untilSignal } from '../signal.js';
import { crawlAndReport, crawlerNode } from './crawl.js';

export interface Out {
  line(text: string): void;
  log(text: string): void;
}

async function client(bind: string | undefined): Promise<Discv5> {
  const crypto = createCrypto();
  const at = bind === undefined ? { ip: '0.0.0.0', port: 0 } : parseHostPort(bind, '--bind');
  const node = await Discv5.create({
    privateKey: crypto.generatePrivateKey(),
    crypto,
    bind: at.ip.includes(':') ? { ip6: at } : { ip4: at },
    config: { refreshIntervalMs: 0 },
  });
  await node.start();
  return node;
}

async function withClient<T>(bind: string | undefined, fn: (n: Discv5) => Promise<T>): Promise<T> {
  const node = await client(bind);
  try {
    return await fn(node);
  } finally {
    await node.stop();
  }
}

export async function ping(positionals: string[], v: Record<string, unknown>, out: Out): Promise<void> {
  const target = required(positionals[0], 'the record to ping (enr:...)');
  await withClient(v.bind as string | undefined, async (node) => {
    const started = performance.now();
    const pong = await node.ping(target);
    const rtt = performance.now() - started;
    const id = Enr.decode(target, node.crypto).nodeIdHex;
    if (v.json)
      out.line(
        JSON.stringify({
          nodeId: id,
          enrSeq: pong.enrSeq.toString(),
          ip: pong.ip,
          port: pong.port,
          rttMs: Math.round(rtt),
        }),
      );
    else
      out.line(`pong from ${id}: record seq ${pong.enrSeq}, sees us at ${pong.ip}:${pong.port}, ${rtt.toFixed(1)} ms`);
  });
}

export async function findnode(positionals: string[], v: Record<string, unknown>, out: Out): Promise<void> {
  const target = required(positionals[0], 'the record to ask (enr:...)');
  const distances = parseDistances(required(v.distances as string | undefined, '--distances (e.g. 256,255,254)'));
  await withClient(v.bind as string | undefined, async (node) => {
    const records = await node.findNodes(target, distances);
    for (const r of records) out.line(v.json ? JSON.stringify({ ...enrJson(r), enr: r.text }) : r.text);
    out.log(`${records.length} records`);
  });
}

export async function talk(positionals: string[], v: Record<string, unknown>, out: Out): Promise<void> {
  const target = required(positionals[0], 'the record to talk to (enr:...)');
  const protocol = required(positionals[1], 'the protocol');
  const payload = parseHex(positionals[2] ?? '', 'the request');
  await withClient(v.bind as string | undefined, async (node) => {
    out.line(toHex(await node.talkReq(target, protocol, payload)));
  });
}

/**
 * Testnet nodes check newcomers quickly, so the network settles in seconds. And thousands of them
 * share one event loop: when it falls behind (bootstrapping 5,000 nodes saturates a core for
 * minutes), the protocol's 1-2 s limits fire on answers already waiting in the socket (the first
 * 5,000-node attempt, with those limits and every node seeded at once, saw 11,720 request timeouts
 * and 2,574 of 5,000 nodes findable). Their time limits are therefore 10 s; the protocol is
 * unchanged, and in a real network each node has its own loop.
 */
const TESTNET_CONFIG: Partial<Discv5Config> = {
  inboundPingDelayMs: 100,
  revalidateNewIntervalMs: 250,
  revalidateNewBatch: 8,
  requestTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  challengeTtlMs: 10_000,
  nonceTtlMs: 10_000,
  // Every node of a local testnet is ours and they all join at once, so nearly every first contact
  // is inbound: the internet's cap on such entries (8 of 16 per bucket) only slows the join (500
  // nodes: 20% more handshakes, 25-45 s instead of 23-28 s to bootstrap, measured here).
  incomingPerBucket: 16,
};

/**
 * Resolves once the event loop keeps up again: a 10 ms timer fires less than 20 ms late twice in a
 * row (or after 30 s, whatever happens).
 */
async function loopKeepsUp(): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (let calm = 0; calm < 2 && performance.now() < deadline; ) {
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 10));
    calm = performance.now() - t < 30 ? calm + 1 : 0;
  }
}

/** Starts and bootstraps a testnet; `config` adds to (or overrides) the nodes' settings. */
export async function testnet(
  v: Record<string, unknown>,
  out: Out,
  config: Partial<Discv5Config> = {},
): Promise<{ nodes: Discv5[]; network: MemoryNetwork | undefined }> {
  const count = Number(v.nodes ?? 10);
  if (!Number.isInteger(count) || count < 2 || count > 20_000)
    throw new UsageError('--nodes must be an integer 2..20000');
  const transport = (v.transport as string | undefined) ?? 'udp';
  if (transport !== 'udp' && transport !== 'memory') throw new UsageError('--transport must be udp or memory');
  const basePort = v['base-port'] === undefined ? 0 : Number(v['base-port']);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + count > 65535)
    throw new UsageError('--base-port out of range');
  const crypto = createCrypto();
  const network = transport === 'memory' ? new MemoryNetwork() : undefined;
  const nodes: Discv5[] = [];
  for (let i = 0; i < count; i++) {
    const node = await Discv5.create({
      privateKey: crypto.generatePrivateKey(),
      crypto,
      ...(network
        ? { transport: network.transport('127.0.0.1') }
        : { bind: { ip4: { ip: '127.0.0.1', port: basePort === 0 ? 0 : basePort + i } } }),
      config: { ...TESTNET_CONFIG, ...config },
    });
    await node.start();
    nodes.push(node);
  }
  const boot = nodes[0] as Discv5;
  out.line(boot.localEnr.text);
  const started = performance.now();
  // Self-lookups 50 at a time; after each wave the checks of the newcomers it announced are let
  // through before the next wave adds more, so that the shared loop never falls far behind. Each
  // node learns the bootnode with its wave: all at once, 5,000 first PINGs overflowed the
  // bootnode's 4 MiB socket buffer, and the 2,015 nodes whose packets were lost stayed alone.
  const join = async (from: number, first: boolean) => {
    for (let i = from; i < nodes.length; i += 50) {
      const wave = nodes.slice(i, i + 50);
      if (first) for (const n of wave) n.addEnr(boot.localEnr);
      await Promise.all(wave.map((n) => n.findNode(n.nodeId)));
      await loopKeepsUp();
    }
  };
  await join(1, true);
  // Once more now that everyone is in, so that early joiners meet their late neighbours.
  await join(0, false);
  // Nodes serve only entries that have answered a PING, so a node is findable once it is live in
  // some other node's table: wait until every node is (at most 30 s). A node that joined while its
  // neighbours had nothing live to serve, and that they did not keep (nodes that reach a node first
  // take at most 8 places of a bucket), knows too few others to be found: it looks again, as its
  // refresh would, every second while it is not found.
  const unfindable = () => {
    const live = new Set<string>();
    for (const n of nodes) for (const e of n.table()) if (e.live) live.add(e.nodeId);
    return nodes.filter((n) => !live.has(n.localEnr.nodeIdHex));
  };
  const liveCount = () => nodes.reduce((s, n) => s + n.table().filter((e) => e.live).length, 0);
  let lookedAgain = performance.now();
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; ) {
    const alone = unfindable();
    if (alone.length === 0) break;
    if (performance.now() - lookedAgain >= 1_000) {
      for (let i = 0; i < alone.length; i += 50)
        await Promise.all(alone.slice(i, i + 50).map((n) => n.findNode(n.nodeId)));
      lookedAgain = performance.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const live = liveCount();
  out.log(
    `${count} nodes on ${transport}, bootstrapped in ${((performance.now() - started) / 1000).toFixed(1)} s (${live} live table entries)`,
  );
  return { nodes, network };
}

export async function runTestnet(v: Record<string, unknown>, out: Out): Promise<void> {
  const { nodes, network } = await testnet(v, out);
  if (v.crawl) {
    // Crawl the network just made, from a fresh node, and stop.
    const crawler = await crawlerNode(
      network ? { transport: network.transport('127.0.0.1') } : { bind: { ip4: { ip: '127.0.0.1', port: 0 } } },
    );
    out.line(await crawlAndReport(crawler, [(nodes[0] as Discv5).localEnr], v, out));
    await crawler.stop();
  } else {
    const signal = await untilSignal();
    out.log(`${signal}: stopping ${nodes.length} nodes`);
  }
  await Promise.all(nodes.map((n) => n.stop()));
  network?.close();
}
