/** `discv5 ping`, `findnode`, `talk` (through a short-lived node) and `testnet` (long-running). */

import { writeFileSync } from 'node:fs';
import { crawlerNodes } from '../../crawl/identities.js';
import { enrJson } from '../../enr/json.js';
import { createCrypto, type Discv5Config, Enr, EnrDecoder } from '../../index.js';
import type { FaultProfile } from '../../testnet/plan.js';
import { type ShardedTestnet, startShardedTestnet } from '../../testnet/sharded.js';
import { startTestnet, Testnet } from '../../testnet/testnet.js';
import { scoreCrawl, scoreText, truthOf } from '../../testnet/truth.js';
import { toHex } from '../../util/bytes.js';
import { parseDistances, parseHex, required, UsageError } from '../args.js';
import { untilSignal } from '../signal.js';
import { withClient } from './client.js';
import { crawlAndReport, identitiesOf } from './crawl.js';
import { beginRecording, dbTarget, openForCrawl } from './crawl-db.js';
import { findnodeEnode, isEnode, pingEnode } from './discv4.js';

export interface Out {
  line(text: string): void;
  log(text: string): void;
}

export async function ping(positionals: string[], v: Record<string, unknown>, out: Out): Promise<void> {
  const target = required(positionals[0], 'the node to ping (enr:... or enode://...)');
  if (isEnode(target)) return pingEnode(target, v, out);
  await withClient(v.bind as string | undefined, async (node) => {
    const started = performance.now();
    const pong = await node.ping(target);
    const rtt = performance.now() - started;
    const id = Enr.decode(target, node.crypto).nodeIdHex;
    // --enr: its current record too (FINDNODE [0] returns it).
    const record = v.enr === true ? (await node.findNodes(target, [0]))[0] : undefined;
    if (v.json)
      out.line(
        JSON.stringify({
          nodeId: id,
          enrSeq: pong.enrSeq.toString(),
          ip: pong.ip,
          port: pong.port,
          rttMs: Math.round(rtt),
          ...(record !== undefined ? { enr: record.text } : {}),
        }),
      );
    else {
      out.line(`pong from ${id}: record seq ${pong.enrSeq}, sees us at ${pong.ip}:${pong.port}, ${rtt.toFixed(1)} ms`);
      if (record !== undefined) out.line(record.text);
    }
  });
}

export async function findnode(positionals: string[], v: Record<string, unknown>, out: Out): Promise<void> {
  const target = required(positionals[0], 'the node to ask (enr:... or enode://...)');
  if (isEnode(target)) return findnodeEnode(target, v, out);
  if (v.target !== undefined) throw new UsageError('--target is for enode:// targets; a record takes --distances');
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

/** A fraction 0..1 from a flag. */
function fraction(v: Record<string, unknown>, flag: string): number {
  if (v[flag] === undefined) return 0;
  const f = Number(v[flag]);
  if (!(f >= 0 && f <= 1)) throw new UsageError(`--${flag} must be a fraction 0..1`);
  return f;
}

/** The fault profile the flags name; any fault needs --prefill (dead records exist only in prefilled tables). */
export function profileOf(v: Record<string, unknown>): FaultProfile {
  let latency: [number, number] | undefined;
  if (v.latency !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(v.latency as string);
    const [min, max] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [Number.NaN, Number.NaN];
    if (!(min <= max && max <= 10_000)) throw new UsageError('--latency must be MIN-MAX in ms (e.g. 20-300)');
    latency = [min, max];
  }
  const rateLimit = v['rate-limit'] === undefined ? 0 : Number(v['rate-limit']);
  if (!Number.isInteger(rateLimit) || rateLimit < 0) throw new UsageError('--rate-limit must be a whole number');
  const profile: FaultProfile = {
    dead: fraction(v, 'dead'),
    latency,
    loss: fraction(v, 'loss'),
    nat: fraction(v, 'nat'),
    rateLimit,
    foreign: fraction(v, 'foreign'),
  };
  if (profile.dead + profile.nat > 1) throw new UsageError('--dead and --nat together must be at most 1');
  const faulty = Object.entries(profile).some(([, x]) => x !== 0 && x !== undefined);
  if (faulty && !v.prefill) throw new UsageError('fault profiles need --prefill');
  return profile;
}

/** Processes a prefilled testnet of `count` runs in: --processes, else one per 15,000 nodes. */
function processesOf(v: Record<string, unknown>, count: number): number {
  const p = v.processes === undefined ? Math.ceil(count / 15_000) : Number(v.processes);
  if (!Number.isInteger(p) || p < 1 || p > 64) throw new UsageError('--processes must be an integer 1..64');
  if (p > 1 && (!v.prefill || (v.transport ?? 'udp') !== 'udp'))
    throw new UsageError('a testnet in several processes needs --prefill and UDP');
  return p;
}

/** Starts a testnet as the flags say: in this process, or (large) in several. */
export async function testnet(
  v: Record<string, unknown>,
  out: Out,
  config: Partial<Discv5Config> = {},
): Promise<Testnet | ShardedTestnet> {
  const count = Number(v.nodes ?? 10);
  if (!Number.isInteger(count) || count < 2 || count > 1_000_000)
    throw new UsageError('--nodes must be an integer 2..1000000');
  const transport = (v.transport as string | undefined) ?? 'udp';
  if (transport !== 'udp' && transport !== 'memory') throw new UsageError('--transport must be udp or memory');
  const basePort = v['base-port'] === undefined ? 0 : Number(v['base-port']);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + count > 65535)
    throw new UsageError('--base-port out of range');
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError('--seed must be a whole number');
  const processes = processesOf(v, count);
  if (processes === 1 && count > 20_000) throw new UsageError('more than 20,000 nodes need --processes');
  const profile = profileOf(v);
  const log = (text: string) => out.log(text);
  // --discv4: every node serves discv4 too, on the same socket and key (as geth and reth do).
  const discv4 = v.discv4 === true;
  const net =
    processes > 1
      ? await startShardedTestnet({
          nodes: count,
          processes,
          profile,
          seed,
          config,
          discv4,
          log,
          // --base-port: each loopback address's ports start there (default 10,000).
          ...(basePort > 0 ? { basePort } : {}),
        })
      : await startTestnet({
          nodes: count,
          transport,
          basePort,
          prefill: v.prefill === true,
          profile,
          seed,
          config,
          discv4,
          log,
        });
  out.line(net.bootEnr.text);
  if (net.bootEnode !== undefined) out.line(net.bootEnode);
  if (v.truth) writeFileSync(v.truth as string, `${JSON.stringify(truthOf(net))}\n`);
  const where = processes > 1 ? `udp in ${processes} processes` : transport;
  out.log(
    `${count} nodes on ${where}${discv4 ? ', serving discv5 and discv4' : ''}, ready in ${(net.readyMs / 1000).toFixed(1)} s`,
  );
  return net;
}

export async function runTestnet(v: Record<string, unknown>, out: Out): Promise<void> {
  const net = await testnet(v, out);
  try {
    if (v.crawl) {
      // Crawl the network just made, from a fresh node, score it against the truth, and stop.
      const network = net instanceof Testnet ? net.network : undefined;
      const crawlers = await crawlerNodes(identitiesOf(v), () =>
        network ? { transport: network.transport('127.0.0.1') } : { bind: { ip4: { ip: '127.0.0.1', port: 0 } } },
      );
      // --db records this crawl too (no default here: a testnet's crawl is for scoring).
      const target = dbTarget(v, undefined);
      const db = target === undefined ? undefined : await openForCrawl(target, out);
      let result: Awaited<ReturnType<typeof crawlAndReport>>;
      try {
        const recording =
          db === undefined
            ? undefined
            : await beginRecording(db, v, [net.bootEnr], new EnrDecoder(createCrypto()), out);
        result = await crawlAndReport(crawlers, [net.bootEnr], v, out, recording === undefined ? {} : { recording });
      } finally {
        await db?.close();
      }
      out.line(result.text);
      const answered = result.summary.nodes.filter((n) => n.answered).map((n) => n.enr.nodeIdHex);
      const found = result.summary.nodes.map((n) => n.enr.nodeIdHex);
      // What the nodes serve is known only in this process's testnet.
      const served = net instanceof Testnet ? net.served(crawlers.map((c) => c.localEnr.nodeIdHex)) : undefined;
      out.line(scoreText(scoreCrawl(truthOf(net), found, answered, served)));
      await Promise.all(crawlers.map((c) => c.stop()));
    } else {
      const signal = await untilSignal();
      out.log(`${signal}: stopping ${net.members.length} nodes`);
    }
  } finally {
    await net.stop();
  }
}
