/**
 * One crawler of the system benchmark, in a process of its own (its CPU is its own): crawls the
 * network from its bootnode and prints one JSON line: its node id, the ids it found, how many
 * answered, the requests sent, and the wall time and CPU of the crawl alone (start-up excluded).
 *
 * `native` and `js` are our crawler (`discv5 crawl`'s node and walk) on each backend. `rival` is
 * the same walk and scheduling (ts/crawl/crawler.ts) asking through @chainsafe/discv5 11.0.0's
 * `sendFindNode`, with a session cache sized for the crawl as ours is and the same socket receive
 * buffer; its records are verified by its own stack, as any application on it would have them.
 * Ours takes a mode (full or fast) and a number of identities. Besides the crawl's wall time and
 * CPU it reports the process's peak resident memory and how much the heap grew (after a collection,
 * with the crawl's summary still held: what the crawl keeps).
 * With a database (an SQLite path or a postgres:// URL) ours records the crawl as `discv5 crawl` does
 * and reports what recording cost (the crawl thread's time, the writes, the last batch after the
 * crawl's end, how many rows waited at most).
 * Given an `enode://` bootnode instead of a record, ours crawls Discovery v4 (one identity, no
 * database): the same walk through the v4 asker (ts/crawl/discv4-asker.ts), from a node with
 * `discv4` whose settings are the crawler node's (identities.ts) with bonds for every node.
 * Both report the packets the crawler sent (discv5's or discv4's).
 * Usage: node --import tsx bench/system-crawler.ts <native|js|rival> <bootnode enr|enode> [full|fast] [identities] [database]
 */
import type { Discv5 as RivalDiscv5 } from '@chainsafe/discv5';
import { ENR } from '@chainsafe/enr';
import { startRival, widenReceiveBuffer } from '../__test__/helpers/rival.js';
import { type CrawlAsker, type CrawlRecord, type CrawlSummary, crawl } from '../ts/crawl/crawler.js';
import { discv4Asker, TargetKeys } from '../ts/crawl/discv4-asker.js';
import { crawlerNodes } from '../ts/crawl/identities.js';
import { CrawlRecorder } from '../ts/crawl/recorder.js';
import { V4Node } from '../ts/discv4/node.js';
import { createCrypto, Discv5, Enr } from '../ts/index.js';
import type { CrawlDb } from '../ts/store/crawl-db.js';
import { openCrawlDb } from '../ts/store/open-crawl-db.js';

const [kind, bootText, mode = 'full', identities = '1', dbTarget] = process.argv.slice(2) as [
  string,
  string,
  string?,
  string?,
  string?,
];

/**
 * Requests in flight for the rival crawler. Its CPU is saturated from 8 on; at 32 and more its
 * event loop falls so far behind that its own 1 s timeouts fire on answers that have arrived, and it
 * loses nodes (measured on 200 nodes: 64 in flight found 183, 256 found 170). 16 finds them all.
 */
const RIVAL_CONCURRENCY = 16;

/**
 * Requests in flight for our discv4 crawler on js. Each NEIGHBORS packet's signer is recovered on
 * arrival, 2 ms a packet on js (0.05 ms native), and a request of the walk brings about six: at the
 * crawler's default of 512 in flight its time limits ran out behind its own CPU, and it found 1,984
 * and heard from 1,450 of 2,000 nodes in 315 s; at 32 it heard from all of them (measured here).
 */
const V4_JS_CONCURRENCY = 32;

/** A rival record with what the walk needs of it. */
interface RivalRecord {
  nodeId: Uint8Array;
  nodeIdHex: string;
  seq: bigint;
  record: ENR;
}

const rivalRecord = (record: ENR): RivalRecord => ({
  nodeId: Uint8Array.from(Buffer.from(record.nodeId, 'hex')),
  nodeIdHex: record.nodeId,
  seq: record.seq,
  record,
});

class RivalAsker implements CrawlAsker<RivalRecord> {
  readonly nodeId: Uint8Array;
  constructor(readonly node: RivalDiscv5) {
    this.nodeId = Uint8Array.from(Buffer.from(node.enr.nodeId, 'hex'));
  }
  async findNodes(enr: RivalRecord, distances: number[]): Promise<RivalRecord[]> {
    return (await this.node.sendFindNode(enr.record, distances)).map(rivalRecord);
  }
}

interface Measured {
  nodeIds: string[];
  crawl(): Promise<CrawlSummary<CrawlRecord>>;
  /** Packets the crawler has sent so far. */
  packetsSent(): number;
  stop(): Promise<void>;
}

/** The sum of `metrics` whose names start with `prefix` (byte counts left out). */
const sumOf = (metrics: Record<string, number>, prefix: string) =>
  Object.entries(metrics).reduce((s, [k, v]) => (k.startsWith(prefix) && !k.endsWith('.bytes') ? s + v : s), 0);

/** With a database: the recorder, and what recording cost. */
let recording: { recorder: CrawlRecorder; db: CrawlDb } | undefined;
let recordReport: Record<string, number> | undefined;

async function ours(): Promise<Measured> {
  const nodes = await crawlerNodes(Number(identities), () => ({ bind: { ip4: { ip: '127.0.0.1', port: 0 } } }));
  const first = nodes[0] as (typeof nodes)[number];
  const boot = Enr.decode(bootText, first.crypto);
  if (dbTarget !== undefined) {
    const db = await openCrawlDb(dbTarget);
    const recorder = await CrawlRecorder.start(db, {
      vantage: 'bench',
      seeds: [bootText],
      options: { mode },
      software: 'discv5-native/bench',
      started: Date.now(),
    });
    recording = { recorder, db };
  }
  return {
    nodeIds: nodes.map((n) => n.localEnr.nodeIdHex),
    crawl: async () => {
      const r = recording?.recorder;
      const summary = await crawl(nodes, [boot], {
        mode: mode as 'full' | 'fast',
        ...(r === undefined ? {} : { onFound: (enr: Enr) => r.found(enr), onNode: (n) => r.visited(n) }),
      });
      if (r !== undefined && recording !== undefined) {
        // The crawl is not over until it is recorded: the last batch is part of its time.
        const ended = performance.now();
        const info = await r.finish('done');
        recordReport = {
          busyMs: r.busyMs,
          writeMs: r.writeMs,
          finishMs: performance.now() - ended,
          batches: r.batches,
          peakQueued: r.peakQueued,
          visits: info.found,
        };
        await recording.db.close();
      }
      return summary;
    },
    packetsSent: () => nodes.reduce((s, n) => s + sumOf(n.metrics(), 'out.packet.'), 0),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** Our crawler over Discovery v4. */
async function oursV4(): Promise<Measured> {
  if (identities !== '1' || dbTarget !== undefined) throw new Error('a discv4 crawl: one identity, no database');
  const crypto = createCrypto();
  const node = await Discv5.create({
    privateKey: crypto.generatePrivateKey(),
    crypto,
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
    // The crawler node's settings (ts/crawl/identities.ts): no table upkeep.
    config: {
      sessionCacheCapacity: 100_000,
      enrCacheSize: 100_000,
      verifiedEnrCacheSize: 100_000,
      maxActiveRequests: 100_000,
      refreshIntervalMs: 0,
      revalidateNewIntervalMs: 0,
      revalidateLiveIntervalMs: 0,
      reseedIntervalMs: 0,
      handshakeTimeoutMs: 500,
    },
    // A bond with every node of the crawl, and room for the replies of 512 requests of 3 FINDNODEs.
    discv4: { maxBonds: 100_000, maxPendingReplies: 8_192 },
  });
  await node.start();
  const v4 = node.discv4;
  if (v4 === undefined) throw new Error('no discv4');
  // The asker's table of target keys is built before the crawl is timed (it is made once per crawl).
  const asker = discv4Asker(v4, node.nodeId, new TargetKeys(crypto));
  const boot = V4Node.fromEnode(crypto, bootText);
  return {
    nodeIds: [node.localEnr.nodeIdHex],
    crawl: () =>
      crawl<V4Node>(asker, [boot], {
        mode: mode as 'full' | 'fast',
        ...(kind === 'js' ? { concurrency: V4_JS_CONCURRENCY } : {}),
      }),
    packetsSent: () => sumOf(node.metrics(), 'discv4.out.'),
    stop: () => node.stop(),
  };
}

async function rival(): Promise<Measured> {
  const node = await startRival({ sessionCacheCapacity: 100_000 });
  widenReceiveBuffer(node);
  const asker = new RivalAsker(node);
  return {
    nodeIds: [node.enr.nodeId],
    crawl: () => crawl(asker, [rivalRecord(ENR.decodeTxt(bootText))], { concurrency: RIVAL_CONCURRENCY }),
    packetsSent: () => 0,
    stop: () => node.stop(),
  };
}

const crawler = kind === 'rival' ? await rival() : bootText.startsWith('enode://') ? await oursV4() : await ours();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const packets0 = crawler.packetsSent();
const started = performance.now();
const summary = await crawler.crawl();
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
const packetsSent = crawler.packetsSent() - packets0;
// What the crawl keeps (its summary is still held), not the garbage it left.
gc?.();
const heapGrowth = process.memoryUsage().heapUsed - heap0;
// Written to the end before exiting: the line is long (every id found).
const report = `${JSON.stringify({
  nodeIds: crawler.nodeIds,
  found: summary.nodes.map((n) => n.enr.nodeIdHex),
  answered: summary.nodes.filter((n) => n.answered).map((n) => n.enr.nodeIdHex),
  requests: summary.requests,
  packetsSent,
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  heapGrowthKb: Math.round(heapGrowth / 1024),
  ...(recordReport === undefined ? {} : { record: recordReport }),
})}\n`;
await new Promise((resolve) => process.stdout.write(report, resolve));
await crawler.stop();
process.exit(0);
