/**
 * What recording a crawl into the crawl database costs (part of `npm run bench:system`; alone with
 * `npm run bench:system -- --only db`): the same prefilled network crawled by our native crawler in
 * full and fast mode, without a database, into SQLite (a fresh file) and into PostgreSQL (a
 * throwaway server on 127.0.0.1, started here as the specs start theirs), each crawl in a process
 * of its own, one after another on the same network. Reported: the crawl's time (the last batch
 * written included), the time recording took on the crawl's thread and its share of the crawl's
 * time, the writes' own time (for PostgreSQL mostly spent waiting on the server, off the crawl's
 * thread), how long the last batch took after the crawl's end, and the most rows that waited.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../__test__/helpers/postgres.js';
import { BenchChild } from './child.js';

interface Recorded {
  busyMs: number;
  writeMs: number;
  finishMs: number;
  batches: number;
  peakQueued: number;
  visits: number;
}

interface DbRun {
  mode: string;
  target: string;
  found: number;
  wallMs: number;
  cpuMs: number;
  record?: Recorded;
  sizeMb?: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export async function dbBench(size: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'discv5-bench-db-'));
  const pg = await startPostgres();
  const network = new BenchChild('system-network.ts', [String(size), '{}'], { DISCV5_BACKEND: 'native' });
  const runs: DbRun[] = [];
  try {
    const ready = JSON.parse(await network.next()) as { boot: string; readyMs: number };
    console.log(`crawl database: clean network of ${size} ready in ${seconds(ready.readyMs)}`);
    let n = 0;
    for (const mode of ['full', 'fast']) {
      // No database before and after: later crawls of one network meet more sessions and records
      // left by earlier ones, so the baseline is the mean of both.
      for (const target of ['none', 'SQLite', 'PostgreSQL', 'none']) {
        const file = join(dir, `crawl-${++n}.db`);
        const where = target === 'SQLite' ? [file] : target === 'PostgreSQL' ? [await pg.createDatabase()] : [];
        const child = new BenchChild('system-crawler.ts', ['native', ready.boot, mode, '1', ...where], {
          DISCV5_BACKEND: 'native',
        });
        const r = JSON.parse(await child.next()) as {
          nodeIds: string[];
          found: string[];
          wallMs: number;
          cpuMs: number;
          record?: Recorded;
        };
        await child.end();
        for (const id of r.nodeIds) await network.ask(`remove ${id}`);
        const run: DbRun = { mode, target, found: r.found.length, wallMs: r.wallMs, cpuMs: r.cpuMs };
        if (r.record !== undefined) run.record = r.record;
        if (target === 'SQLite') run.sizeMb = statSync(file).size / 2 ** 20;
        runs.push(run);
        const rec = r.record;
        console.log(
          `  ${mode}, ${target}: ${run.found} nodes in ${seconds(run.wallMs)}${rec ? `, recording ${Math.round(rec.busyMs)} ms on the crawl's thread (${((100 * rec.busyMs) / run.wallMs).toFixed(1)}%), writes ${Math.round(rec.writeMs)} ms, last batch ${Math.round(rec.finishMs)} ms after the crawl, at most ${rec.peakQueued} rows waiting` : ''}`,
        );
      }
    }
  } finally {
    await network.end();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = (mode: string) => {
    const none = runs.filter((r) => r.mode === mode && r.target === 'none');
    return none.reduce((sum, r) => sum + r.wallMs, 0) / Math.max(none.length, 1);
  };
  const table = [
    '| mode | database | nodes | crawl time (last batch included) | vs no database (mean of both) | recording on the crawl thread | share of crawl time | writes (own time) | last batch after the crawl | most rows waiting | file size |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...runs.map((r) => {
      const rec = r.record;
      const vs = r.target === 'none' ? '' : `${((100 * r.wallMs) / base(r.mode) - 100).toFixed(0)}%`;
      return `| ${r.mode} | ${r.target} | ${r.found} | ${seconds(r.wallMs)} | ${vs} | ${rec ? `${Math.round(rec.busyMs)} ms` : ''} | ${rec ? `${((100 * rec.busyMs) / r.wallMs).toFixed(1)}%` : ''} | ${rec ? `${Math.round(rec.writeMs)} ms in ${rec.batches} batches` : ''} | ${rec ? `${Math.round(rec.finishMs)} ms` : ''} | ${rec ? rec.peakQueued : ''} | ${r.sizeMb === undefined ? '' : `${r.sizeMb.toFixed(1)} MB`} |`;
    }),
  ].join('\n');
  return `Recording crawls of a clean prefilled network of ${size} into the crawl database (each crawl a fresh database; PostgreSQL 15 on 127.0.0.1, a throwaway server with fsync off as the specs use; SQLite in WAL mode with synchronous=NORMAL). Recording on the crawl thread is building the rows and SQLite's synchronous writes; a PostgreSQL write waits on the server off the thread:

${table}`;
}
