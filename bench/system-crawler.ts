/**
 * One crawler of the system benchmark, in a process of its own (its CPU is its own): crawls the
 * network from its bootnode and prints one JSON line: its node id, the ids it found, how many
 * answered, the requests sent, and the wall time and CPU of the crawl alone (start-up excluded).
 *
 * `native` and `js` are our crawler (`discv5 crawl`'s node and walk) on each backend. `rival` is
 * the same walk and scheduling (ts/crawl/crawler.ts) asking through @chainsafe/discv5 11.0.0's
 * `sendFindNode`, with a session cache sized for the crawl as ours is and the same socket receive
 * buffer; its records are verified by its own stack, as any application on it would have them.
 * Usage: node --import tsx bench/system-crawler.ts <native|js|rival> <bootnode enr>
 */
import type { Discv5 as RivalDiscv5 } from '@chainsafe/discv5';
import { ENR } from '@chainsafe/enr';
import { startRival, widenReceiveBuffer } from '../__test__/helpers/rival.js';
import { type CrawlAsker, type CrawlRecord, type CrawlSummary, crawl } from '../ts/crawl/crawler.js';
import { crawlerNode } from '../ts/crawl/identities.js';
import { Enr } from '../ts/index.js';

const [kind, bootText] = process.argv.slice(2) as [string, string];

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
  nodeId: string;
  crawl(): Promise<CrawlSummary<CrawlRecord>>;
  stop(): Promise<void>;
}

async function ours(): Promise<Measured> {
  const node = await crawlerNode({ bind: { ip4: { ip: '127.0.0.1', port: 0 } } });
  return {
    nodeId: node.localEnr.nodeIdHex,
    crawl: () => crawl(node, [Enr.decode(bootText, node.crypto)]),
    stop: () => node.stop(),
  };
}

async function rival(): Promise<Measured> {
  const node = await startRival({ sessionCacheCapacity: 100_000 });
  widenReceiveBuffer(node);
  const asker = new RivalAsker(node);
  return {
    nodeId: node.enr.nodeId,
    crawl: () => crawl(asker, [rivalRecord(ENR.decodeTxt(bootText))], { concurrency: RIVAL_CONCURRENCY }),
    stop: () => node.stop(),
  };
}

const crawler = kind === 'rival' ? await rival() : await ours();
const cpu0 = process.cpuUsage();
const started = performance.now();
const summary = await crawler.crawl();
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
// Written to the end before exiting: the line is long (every id found).
const report = `${JSON.stringify({
  nodeId: crawler.nodeId,
  found: summary.nodes.map((n) => n.enr.nodeIdHex),
  answered: summary.answered,
  requests: summary.requests,
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
})}\n`;
await new Promise((resolve) => process.stdout.write(report, resolve));
await crawler.stop();
process.exit(0);
