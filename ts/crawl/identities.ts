/**
 * The nodes a crawl asks from: sessions for every node of the crawl, records verified once, no table
 * upkeep; and several of them (identities), each with its own key and socket.
 */
import type { Crypto } from '../crypto/crypto.js';
import { createCrypto, Discv5, type Discv5Options } from '../index.js';

/** Where a crawler identity runs: its socket (or transport), and whether it speaks discv4 too. */
export type CrawlerPlace = Pick<Discv5Options, 'bind' | 'transport'> & { discv4?: boolean };

/**
 * A crawler's discv4 side: endpoint proofs for every node of a large crawl (a proof evicted before
 * the node's walk ends would cost another PING), no bootnodes of its own.
 */
export const CRAWLER_DISCV4 = Object.freeze({ maxBonds: 200_000, maxPendingReplies: 16_384 });

/**
 * A node to crawl with: a session for every node of the crawl, records verified once, no table
 * upkeep; with `discv4`, Discovery v4 on the same socket and key.
 */
export async function crawlerNode(
  place: CrawlerPlace,
  privateKey?: Uint8Array,
  crypto: Crypto = createCrypto(),
): Promise<Discv5> {
  const { discv4, ...at } = place;
  const node = await Discv5.create({
    privateKey: privateKey ?? crypto.generatePrivateKey(),
    crypto,
    ...at,
    ...(discv4 === true ? { discv4: { ...CRAWLER_DISCV4 } } : {}),
    config: {
      sessionCacheCapacity: 100_000,
      enrCacheSize: 100_000,
      verifiedEnrCacheSize: 100_000,
      maxActiveRequests: 100_000,
      refreshIntervalMs: 0,
      revalidateNewIntervalMs: 0,
      revalidateLiveIntervalMs: 0,
      reseedIntervalMs: 0,
      // The crawl's time limits follow the round trips seen, down to 500 ms; a retry after one runs
      // out must contact the node afresh, not wait behind the first attempt's handshake.
      handshakeTimeoutMs: 500,
    },
  });
  await node.start();
  return node;
}

/**
 * `count` crawler identities, each with its own key and socket (`placeOf(i)`), their ids spread
 * over the key space: identity i's id begins with i in its top ceil(log2(count)) bits, so that
 * they sit in different buckets of the nodes they ask.
 */
export async function crawlerNodes(count: number, placeOf: (i: number) => CrawlerPlace): Promise<Discv5[]> {
  const crypto = createCrypto();
  const bits = Math.ceil(Math.log2(count));
  const nodes: Discv5[] = [];
  try {
    for (let i = 0; i < count; i++) {
      let key = crypto.generatePrivateKey();
      while (
        bits > 0 &&
        (crypto.nodeIdFromPublicKey(crypto.publicKeyFromPrivate(key)) as Uint8Array)[0]! >> (8 - bits) !== i
      )
        key = crypto.generatePrivateKey();
      nodes.push(await crawlerNode(placeOf(i), key));
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return nodes;
}
