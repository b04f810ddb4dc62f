/**
 * A testnet's ground truth, as JSON any crawler's output can be scored against: every member with
 * its faults, whether it answers packets nobody asked for (alive and not behind NAT), and its
 * record (and, when the testnet serves discv4, its `enode://` URL). And the score of one crawl
 * against it.
 */
import type { Enr } from '../enr/enr.js';
import type { FaultProfile, MemberNetwork, MemberPlan } from './plan.js';

export interface TruthMember {
  nodeId: string;
  enr: string;
  /** Its `enode://` URL, when the testnet serves discv4 too. */
  enode?: string;
  dead: boolean;
  nat: boolean;
  rttMs: number;
  network: MemberNetwork;
  /** Alive and not behind NAT: a crawler that asks gets an answer. */
  answersUnsolicited: boolean;
}

export interface TruthDocument {
  version: 1;
  seed: number;
  nodes: number;
  profile: FaultProfile;
  members: TruthMember[];
}

/** What the truth is made of: a testnet in one process, or a sharded one. */
export interface TestnetMembers {
  members: readonly { plan: MemberPlan; enr: Enr; enode?: string | undefined }[];
  seed: number;
  profile: FaultProfile;
}

export function truthOf(testnet: TestnetMembers): TruthDocument {
  return {
    version: 1,
    seed: testnet.seed,
    nodes: testnet.members.length,
    profile: testnet.profile,
    members: testnet.members.map(({ plan, enr, enode }) => ({
      nodeId: enr.nodeIdHex,
      enr: enr.text,
      ...(enode === undefined ? {} : { enode }),
      dead: plan.dead,
      nat: plan.nat,
      rttMs: plan.rttMs,
      network: plan.network,
      answersUnsolicited: !plan.dead && !plan.nat,
    })),
  };
}

export interface CrawlScore {
  members: number;
  /** Members the crawl found (any record of theirs). */
  found: number;
  /** Members that answer unsolicited packets, and how many of them the crawl reports as answered. */
  answering: number;
  answeredOfAnswering: number;
  /** Records served by answering members at the end (`Testnet.served`), and how many were found. */
  served: number | undefined;
  foundOfServed: number | undefined;
  /** A few ids that should have been found or answered and were not. */
  missed: string[];
}

/**
 * Scores a crawl: `found` and `answered` are node ids (hex) from its output; `served`, when the
 * testnet is at hand, the records its answering members serve.
 */
export function scoreCrawl(
  truth: TruthDocument,
  found: Iterable<string>,
  answered: Iterable<string>,
  served?: ReadonlySet<string>,
): CrawlScore {
  const foundSet = new Set(found);
  const answeredSet = new Set(answered);
  const missed: string[] = [];
  let foundMembers = 0;
  let answering = 0;
  let answeredOfAnswering = 0;
  for (const m of truth.members) {
    if (foundSet.has(m.nodeId)) foundMembers++;
    if (!m.answersUnsolicited) continue;
    answering++;
    if (answeredSet.has(m.nodeId)) answeredOfAnswering++;
    else if (missed.length < 10) missed.push(m.nodeId);
  }
  let foundOfServed: number | undefined;
  if (served !== undefined) {
    foundOfServed = 0;
    for (const id of served) {
      if (foundSet.has(id)) foundOfServed++;
      else if (missed.length < 10 && !missed.includes(id)) missed.push(id);
    }
  }
  return {
    members: truth.members.length,
    found: foundMembers,
    answering,
    answeredOfAnswering,
    served: served?.size,
    foundOfServed,
    missed,
  };
}

const pct = (part: number, whole: number) => `${((100 * part) / Math.max(whole, 1)).toFixed(1)}%`;

/** One line: the score as a person reads it. */
export function scoreText(s: CrawlScore): string {
  const parts = [
    `found ${s.found} of ${s.members} members`,
    `answered ${s.answeredOfAnswering} of ${s.answering} that answer unsolicited (${pct(s.answeredOfAnswering, s.answering)})`,
  ];
  if (s.served !== undefined && s.foundOfServed !== undefined)
    parts.push(`${s.foundOfServed} of ${s.served} served records found (${pct(s.foundOfServed, s.served)})`);
  return `truth: ${parts.join('; ')}`;
}
