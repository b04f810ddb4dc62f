/**
 * What the libp2p scenario scripts share: a plain discv5 bootnode, a js-libp2p 3 node on loopback
 * (tcp, noise, yamux, identify, our discovery as a service), waits that end on events or a bounded
 * timeout, and the one JSON line each script prints. Run with a Node that has
 * Promise.withResolvers (>= 22): `node --import tsx __test__/libp2p/<scenario>.ts`.
 */
import { randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { Enr } from '../../ts/enr/enr.js';
import { Discv5 } from '../../ts/index.js';
import { type Discv5PeerDiscovery, type Discv5PeerDiscoveryInit, discv5PeerDiscovery } from '../../ts/libp2p/index.js';

export type Node = Libp2p<{ identify: unknown; discovery: Discv5PeerDiscovery }>;

/** Small so that a scenario takes seconds. */
export const SEARCH_INTERVAL_MS = 200;
const DISCV5_CONFIG = { revalidateNewIntervalMs: 100, inboundPingDelayMs: 50, reseedIntervalMs: 200 };

let escaped = 0;
process.on('uncaughtException', (err) => {
  escaped++;
  process.stderr.write(`uncaught exception: ${err.stack ?? err}\n`);
});
process.on('unhandledRejection', (err) => {
  escaped++;
  process.stderr.write(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`);
});

/** Prints the scenario's one JSON line and ends the process (a hard exit: nothing may keep it alive). */
export function report(result: Record<string, unknown>): never {
  process.stdout.write(`${JSON.stringify({ ...result, escaped, node: process.version })}\n`);
  process.exit(0);
}

export async function bootnode(): Promise<Discv5> {
  const node = await Discv5.create({
    privateKey: randomBytes(32),
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
    config: DISCV5_CONFIG,
  });
  await node.start();
  return node;
}

export interface NodeOptions extends Discv5PeerDiscoveryInit {
  /** Dial every peer libp2p announces ('peer:discovery'); default true. */
  dial?: boolean;
  privateKey?: PrivateKey;
}

export async function libp2pNode(options: NodeOptions): Promise<Node> {
  const { dial = true, privateKey, ...init } = options;
  const node = await createLibp2p({
    start: false, // each scenario starts its nodes (and times from there)
    privateKey: privateKey ?? (await generateKeyPair('secp256k1')),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.1'] },
    services: {
      identify: identify(),
      discovery: discv5PeerDiscovery({
        bind: { ip4: { ip: '127.0.0.1', port: 0 } },
        searchIntervalMs: SEARCH_INTERVAL_MS,
        ...init,
        config: { ...DISCV5_CONFIG, ...init.config },
      }),
    },
  });
  if (dial) {
    node.addEventListener('peer:discovery', (evt) => {
      node.dial(evt.detail.id).catch(() => {});
    });
  }
  return node;
}

/** Resolves when `check()` holds, re-checking whenever one of `targets` fires one of `events`; rejects at the deadline. */
export function until(
  what: string,
  check: () => boolean,
  targets: readonly EventTarget[],
  events: readonly string[],
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      for (const t of targets) for (const e of events) t.removeEventListener(e, onEvent);
      if (err === undefined) resolve(performance.now() - started);
      else reject(err);
    };
    const onEvent = () => {
      if (check()) done();
    };
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    for (const t of targets) for (const e of events) t.addEventListener(e, onEvent);
    onEvent();
  });
}

/** The same, for a discv5 node's typed events. */
export function untilRecord(node: Discv5, match: (enr: Enr) => boolean, timeoutMs: number): Promise<Enr> {
  return new Promise((resolve, reject) => {
    const onRecord = (enr: Enr) => {
      if (!match(enr)) return;
      clearTimeout(timer);
      node.off('discovered', onRecord);
      resolve(enr);
    };
    const timer = setTimeout(() => {
      node.off('discovered', onRecord);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a record`));
    }, timeoutMs);
    node.on('discovered', onRecord);
    for (const e of node.table()) onRecord(e.enr);
  });
}

/** For each node, the indices of the nodes it is connected to. */
export function matrix(nodes: readonly Node[]): number[][] {
  const index = new Map(nodes.map((n, i) => [n.peerId.toString(), i]));
  return nodes.map((n) =>
    n
      .getPeers()
      .map((p: PeerId) => index.get(p.toString()) ?? -1)
      .sort((a, b) => a - b),
  );
}

/** Whether every node is connected to every other. */
export function fullMesh(nodes: readonly Node[]): boolean {
  return matrix(nodes).every((peers, i) => nodes.every((_, j) => j === i || peers.includes(j)));
}

export async function stopAll(nodes: readonly { stop(): void | Promise<void> }[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}
