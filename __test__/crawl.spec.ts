/**
 * The crawler finds every node of a 300-node network of ours (UDP loopback, native: at this size js
 * would take minutes), reports who answered with their records and neighbours, and stops by itself
 * when nothing is left to ask.
 */
import test from 'ava';
import { crawl, nextDistances } from '../ts/crawl/crawler.js';
import { Enr } from '../ts/index.js';
import { cryptoFor } from './helpers/backends.js';
import { buildNetwork } from './helpers/network.js';
import { startNode } from './helpers/nodes.js';

test.serial('a crawl from one seed finds 100% of a 300-node network and stops by itself', async (t) => {
  t.timeout(300_000);
  const nodes = await buildNetwork(t, 300, { udp: true });
  const crawler = await startNode(t, 'udp', {
    backend: 'native',
    config: { sessionCacheCapacity: 10_000, requestTimeoutMs: 1_000, refreshIntervalMs: 0 },
  });
  const boot = nodes[0]?.localEnr as Enr;
  let reported = 0;
  const result = await crawl(crawler, [boot], { concurrency: 128, onNode: () => reported++ });
  const expected = new Set(nodes.map((n) => n.localEnr.nodeIdHex));
  const found = new Set(result.nodes.map((n) => n.enr.nodeIdHex));
  t.log(
    `found ${result.found}, answered ${result.answered}, ${result.requests} requests in ${result.durationMs} ms (${result.stop})`,
  );
  t.is(result.stop, 'done');
  t.deepEqual(
    [...expected].filter((id) => !found.has(id)),
    [],
    'every node found',
  );
  t.is(result.answered, 300, 'every node answered');
  t.is(reported, result.found, 'each node reported once');
  const bootNode = result.nodes.find((n) => n.enr.nodeIdHex === boot.nodeIdHex);
  t.true((bootNode?.neighbors.size ?? 0) > 16, 'neighbours recorded');
  t.true(result.nodes.every((n) => n.rttMs !== undefined && n.error === undefined));
  t.true(result.requests < 300 * 15, `${result.requests} requests: a bounded walk per node (about 9 here)`);
});

test.serial('unreachable seeds are reported, not waited on; a timeout bounds the crawl', async (t) => {
  const crawler = await startNode(t, 'udp', { backend: 'native', config: { requestTimeoutMs: 300 } });
  const c = cryptoFor('native');
  const dead = Enr.create(c.generatePrivateKey(), { ip: '127.0.0.1', udp: 9 }, c);
  const result = await crawl(crawler, [dead]);
  t.is(result.found, 1);
  t.is(result.answered, 0);
  t.is(result.nodes[0]?.error, 'ERR_REQUEST_TIMEOUT');
  const controller = new AbortController();
  controller.abort();
  t.is((await crawl(crawler, [dead], { signal: controller.signal })).stop, 'aborted');
});

test('the walk rule: full buckets one at a time, sparse ones three at a time, cut-off answers asked again', (t) => {
  const sixteen = (d: number) => Array.from({ length: 16 }, () => d);
  t.deepEqual(nextDistances([256], sixteen(256)), [255], 'a full bucket: the next one alone');
  t.deepEqual(nextDistances([252], [252, 252, 252]), [251, 250, 249], 'not full: three together');
  t.deepEqual(nextDistances([251, 250, 249], [...Array(10).fill(251), ...Array(6).fill(250)]), [250], 'cut off in 250');
  const sweep = Array.from({ length: 16 }, (_, i) => 245 - i);
  t.deepEqual(nextDistances([248, 247, 246], []), sweep, 'three empty buckets: one sweep of the next 16');
  t.is(nextDistances(sweep, []), undefined, 'an empty sweep ends the walk');
  t.deepEqual(nextDistances(sweep, [240, 240, 233]), [229, 228, 227], 'a sweep that finds some: walk on below it');
  t.deepEqual(nextDistances(sweep, [...Array(12).fill(244), ...Array(4).fill(241)]), [241], 'a cut-off sweep');
  t.deepEqual(nextDistances([3, 2, 1], []), undefined, 'nothing below 1');
  t.deepEqual(nextDistances([5, 4, 3], []), [2, 1], 'a sweep stops at 1');
  t.deepEqual(nextDistances([249], []), [248, 247, 246], 'one empty bucket does not');
  t.is(nextDistances([1], sixteen(1)), undefined);
});
