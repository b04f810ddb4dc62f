/**
 * One process of a sharded testnet (sharded.ts): it runs members [from, to) of a network whose
 * records the parent made and wrote to a file, fills their tables from the global view, says
 * `ready` on stdout, and stops its nodes when its stdin closes. Every process derives the same plan
 * from the seed, so no private key crosses a file. With `discv4`, its nodes serve discv4 too, their
 * v4 tables filled from the same buckets.
 */
import { readFileSync } from 'node:fs';
import { Enr } from '../enr/enr.js';
import { createCrypto, Discv5, type Discv5Config } from '../index.js';
import { prefillV4, TESTNET_DISCV4, v4Nodes } from './discv4.js';
import { faultyLink } from './faults.js';
import { type FaultProfile, planMembers, seededRandom } from './plan.js';
import { prefillBuckets } from './prefill.js';
import { memberSocket } from './testnet.js';

export interface ShardSpec {
  /** The file with every member's record, one `enr:` text a line, in member order. */
  recordsFile: string;
  nodes: number;
  from: number;
  to: number;
  seed: number;
  profile: FaultProfile;
  config: Partial<Discv5Config>;
  /** Its nodes serve discv4 too. */
  discv4?: boolean;
}

export async function runShard(spec: ShardSpec): Promise<void> {
  const crypto = createCrypto();
  const plans = planMembers(crypto, spec.nodes, spec.profile, spec.seed);
  const texts = readFileSync(spec.recordsFile, 'utf8').trim().split('\n');
  if (texts.length !== spec.nodes) throw new Error(`expected ${spec.nodes} records, found ${texts.length}`);
  // The parent signed them: parsed, not verified again (a crawler verifies what it is served).
  const records = texts.map((t) => Enr.decode(t, crypto, { verify: false }));
  const mine = new Set<number>();
  for (let i = spec.from; i < spec.to; i++) mine.add(i);
  const buckets = prefillBuckets(
    records.map((r) => r.nodeId),
    16,
    mine,
  );
  const random = seededRandom(spec.seed ^ spec.from ^ 0x5eed);
  const discv4 = spec.discv4 === true;
  // Only the members some table of this shard holds are made, each once.
  const v4At = v4Nodes(crypto, records);
  const nodes: Discv5[] = [];
  for (let i = spec.from; i < spec.to; i++) {
    const plan = plans[i];
    const enr = records[i] as Enr;
    if (plan === undefined || plan.dead) continue;
    const socket = memberSocket(enr.ip as string, enr.udp as number);
    const transport = faultyLink(socket, plan, spec.profile, random) ?? socket;
    const node = await Discv5.create({
      privateKey: plan.privateKey,
      crypto,
      transport,
      enr,
      config: spec.config,
      ...(discv4 ? { discv4: { ...TESTNET_DISCV4 } } : {}),
    });
    await node.start();
    const indices = buckets[i] as number[];
    node.prefillTable(indices.map((j) => records[j] as Enr));
    if (discv4) prefillV4(node, indices, v4At);
    nodes.push(node);
  }
  process.stdout.write(`ready ${nodes.length}\n`);
  for await (const _ of process.stdin) {
    // Nothing is read: the parent closes stdin to stop the shard.
  }
  await Promise.all(nodes.map((n) => n.stop()));
}
