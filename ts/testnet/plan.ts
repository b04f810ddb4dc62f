/**
 * Who is who in a testnet, decided before any node runs and repeatable from a seed: each member's
 * key, its faults (dead, behind NAT, its round trip) and which network its record says it belongs
 * to. Fractions are exact (round(F × n) members each), drawn by a seeded shuffle; member 0 is the
 * bootnode and is always alive and reachable.
 */
import type { Crypto } from '../crypto/crypto.js';
import type { EnrEntries } from '../enr/create.js';
import { fromHex } from '../util/bytes.js';

export interface FaultProfile {
  /** Fraction of members whose record stays in tables but which never answer. */
  dead: number;
  /** Round trip per member in ms, drawn uniformly from [min, max]. */
  latency: readonly [number, number] | undefined;
  /** Fraction of datagrams lost on each member's link. */
  loss: number;
  /** Fraction of (live) members that answer only peers they contacted first. */
  nat: number;
  /** Requests a member answers per second per requester node id (0: no limit). */
  rateLimit: number;
  /** Fraction of members whose record belongs to another network (another fork digest, or `eth`). */
  foreign: number;
}

export const CLEAN_PROFILE: FaultProfile = Object.freeze({
  dead: 0,
  latency: undefined,
  loss: 0,
  nat: 0,
  rateLimit: 0,
  foreign: 0,
});

/** The record's network: this testnet's fork digest, another eth2 network's, or an execution-layer record. */
export type MemberNetwork = 'home' | 'other-eth2' | 'execution';

export interface MemberPlan {
  index: number;
  privateKey: Uint8Array;
  dead: boolean;
  nat: boolean;
  rttMs: number;
  network: MemberNetwork;
}

/** The fork digest every home member's `eth2` entry carries (made up: no real network uses it). */
export const TESTNET_FORK_DIGEST = '0d15c0de';
/** Other consensus networks' digests, for foreign records (made up as well, one per "network"). */
export const OTHER_FORK_DIGESTS = ['a1b2c3d4', '5eb0115e', 'feedf00d'];
/** The execution-layer fork hash foreign `eth` records carry. */
export const EXECUTION_FORK_HASH = 'c376cf8b';

/** xorshift32: fast, seeded, and the same on every machine (not for keys: see `memberKey`). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** secp256k1's group order: a private key is a scalar in [1, n). */
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Member `index`'s private key: keccak256(seed ‖ index ‖ attempt), the first that is a valid scalar. */
export function memberKey(crypto: Crypto, seed: number, index: number): Uint8Array {
  const input = new Uint8Array(12);
  const view = new DataView(input.buffer);
  view.setUint32(0, seed >>> 0);
  view.setUint32(4, index >>> 0);
  for (let attempt = 0; ; attempt++) {
    view.setUint32(8, attempt);
    const key = crypto.keccak256(input);
    const scalar = BigInt(`0x${Buffer.from(key).toString('hex')}`);
    // Zero or beyond the order: about one in 2^128; the next attempt.
    if (scalar > 0n && scalar < CURVE_ORDER) return key;
  }
}

/** `count` distinct indices of `pool`, drawn by a seeded partial shuffle. */
function pick(pool: number[], count: number, random: () => number): Set<number> {
  const a = [...pool];
  const n = Math.min(count, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return new Set(a.slice(0, n));
}

export function planMembers(crypto: Crypto, count: number, profile: FaultProfile, seed: number): MemberPlan[] {
  const random = seededRandom(seed);
  const all = Array.from({ length: count }, (_, i) => i);
  const dead = pick(all.slice(1), Math.round(profile.dead * count), random);
  const nat = pick(
    all.slice(1).filter((i) => !dead.has(i)),
    Math.round(profile.nat * count),
    random,
  );
  const foreign = [...pick(all.slice(1), Math.round(profile.foreign * count), random)];
  const network = new Map<number, MemberNetwork>(foreign.map((i, n) => [i, n % 2 === 0 ? 'other-eth2' : 'execution']));
  const [min, max] = profile.latency ?? [0, 0];
  return all.map((index) => ({
    index,
    privateKey: memberKey(crypto, seed, index),
    dead: dead.has(index),
    nat: nat.has(index),
    rttMs: Math.round(min + random() * (max - min)),
    network: network.get(index) ?? 'home',
  }));
}

/** The record entries (beyond the endpoint) of a member on `network`. */
export function networkEntries(network: MemberNetwork, index: number): EnrEntries {
  const eth2 = (digest: string) => ({
    forkDigest: fromHex(digest),
    nextForkVersion: fromHex('ffffffff'),
    nextForkEpoch: 0xffff_ffff_ffff_ffffn,
  });
  if (network === 'execution') return { eth: { forkHash: fromHex(EXECUTION_FORK_HASH), forkNext: 0n } };
  const digest =
    network === 'home' ? TESTNET_FORK_DIGEST : (OTHER_FORK_DIGESTS[index % OTHER_FORK_DIGESTS.length] as string);
  // Two attestation subnets per node, spread by index, as long-lived subscriptions are; the rest
  // as a consensus network's records look: a client entry in the shares clients have on mainnet,
  // custody of 4 groups (128 for one node in 20, a supernode), a sync subnet for one in 16.
  const client = CLIENT_MIX[(index * 37) % CLIENT_MIX.length] as { name: string; version: string };
  return {
    eth2: eth2(digest),
    attnets: [index % 64, (index * 7 + 3) % 64].filter((v, i, a) => a.indexOf(v) === i),
    ...(index % 16 === 5 ? { syncnets: [index % 4] } : {}),
    cgc: index % 20 === 7 ? 128 : 4,
    client,
  };
}

/** Clients by share (of 100), for testnet records' `client` entries. */
const CLIENT_MIX = (
  [
    ['Lighthouse', 'v8.0.1', 36],
    ['Prysm', 'v6.1.4', 30],
    ['Teku', '25.11.1', 14],
    ['Nimbus', 'v25.11.0', 10],
    ['Lodestar', 'v1.36.0', 6],
    ['Grandine', '2.0.0', 4],
  ] as const
).flatMap(([name, version, share]) => Array.from({ length: share }, () => ({ name, version })));
