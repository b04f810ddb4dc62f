/**
 * Which execution-layer network and fork an `eth` entry's EIP-2124 fork hash belongs to. The table
 * is computed, not pasted: FORK_HASH = CRC32 over the genesis hash, then over each fork point that
 * has passed as a big-endian uint64, block-numbered forks first, then (EIP-6122) timestamped ones.
 * As go-ethereum's forkid.gatherForks does, points that several forks share count once, forks at
 * block 0 are the genesis ruleset, and timestamped forks at or before the genesis time are too.
 */
import { crc32 } from 'node:zlib';
import { toHex } from '../util/bytes.js';
import { Discv5Error, ErrorCode } from '../util/errors.js';
import type { NetworkName } from './networks.js';
import type { EthForkId } from './types.js';

/** The networks the table covers: the consensus table's names for the same chains. */
export type EthNetworkName = Extract<NetworkName, 'mainnet' | 'sepolia' | 'holesky' | 'hoodi'>;

/** What a fork hash stands for. */
export interface EthNetworkFork {
  network: EthNetworkName;
  /**
   * The fork, lowercase with hyphens (`spurious-dragon`, `gray-glacier`, `cancun`, `bpo1`), or
   * the ruleset the chain started with for the genesis hash (`frontier` on mainnet).
   */
  fork: string;
  /** Whether `activation` is a block number (forks before the Merge) or a Unix time (Shanghai on). */
  by: 'block' | 'time';
  /** The block number or Unix time it activates at; 0 for the genesis ruleset. */
  activation: number;
  /** The FORK_NEXT a node on this fork announces (as `EthForkId.forkNext`): 0n on the last scheduled fork. */
  forkNext: bigint;
}

/** One chain's configuration, reduced to what the fork hash depends on. */
interface ChainConfig {
  name: EthNetworkName;
  genesisHash: string;
  /** The genesis block's timestamp: timestamped forks at or before it are part of the genesis ruleset. */
  genesisTime: number;
  /** [fork, block] in order. Those at block 0 are folded into genesis; the last of them names it. */
  blocks: ReadonlyArray<readonly [string, number]>;
  /** [fork, unix time] in order; BPOn are the blob-parameter-only forks (EIP-7892). */
  times: ReadonlyArray<readonly [string, number]>;
}

/*
 * Source: go-ethereum params/config.go (genesis hashes, MainnetChainConfig … HoodiChainConfig)
 * and core/genesis.go (genesis timestamps), at go-ethereum commit 02b73d4 (2026-08-20). geth's
 * EIP150Block is Tangerine Whistle and its EIP155Block and EIP158Block (one block) Spurious Dragon,
 * listed once. Constantinople and Petersburg share mainnet block 7,280,000 (Petersburg undid one
 * Constantinople change before either activated); both are listed and count once, as `petersburg`.
 * The testnets start with every block fork at 0, so only the last is listed, to name the genesis
 * ruleset. MergeNetsplitBlock is the block after the Merge at which sepolia's clients split off
 * peers that had not upgraded. No fork after BPO2 (BPO3-5, Amsterdam) is scheduled on any of the four.
 */
const CHAINS: readonly ChainConfig[] = [
  {
    name: 'mainnet',
    genesisHash: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
    genesisTime: 0,
    blocks: [
      ['homestead', 1_150_000],
      ['dao', 1_920_000],
      ['tangerine-whistle', 2_463_000],
      ['spurious-dragon', 2_675_000],
      ['byzantium', 4_370_000],
      ['constantinople', 7_280_000],
      ['petersburg', 7_280_000],
      ['istanbul', 9_069_000],
      ['muir-glacier', 9_200_000],
      ['berlin', 12_244_000],
      ['london', 12_965_000],
      ['arrow-glacier', 13_773_000],
      ['gray-glacier', 15_050_000],
    ],
    times: [
      ['shanghai', 1681338455],
      ['cancun', 1710338135],
      ['prague', 1746612311],
      ['osaka', 1764798551],
      ['bpo1', 1765290071],
      ['bpo2', 1767747671],
    ],
  },
  {
    name: 'sepolia',
    genesisHash: '25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9',
    genesisTime: 1633267481,
    blocks: [
      ['london', 0],
      ['merge-netsplit', 1_735_371],
    ],
    times: [
      ['shanghai', 1677557088],
      ['cancun', 1706655072],
      ['prague', 1741159776],
      ['osaka', 1760427360],
      ['bpo1', 1761017184],
      ['bpo2', 1761607008],
    ],
  },
  {
    name: 'holesky',
    genesisHash: 'b5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4',
    genesisTime: 1695902100,
    // Merged at genesis (terminal total difficulty 0); Paris has no fork point of its own.
    blocks: [['london', 0]],
    times: [
      ['shanghai', 1696000704],
      ['cancun', 1707305664],
      ['prague', 1740434112],
      ['osaka', 1759308480],
      ['bpo1', 1759800000],
      ['bpo2', 1760389824],
    ],
  },
  {
    name: 'hoodi',
    genesisHash: 'bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b',
    genesisTime: 1742212800,
    blocks: [['london', 0]],
    times: [
      ['shanghai', 0],
      ['cancun', 0],
      ['prague', 1742999832],
      ['osaka', 1761677592],
      ['bpo1', 1762365720],
      ['bpo2', 1762955544],
    ],
  },
];

/** The networks the table covers. */
export const ETH_NETWORKS: readonly EthNetworkName[] = Object.freeze(CHAINS.map((c) => c.name));

/** The CRC32 state after `point` as a big-endian uint64, continuing from `crc`. */
function update(crc: number, point: number): number {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(point), false);
  return crc32(bytes, crc);
}

function hashBytes(crc: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, crc >>> 0, false);
  return out;
}

interface Point {
  fork: string;
  by: 'block' | 'time';
  activation: number;
}

/** gatherForks: the genesis ruleset, then the fork points that change the hash, in order. */
function pointsOf(chain: ChainConfig): { genesis: Point; points: Point[] } {
  const genesis: Point = { fork: 'frontier', by: 'block', activation: 0 };
  const points: Point[] = [];
  const add = (by: 'block' | 'time', list: ReadonlyArray<readonly [string, number]>, passed: number) => {
    for (const [fork, activation] of list) {
      if (activation <= passed) {
        genesis.fork = fork;
        genesis.by = by;
        continue;
      }
      const last = points.at(-1);
      // A point shared by several forks counts once; the later name is the rules then in force.
      if (last !== undefined && last.by === by && last.activation === activation) last.fork = fork;
      else points.push({ fork, by, activation });
    }
  };
  add('block', chain.blocks, 0);
  add('time', chain.times, chain.genesisTime);
  return { genesis, points };
}

function chainOf(network: EthNetworkName): ChainConfig {
  const chain = CHAINS.find((c) => c.name === network);
  if (chain === undefined) {
    throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `not a network this table knows: ${String(network)}`);
  }
  return chain;
}

/** Every fork id of one network, in activation order: what a node on each fork announces. */
export function forkIdsOf(network: EthNetworkName): ReadonlyArray<EthForkId & EthNetworkFork> {
  const chain = chainOf(network);
  const { genesis, points } = pointsOf(chain);
  let crc = crc32(Buffer.from(chain.genesisHash, 'hex'));
  const out: Array<EthForkId & EthNetworkFork> = [];
  let current = genesis;
  for (let i = 0; i <= points.length; i++) {
    const next = points[i];
    out.push({ forkHash: hashBytes(crc), network, ...current, forkNext: BigInt(next?.activation ?? 0) });
    if (next === undefined) break;
    crc = update(crc, next.activation);
    current = next;
  }
  return out;
}

/**
 * The fork id a node of `network` announces with its head at block `head` and time `time` (Unix
 * seconds), as go-ethereum's forkid.NewID computes it: the hash over every point passed, and the
 * next point not yet passed (0n if none).
 */
export function forkIdAt(network: EthNetworkName, head: number | bigint, time: number | bigint): EthForkId {
  const chain = chainOf(network);
  const at = { block: uint64(head, 'head'), time: uint64(time, 'time') };
  const { points } = pointsOf(chain);
  let crc = crc32(Buffer.from(chain.genesisHash, 'hex'));
  for (const p of points) {
    if (BigInt(p.activation) > at[p.by]) return { forkHash: hashBytes(crc), forkNext: BigInt(p.activation) };
    crc = update(crc, p.activation);
  }
  return { forkHash: hashBytes(crc), forkNext: 0n };
}

function uint64(value: number | bigint, what: string): bigint {
  const ok =
    typeof value === 'bigint'
      ? value >= 0n && value <= 0xffff_ffff_ffff_ffffn
      : Number.isSafeInteger(value) && value >= 0;
  if (!ok) throw new Discv5Error(ErrorCode.INVALID_ARGUMENT, `${what} must be a uint64, got ${String(value)}`);
  return BigInt(value);
}

let table: Map<string, EthNetworkFork> | undefined;

/** The table, built on first use. A hash two networks shared would keep the first (none do). */
function hashTable(): Map<string, EthNetworkFork> {
  if (table === undefined) {
    table = new Map();
    for (const network of ETH_NETWORKS) {
      for (const { forkHash, ...what } of forkIdsOf(network)) {
        const hex = toHex(forkHash);
        if (!table.has(hex)) table.set(hex, Object.freeze(what));
      }
    }
  }
  return table;
}

/**
 * The network and fork a 4-byte EIP-2124 fork hash (bytes, or hex with or without 0x) belongs to,
 * or undefined if it is not a known one or is not 4 bytes. Never throws. A node whose hash is known
 * but whose FORK_NEXT differs from `forkNext` runs software with another fork schedule (an old or a
 * newer release); compare `Enr.eth.forkNext` with it to tell.
 */
export function ethNetworkOf(forkHash: Uint8Array | string): EthNetworkFork | undefined {
  let hex: string;
  if (forkHash instanceof Uint8Array) {
    if (forkHash.length !== 4) return undefined;
    hex = toHex(forkHash);
  } else if (typeof forkHash === 'string') {
    hex = (forkHash.startsWith('0x') || forkHash.startsWith('0X') ? forkHash.slice(2) : forkHash).toLowerCase();
  } else {
    return undefined;
  }
  return hashTable().get(hex);
}

/** Every known fork hash (lowercase hex, no 0x) with what it stands for, network by network. */
export function knownForkHashes(): ReadonlyArray<{ forkHash: string } & EthNetworkFork> {
  return [...hashTable()].map(([forkHash, fork]) => ({ forkHash, ...fork }));
}
