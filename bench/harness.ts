/**
 * A small interleaved benchmark harness. For each case: every contender's output is checked
 * equal first (a benchmark of wrong answers is worthless), then contenders take turns in
 * rounds of timed batches, and the median ops/s of the rounds is reported.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { normalize } from '../__test__/helpers/normalize.js';

export interface Contender {
  name: string;
  fn: () => unknown;
}

export interface BenchCase {
  name: string;
  contenders: Contender[];
}

export interface CaseResult {
  name: string;
  /** Median ops/s by contender name. */
  opsPerSec: Map<string, number>;
}

export interface HarnessOptions {
  rounds: number;
  /** Target duration of one timed batch. */
  batchMs: number;
}

function timeBatch(fn: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Warms `fn` up for `warmupMs` (JIT, lazy initialisation), and from the calls made in that time
 * sizes a batch of about `batchMs`. Sizing from one cold call would collapse to tiny, noisy batches.
 */
function calibrate(fn: () => unknown, batchMs: number, warmupMs = 60): number {
  const deadline = process.hrtime.bigint() + BigInt(warmupMs) * 1_000_000n;
  let calls = 0;
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() < deadline) {
    fn();
    calls++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return Math.max(1, Math.round((calls * batchMs) / 1000 / seconds));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function assertSameOutput(c: BenchCase): void {
  const [first, ...rest] = c.contenders.map((x) => ({ name: x.name, out: normalize(x.fn()) }));
  for (const other of rest) {
    if (other.out !== first?.out) {
      throw new Error(`${c.name}: ${other.name} and ${first?.name} disagree:\n${other.out}\n${first?.out}`);
    }
  }
}

export function runCase(c: BenchCase, options: HarnessOptions): CaseResult {
  assertSameOutput(c);
  const sizes = c.contenders.map((x) => calibrate(x.fn, options.batchMs));
  const samples = c.contenders.map(() => [] as number[]);
  for (let round = 0; round < options.rounds; round++) {
    // Rotate who goes first, so that no contender always runs on a warmer (or cooler) machine.
    for (let j = 0; j < c.contenders.length; j++) {
      const i = (j + round) % c.contenders.length;
      const n = sizes[i] as number;
      samples[i]?.push(n / timeBatch((c.contenders[i] as Contender).fn, n));
    }
  }
  return {
    name: c.name,
    opsPerSec: new Map(c.contenders.map((x, i) => [x.name, median(samples[i] as number[])])),
  };
}

export function formatOps(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e4) return `${Math.round(ops / 1e3).toLocaleString('en-US')} k`;
  return Math.round(ops).toLocaleString('en-US');
}

/** Rewrites the text between `<!-- name:start -->` and `<!-- name:end -->` in a markdown file. */
export function replaceSection(file: string, name: string, body: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return;
  writeFileSync(file, `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`);
}

/** A markdown table: one column of ops/s per contender, then one column per ratio [a, b] = a / b. */
export function markdownTable(
  results: CaseResult[],
  contenders: string[],
  ratios: [string, string][],
  unit = 'ops/s',
): string {
  const head = ['operation', ...contenders.map((c) => `${c} ${unit}`), ...ratios.map(([a, b]) => `${a} / ${b}`)];
  const lines = [
    `| ${head.join(' | ')} |`,
    `| --- | ${head
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  for (const r of results) {
    const cells = contenders.map((c) => {
      const v = r.opsPerSec.get(c);
      return v === undefined ? '' : formatOps(v);
    });
    const ratioCells = ratios.map(([a, b]) => {
      const x = r.opsPerSec.get(a);
      const y = r.opsPerSec.get(b);
      return x === undefined || y === undefined ? '' : `${(x / y).toFixed(1)}x`;
    });
    lines.push(`| ${[r.name, ...cells, ...ratioCells].join(' | ')} |`);
  }
  return lines.join('\n');
}
