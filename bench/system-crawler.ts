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
 * Usage: node --import tsx bench/system-crawler.ts <native|js|rival> <bootnode enr> [full|fast] [identities] [database]
 */
import type { Discv5 as RivalDiscv5 } from '@chainsafe/discv5';
import { ENR } from '@chainsafe/enr';
import { startRival, widenReceiveBuffer } from '../__test__/helpers/rival.js';
import { type CrawlAsker, type CrawlRecord, type CrawlSummary, crawl } from '../ts/crawl/crawler.js';
import { crawlerNodes } from '../ts/crawl/identities.js';
import { CrawlRecorder } from '../ts/crawl/recorder.js';
import { Enr } from '../ts/index.js';
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
  stop(): Promise<void>;
}

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
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

async function rival(): Promise<Measured> {
  const node = await startRival({ sessionCacheCapacity: 100_000 });
  widenReceiveBuffer(node);
  const asker = new RivalAsker(node);
  return {
    nodeIds: [node.enr.nodeId],
    crawl: () => crawl(asker, [rivalRecord(ENR.decodeTxt(bootText))], { concurrency: RIVAL_CONCURRENCY }),
    stop: () => node.stop(),
  };
}

const crawler = kind === 'rival' ? await rival() : await ours();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const started = performance.now();
const summary = await crawler.crawl();
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
// What the crawl keeps (its summary is still held), not the garbage it left.
gc?.();
const heapGrowth = process.memoryUsage().heapUsed - heap0;
// Written to the end before exiting: the line is long (every id found).
const report = `${JSON.stringify({
  nodeIds: crawler.nodeIds,
  found: summary.nodes.map((n) => n.enr.nodeIdHex),
  answered: summary.nodes.filter((n) => n.answered).map((n) => n.enr.nodeIdHex),
  requests: summary.requests,
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  heapGrowthKb: Math.round(heapGrowth / 1024),
  ...(recordReport === undefined ? {} : { record: recordReport }),
})}\n`;
await new Promise((resolve) => process.stdout.write(report, resolve));
await crawler.stop();
process.exit(0);
