/**
 * External address voting (issue 6, spec §6.2): PONGs report how peers see us. Votes are counted per
 * address family, one per node id (its latest), within a time window; once at least `minVotes`
 * are in and one endpoint holds a clear majority of them, that endpoint wins.
 */
import type { IpFamily } from '../transport/types.js';

export interface VotesConfig {
  /** How long a vote counts (default 120 s). */
  windowMs: number;
  /** Votes needed before any endpoint can win (default 10). */
  minVotes: number;
  /** Voters remembered per family (bounds memory; default 1,000). */
  maxVoters: number;
}

interface Vote {
  endpoint: string;
  at: number;
}

export class AddressVotes {
  readonly #config: VotesConfig;
  readonly #now: () => number;
  /** Per family: voter id -> its latest vote, oldest first (Map insertion order). */
  readonly #votes = new Map<IpFamily, Map<string, Vote>>([
    [4, new Map()],
    [6, new Map()],
  ]);

  constructor(config: VotesConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
  }

  /**
   * Records `voter`'s view of us (`ip`, `port`) and returns the endpoint that now wins for that
   * family, if one does.
   */
  vote(voter: string, family: IpFamily, ip: string, port: number): { ip: string; port: number } | undefined {
    const votes = this.#votes.get(family) as Map<string, Vote>;
    const now = this.#now();
    votes.delete(voter);
    votes.set(voter, { endpoint: `${ip}|${port}`, at: now });
    // Expired votes and, past the bound, the oldest voters go first.
    for (const [id, v] of votes) {
      if (v.at > now - this.#config.windowMs && votes.size <= this.#config.maxVoters) break;
      votes.delete(id);
    }
    if (votes.size < this.#config.minVotes) return undefined;
    const tally = new Map<string, number>();
    for (const v of votes.values()) tally.set(v.endpoint, (tally.get(v.endpoint) ?? 0) + 1);
    let best = '';
    let bestCount = 0;
    for (const [endpoint, n] of tally) {
      if (n > bestCount) {
        best = endpoint;
        bestCount = n;
      }
    }
    // A clear majority: more than half of the votes counted.
    if (bestCount * 2 <= votes.size) return undefined;
    const [winIp, winPort] = best.split('|') as [string, string];
    return { ip: winIp, port: Number(winPort) };
  }

  /** Voters counted for a family now. */
  count(family: IpFamily): number {
    return (this.#votes.get(family) as Map<string, Vote>).size;
  }
}
