/**
 * Which consensus network and fork an `eth2` fork digest belongs to. The table is computed, not
 * pasted: fork_digest = compute_fork_data_root(fork_version, genesis_validators_root)[:4], the
 * root being sha256(version padded to 32 bytes ‖ genesis_validators_root) (hash_tree_root of
 * ForkData, two 32-byte leaves). From Fulu on (EIP-7892) the root is xored with
 * sha256(uint64_le(blob epoch) ‖ uint64_le(max blobs)) of the BLOB_SCHEDULE entry in force, or of
 * (ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA) before the first; each blob-parameter-only (BPO)
 * entry is a digest of its own (consensus-specs fulu/beacon-chain.md, compute_fork_digest).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '../util/bytes.js';
import { FORK_DIGEST_SIZE } from './constants.js';

export type NetworkName = 'mainnet' | 'sepolia' | 'holesky' | 'hoodi' | 'gnosis' | 'chiado';

/** What a fork digest stands for. */
export interface NetworkFork {
  network: NetworkName;
  /**
   * The fork: phase0 … fulu, gloas, or bpo1, bpo2 … for a blob-parameter-only fork, or
   * `pre-genesis` for the digest bootnodes announce before genesis (a zero genesis_validators_root
   * with the genesis fork version; phase0 p2p-interface, "ENR structure").
   */
  fork: string;
  /** The epoch it activates at (0 for pre-genesis and for forks active from genesis). */
  epoch: number;
}

/** One network's config.yaml, reduced to what the digest depends on. */
interface NetworkConfig {
  name: NetworkName;
  genesisValidatorsRoot: string;
  /** [fork, FORK_VERSION, FORK_EPOCH] in fork order; forks at FAR_FUTURE_EPOCH are left out. */
  forks: ReadonlyArray<readonly [string, string, number]>;
  maxBlobsElectra: number;
  /** BLOB_SCHEDULE as { EPOCH: MAX_BLOBS_PER_BLOCK }. */
  blobSchedule: Readonly<Record<number, number>>;
}

/*
 * Sources. Genesis validators roots: each network's README or genesis.ssz (bytes 8..40 of the
 * BeaconState), lodestar's networks.ts agreeing. Forks and blob schedules: mainnet from
 * ethereum/consensus-specs configs/mainnet.yaml; sepolia from eth-clients/sepolia
 * metadata/config.yaml (Gloas scheduled at 353024); holesky from eth-clients/holesky
 * metadata/config.yaml; hoodi through Electra from eth-clients/hoodi, Fulu and BPOs from lodestar's
 * transcription of it (networks/hoodi.ts; its Gloas epoch is not confirmed upstream and is left out);
 * gnosis and chiado from gnosischain/configs (no BLOB_SCHEDULE: Fulu mixes in Electra's values).
 * Gloas and later are unscheduled on mainnet, holesky, gnosis and chiado.
 */
const NETWORKS: readonly NetworkConfig[] = [
  {
    name: 'mainnet',
    genesisValidatorsRoot: '4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95',
    forks: [
      ['phase0', '00000000', 0],
      ['altair', '01000000', 74240],
      ['bellatrix', '02000000', 144896],
      ['capella', '03000000', 194048],
      ['deneb', '04000000', 269568],
      ['electra', '05000000', 364032],
      ['fulu', '06000000', 411392],
    ],
    maxBlobsElectra: 9,
    blobSchedule: { 412672: 15, 419072: 21 },
  },
  {
    name: 'sepolia',
    genesisValidatorsRoot: 'd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078',
    forks: [
      ['phase0', '90000069', 0],
      ['altair', '90000070', 50],
      ['bellatrix', '90000071', 100],
      ['capella', '90000072', 56832],
      ['deneb', '90000073', 132608],
      ['electra', '90000074', 222464],
      ['fulu', '90000075', 272640],
      ['gloas', '90000076', 353024],
    ],
    maxBlobsElectra: 9,
    blobSchedule: { 274176: 15, 275712: 21 },
  },
  {
    name: 'holesky',
    genesisValidatorsRoot: '9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1',
    forks: [
      ['phase0', '01017000', 0],
      ['altair', '02017000', 0],
      ['bellatrix', '03017000', 0],
      ['capella', '04017000', 256],
      ['deneb', '05017000', 29696],
      ['electra', '06017000', 115968],
      ['fulu', '07017000', 165120],
    ],
    maxBlobsElectra: 9,
    blobSchedule: { 166400: 15, 167936: 21 },
  },
  {
    name: 'hoodi',
    genesisValidatorsRoot: '212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f',
    forks: [
      ['phase0', '10000910', 0],
      ['altair', '20000910', 0],
      ['bellatrix', '30000910', 0],
      ['capella', '40000910', 0],
      ['deneb', '50000910', 0],
      ['electra', '60000910', 2048],
      ['fulu', '70000910', 50688],
    ],
    maxBlobsElectra: 9,
    blobSchedule: { 52480: 15, 54016: 21 },
  },
  {
    name: 'gnosis',
    genesisValidatorsRoot: 'f5dcb5564e829aab27264b9becd5dfaa017085611224cb3036f573368dbb9d47',
    forks: [
      ['phase0', '00000064', 0],
      ['altair', '01000064', 512],
      ['bellatrix', '02000064', 385536],
      ['capella', '03000064', 648704],
      ['deneb', '04000064', 889856],
      ['electra', '05000064', 1337856],
      ['fulu', '06000064', 1714688],
    ],
    maxBlobsElectra: 2,
    blobSchedule: {},
  },
  {
    name: 'chiado',
    genesisValidatorsRoot: '9d642dac73058fbf39c0ae41ab1e34e4d889043cb199851ded7095bc99eb4c1e',
    forks: [
      ['phase0', '0000006f', 0],
      ['altair', '0100006f', 90],
      ['bellatrix', '0200006f', 180],
      ['capella', '0300006f', 244224],
      ['deneb', '0400006f', 516608],
      ['electra', '0500006f', 948224],
      ['fulu', '0600006f', 1353216],
    ],
    maxBlobsElectra: 2,
    blobSchedule: {},
  },
];

/** The networks the table covers. */
export const KNOWN_NETWORKS: readonly NetworkName[] = Object.freeze(NETWORKS.map((n) => n.name));

function uint64le(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/**
 * compute_fork_digest for a fork version and genesis validators root (both raw bytes); `blobParams`
 * ([epoch, max blobs per block]) from Fulu on, omitted before.
 */
export function computeForkDigest(
  forkVersion: Uint8Array,
  genesisValidatorsRoot: Uint8Array,
  blobParams?: readonly [number, number],
): Uint8Array {
  if (forkVersion.length !== 4 || genesisValidatorsRoot.length !== 32) {
    throw new TypeError('a fork version is 4 bytes and a genesis validators root 32');
  }
  const forkData = new Uint8Array(64);
  forkData.set(forkVersion, 0);
  forkData.set(genesisValidatorsRoot, 32);
  const digest = sha256(forkData).slice(0, FORK_DIGEST_SIZE);
  if (blobParams !== undefined) {
    const mask = new Uint8Array(16);
    mask.set(uint64le(blobParams[0]), 0);
    mask.set(uint64le(blobParams[1]), 8);
    const hash = sha256(mask);
    for (let i = 0; i < FORK_DIGEST_SIZE; i++) digest[i] = (digest[i] as number) ^ (hash[i] as number);
  }
  return digest;
}

/** Every digest of one network, in activation order. */
function digestsOf(net: NetworkConfig): Array<[string, NetworkFork]> {
  const gvr = fromHex(net.genesisValidatorsRoot);
  const epochOf = (fork: string) => net.forks.find(([f]) => f === fork)?.[2] ?? Number.POSITIVE_INFINITY;
  const [fulu, electra] = [epochOf('fulu'), epochOf('electra')];
  const schedule = Object.entries(net.blobSchedule)
    .map(([e, max]): [number, number] => [Number(e), max])
    .sort((a, b) => a[0] - b[0]);
  // get_blob_parameters: the entry with the highest epoch at or below `epoch`.
  const blobParams = (epoch: number): readonly [number, number] | undefined => {
    if (epoch < fulu) return undefined;
    return schedule.filter(([e]) => e <= epoch).at(-1) ?? [electra, net.maxBlobsElectra];
  };
  const at = (fork: string, version: string, epoch: number): [string, NetworkFork] => [
    toHex(computeForkDigest(fromHex(version), gvr, blobParams(epoch))),
    Object.freeze({ network: net.name, fork, epoch }),
  ];
  const [genesis] = net.forks;
  const out: Array<[string, NetworkFork]> = [];
  if (genesis !== undefined) {
    out.push([
      toHex(computeForkDigest(fromHex(genesis[1]), new Uint8Array(32))),
      Object.freeze({ network: net.name, fork: 'pre-genesis', epoch: 0 }),
    ]);
  }
  const events: Array<[string, string, number]> = net.forks.map(([f, v, e]) => [f, v, e]);
  let bpo = 0;
  for (const [epoch] of schedule) {
    // Entries before Fulu do not change the digest; one at a regular fork's epoch is that fork.
    if (epoch <= fulu) continue;
    bpo++;
    if (net.forks.some(([, , e]) => e === epoch)) continue;
    const version = net.forks.filter(([, , e]) => e <= epoch).at(-1)?.[1] as string;
    events.push([`bpo${bpo}`, version, epoch]);
  }
  events.sort((a, b) => a[2] - b[2]);
  for (const [fork, version, epoch] of events) out.push(at(fork, version, epoch));
  return out;
}

let table: Map<string, NetworkFork> | undefined;

/** The table, built on first use. A digest two networks shared would keep the first (none do). */
function digestTable(): Map<string, NetworkFork> {
  if (table === undefined) {
    table = new Map();
    for (const net of NETWORKS) for (const [hex, fork] of digestsOf(net)) if (!table.has(hex)) table.set(hex, fork);
  }
  return table;
}

/**
 * The network and fork a 4-byte fork digest (bytes, or hex with or without 0x) belongs to, or
 * undefined if it is not a known one or is not 4 bytes. Never throws.
 */
export function networkOfForkDigest(digest: Uint8Array | string): NetworkFork | undefined {
  let hex: string;
  if (digest instanceof Uint8Array) {
    if (digest.length !== FORK_DIGEST_SIZE) return undefined;
    hex = toHex(digest);
  } else if (typeof digest === 'string') {
    hex = (digest.startsWith('0x') || digest.startsWith('0X') ? digest.slice(2) : digest).toLowerCase();
  } else {
    return undefined;
  }
  return digestTable().get(hex);
}

/** Every known digest (lowercase hex, no 0x) with what it stands for, network by network. */
export function knownForkDigests(): ReadonlyArray<{ digest: string } & NetworkFork> {
  return [...digestTable()].map(([digest, fork]) => ({ digest, ...fork }));
}
