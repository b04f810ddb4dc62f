/**
 * go-ethereum's own crawler (`devp2p discv5 crawl`) as a crawler of the system benchmark: the
 * discv5 crawler of the reference implementation, in Go, run as it ships, so that ours is measured
 * against more than the same walk on another stack.
 *
 * How it crawls: random lookups (`RandomNodes`) for the whole of `--timeout`, and for each node a
 * lookup meets, one ENR request (FINDNODE at distance 0); a node enters nodes.json only if it answers
 * that. It has no notion of being done, so its wall time is the limit it is given (plus start-up);
 * `lastFoundMs` says when the last node it kept first answered. It does not report how many requests
 * it sent, so `requests` is left out.
 *
 * Usage, to try it alone: node --import tsx bench/system-geth.ts <bootnode enr> <seconds>
 * (prints one JSON line, the report).
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type ProcUsage, procUsage } from './proc.js';

const run = promisify(execFile);

/** The release measured; pinned so that figures stay comparable from run to run. */
export const GETH_VERSION = 'v1.17.5';
const PACKAGE = 'github.com/ethereum/go-ethereum/cmd/devp2p';

export interface GethCrawlReport {
  /** Node ids (hex, lowercase, no 0x) of every node in the nodes.json it wrote. */
  found: string[];
  /** From spawning it to its exit, so its start-up and the time limit are in it. */
  wallMs: number;
  /** User plus system CPU of the devp2p process, all its threads. */
  cpuMs: number;
  peakRssMb: number;
  /** When the last node it kept first answered, from spawning it (1 s resolution: its clock is truncated). */
  lastFoundMs?: number;
  /** Requests sent; devp2p does not report them, so this stays unset. */
  requests?: number;
}

const executable = async (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && (await executable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/** Whether `path` is the pinned release (a devp2p of another release would be measured as this one). */
async function isPinned(path: string): Promise<boolean> {
  try {
    const { stdout } = await run(path, ['--version']);
    return stdout.includes(`version ${GETH_VERSION.slice(1)}`);
  } catch {
    return false;
  }
}

/**
 * The path of a `devp2p` binary of the pinned release: on PATH, else where `go install` puts it,
 * else installed there now (from the Go module proxy; takes minutes the first time).
 */
export async function gethDevp2p(): Promise<string> {
  const fromPath = await onPath('devp2p');
  if (fromPath !== undefined && (await isPinned(fromPath))) return fromPath;
  const go = (await onPath('go')) ?? ((await executable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined);
  if (go === undefined) throw new Error(`devp2p ${GETH_VERSION} is missing and there is no go to install it`);
  // `go install` writes to GOBIN if set, else to bin under the first GOPATH entry.
  const { stdout } = await run(go, ['env', 'GOBIN', 'GOPATH']);
  const [gobin = '', gopath = ''] = stdout.split('\n');
  const bin = gobin !== '' ? gobin : join(gopath.split(delimiter)[0] ?? '', 'bin');
  const installed = join(bin, 'devp2p');
  if ((await executable(installed)) && (await isPinned(installed))) return installed;
  console.log(`installing devp2p ${GETH_VERSION} (go install ${PACKAGE}@${GETH_VERSION}; a few minutes)...`);
  try {
    // Out of any module's directory, so that no go.mod around us has a say.
    await run(go, ['install', `${PACKAGE}@${GETH_VERSION}`], { cwd: tmpdir(), maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`go install ${PACKAGE}@${GETH_VERSION} failed: ${(err.stderr ?? err.message).trim().slice(-2000)}`);
  }
  if (!(await executable(installed))) throw new Error(`go install succeeded but ${installed} is not there`);
  return installed;
}

/**
 * Crawls the network from `bootEnr` with `devp2p discv5 crawl` for `seconds`, in a process of its
 * own, and reports what it found and what it cost.
 *
 * CPU and peak memory come from GNU time (/usr/bin/time), which takes them from wait4's rusage when
 * devp2p exits: exact, all threads included, and nothing missed at the end. Reading /proc cannot do
 * that: Node reaps the child as soon as it exits, so the last read is always from before its end
 * (the nodes.json is written then). That is the fallback, polled every 200 ms, where there is no
 * /usr/bin/time.
 */
export async function gethCrawl(bootEnr: string, seconds: number): Promise<GethCrawlReport> {
  const devp2p = await gethDevp2p();
  const dir = await mkdtemp(join(tmpdir(), 'geth-crawl-'));
  try {
    const nodesFile = join(dir, 'nodes.json');
    const timeFile = join(dir, 'time.txt');
    // On loopback as the network is (it would otherwise bind a dual-stack socket and announce
    // 127.0.0.1 anyway); the node database in memory (no --nodedb); the default 16 in parallel.
    const args = ['discv5', 'crawl', '--timeout', `${seconds}s`, '--addr', '127.0.0.1:0', '--bootnodes', bootEnr];
    const timed = await executable('/usr/bin/time');
    // %U and %S: user and system seconds; %M: peak resident set in KB.
    const [command, argv] = timed
      ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, devp2p, ...args, nodesFile]]
      : [devp2p, [...args, nodesFile]];
    const startedAt = Date.now();
    const started = performance.now();
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Its log (a line every 8 s) is kept only to explain a failure.
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    let polled: ProcUsage | undefined;
    let poller: NodeJS.Timeout | undefined;
    if (!timed && child.pid !== undefined) {
      const pid = child.pid;
      poller = setInterval(() => {
        polled = procUsage(pid) ?? polled;
      }, 200);
    }
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    const wallMs = performance.now() - started;
    if (poller !== undefined) clearInterval(poller);
    if (code !== 0) throw new Error(`devp2p discv5 crawl exited (${code}): ${log.trim().slice(-2000)}`);

    let cpuMs: number;
    let peakRssMb: number;
    if (timed) {
      // The last line: time prints a line of its own before it when the command failed.
      const line = (await readFile(timeFile, 'utf8')).trim().split('\n').pop() ?? '';
      const [user, system, rssKb] = line.split(' ').map(Number) as [number, number, number];
      cpuMs = Math.round((user + system) * 1000);
      peakRssMb = Math.round(rssKb / 1024);
    } else {
      cpuMs = polled?.cpuMs ?? Number.NaN;
      peakRssMb = polled?.peakRssMb ?? Number.NaN;
    }

    // go-ethereum's node set: an object keyed by node id (hex), each with its record, score and
    // when it first and last answered.
    const nodes = JSON.parse(await readFile(nodesFile, 'utf8')) as Record<string, { firstResponse?: string }>;
    const found = Object.keys(nodes).map((id) => id.toLowerCase().replace(/^0x/, ''));
    // A node that never answered has Go's zero time here; only this crawl's answers count.
    const lastAnswer = Object.values(nodes)
      .map((n) => Date.parse(n.firstResponse ?? ''))
      .reduce((last, t) => (t >= startedAt - 1000 && t > last ? t : last), Number.NEGATIVE_INFINITY);
    const report: GethCrawlReport = { found, wallMs, cpuMs, peakRssMb };
    if (Number.isFinite(lastAnswer)) report.lastFoundMs = Math.max(0, lastAnswer - startedAt);
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [bootEnr, seconds = '20'] = process.argv.slice(2);
  if (bootEnr === undefined) throw new Error('usage: node --import tsx bench/system-geth.ts <bootnode enr> [seconds]');
  process.stdout.write(`${JSON.stringify(await gethCrawl(bootEnr, Number(seconds)))}\n`);
}
