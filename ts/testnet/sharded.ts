/**
 * A testnet too big for one process (a process may hold at most its file limit of sockets: 20,000
 * here), run as several: this process plans the network from the seed, signs every member's
 * record with a fixed address (member i at 127.0.0.(1 + i / 20,000), port 10,000 + i % 20,000:
 * below the kernel's ephemeral ports, so that no socket made meanwhile takes one), writes the
 * records to a file, and starts `processes` shards (shard.ts), each running a slice of the members
 * with tables filled from the global view (discv4 too, with `discv4`). It holds no node itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Crypto } from '../crypto/crypto.js';
import { Enr } from '../enr/enr.js';
import { createCrypto, type Discv5Config } from '../index.js';
import { v4NodeOf } from './discv4.js';
import { CLEAN_PROFILE, type FaultProfile, type MemberPlan, networkEntries, planMembers } from './plan.js';
import type { ShardSpec } from './shard.js';
import { deadAddress, memberConfig } from './testnet.js';

/** Members per loopback address (and ports per address, from FIRST_PORT). */
const PER_ADDRESS = 20_000;
const FIRST_PORT = 10_000;

export interface ShardedOptions {
  nodes: number;
  processes: number;
  profile?: FaultProfile;
  seed?: number;
  config?: Partial<Discv5Config>;
  /** Every node serves discv4 too (its v4 table filled as its v5 one). */
  discv4?: boolean;
  /**
   * The first port of each address (default 10,000): two sharded testnets at once (specs run in
   * parallel) need ranges of their own.
   */
  basePort?: number;
  crypto?: Crypto;
  log?: (text: string) => void;
}

/** Where member `index` listens (ports from `basePort` on each address). */
export function shardAddress(index: number, basePort = FIRST_PORT): { ip: string; port: number } {
  return { ip: `127.0.0.${1 + Math.floor(index / PER_ADDRESS)}`, port: basePort + (index % PER_ADDRESS) };
}

/** The shard's entry point: the built one beside this file in a package, the source under tsx. */
function shardCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return ['--import', 'tsx', resolve(dirname(here), 'shard-main.ts')];
  return [resolve(dirname(here), 'testnet-shard.js')];
}

export class ShardedTestnet {
  readonly members: { plan: MemberPlan; enr: Enr; enode?: string }[];
  readonly profile: FaultProfile;
  readonly seed: number;
  readyMs = 0;
  readonly #children: ChildProcess[];
  readonly #dir: string;

  constructor(
    members: { plan: MemberPlan; enr: Enr; enode?: string }[],
    profile: FaultProfile,
    seed: number,
    children: ChildProcess[],
    dir: string,
  ) {
    this.members = members;
    this.profile = profile;
    this.seed = seed;
    this.#children = children;
    this.#dir = dir;
  }

  get bootEnr(): Enr {
    return this.members[0]?.enr as Enr;
  }

  /** The bootnode's `enode://` URL, when the testnet serves discv4. */
  get bootEnode(): string | undefined {
    return this.members[0]?.enode;
  }

  /** The shards' process ids (a benchmark reads their CPU and memory). */
  get pids(): number[] {
    return this.#children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /** Stops every shard (each stops its nodes when its stdin closes) and removes the records file. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.stdin?.end();
          }),
      ),
    );
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export async function startShardedTestnet(options: ShardedOptions): Promise<ShardedTestnet> {
  const started = performance.now();
  const crypto = options.crypto ?? createCrypto();
  const profile = options.profile ?? CLEAN_PROFILE;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  if (options.nodes > PER_ADDRESS * 200) throw new RangeError('too many members for the loopback addresses used');
  const basePort = options.basePort ?? FIRST_PORT;
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + Math.min(options.nodes, PER_ADDRESS) - 1 > 65535)
    throw new RangeError('basePort out of range');
  const plans = planMembers(crypto, options.nodes, profile, seed);
  const members = plans.map((plan) => {
    const at = plan.dead ? deadAddress(plan.index) : shardAddress(plan.index, basePort);
    // With discv4, a TCP port too (the UDP one, as execution clients' records have).
    const tcp = options.discv4 === true ? { tcp: at.port } : {};
    const enr = Enr.create(
      plan.privateKey,
      { ip: at.ip, udp: at.port, ...tcp, ...networkEntries(plan.network, plan.index) },
      crypto,
    );
    return options.discv4 === true ? { plan, enr, enode: v4NodeOf(crypto, enr).enode } : { plan, enr };
  });
  const dir = mkdtempSync(join(tmpdir(), 'discv5-testnet-'));
  const recordsFile = join(dir, 'records.txt');
  writeFileSync(recordsFile, `${members.map((m) => m.enr.text).join('\n')}\n`, { mode: 0o600 });
  const config = memberConfig(true, options.nodes, profile, options.config);
  const per = Math.ceil(options.nodes / options.processes);
  const children: ChildProcess[] = [];
  const net = new ShardedTestnet(members, profile, seed, children, dir);
  const ready: Promise<void>[] = [];
  for (let from = 0; from < options.nodes; from += per) {
    const spec: ShardSpec = {
      recordsFile,
      nodes: options.nodes,
      from,
      to: Math.min(options.nodes, from + per),
      seed,
      profile,
      config,
      discv4: options.discv4 === true,
    };
    const child = spawn(process.execPath, [...shardCommand(), JSON.stringify(spec)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    ready.push(
      new Promise<void>((resolveReady, reject) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolveReady();
        });
        child.once('exit', (code) => reject(new Error(`testnet shard ${from} exited (${code}) before it was ready`)));
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (err) {
    await net.stop();
    throw err;
  }
  net.readyMs = performance.now() - started;
  log(`${options.nodes} nodes prefilled in ${children.length} processes`);
  return net;
}
