/**
 * ts/enr/networks.ts (fork digest → network and fork) against digests known from outside this
 * module and against the real-world corpus; ts/enr/client.ts (the EIP-7636 `client` entry) on
 * records signed with well-formed and hostile values.
 */
import test from 'ava';
import { clientInfoOf, clientOf } from '../ts/enr/client.js';
import { signRecord } from '../ts/enr/create.js';
import {
  computeForkDigest,
  KNOWN_NETWORKS,
  knownForkDigests,
  type NetworkFork,
  networkOfForkDigest,
} from '../ts/enr/networks.js';
import { type Crypto, createCrypto, Enr } from '../ts/index.js';
import { encode as rlpEncode } from '../ts/rlp/rlp.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { corpus, type Json } from './helpers/vectors.js';

/** The backend this run tests with (DISCV5_BACKEND, else auto): nothing here is crypto-specific. */
const crypto: Crypto = createCrypto();

// --- networks ---------------------------------------------------------------------------------

/**
 * Digests published by consensus clients (gossip topics, client test vectors) or seen on the
 * networks, not derived from this module: [digest, network, fork].
 */
const PUBLISHED: ReadonlyArray<readonly [string, string, string]> = [
  ['b5303f2a', 'mainnet', 'phase0'],
  ['afcaaba0', 'mainnet', 'altair'],
  ['4a26c58b', 'mainnet', 'bellatrix'],
  ['bba4da96', 'mainnet', 'capella'],
  ['6a95a1a9', 'mainnet', 'deneb'],
  ['ad532ceb', 'mainnet', 'electra'],
  ['cc2c5cdb', 'mainnet', 'fulu'],
  ['cb0d1acc', 'mainnet', 'bpo1'],
  ['8c9f62fe', 'mainnet', 'bpo2'],
  ['14045b5a', 'sepolia', 'electra'],
  ['7e0d3447', 'sepolia', 'fulu'],
  ['fd32b622', 'sepolia', 'bpo1'],
  ['74d01459', 'sepolia', 'bpo2'],
  ['669e6c11', 'sepolia', 'gloas'],
  ['82556a32', 'hoodi', 'electra'],
  ['e2abcca4', 'hoodi', 'fulu'],
  ['ae9f70a0', 'hoodi', 'bpo1'],
  ['c6ecb76c', 'hoodi', 'bpo2'],
  ['3237dab6', 'gnosis', 'fulu'],
];

test('computed digests match the ones clients publish', (t) => {
  for (const [digest, network, fork] of PUBLISHED) {
    t.like(networkOfForkDigest(digest), { network, fork }, digest);
  }
  const mainnet = fromHex('4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95');
  t.is(toHex(computeForkDigest(fromHex('00000000'), mainnet)), 'b5303f2a');
  // Fulu before any BPO mixes in (ELECTRA_FORK_EPOCH, MAX_BLOBS_PER_BLOCK_ELECTRA); BPO1 its entry.
  t.is(toHex(computeForkDigest(fromHex('06000000'), mainnet, [364032, 9])), 'cc2c5cdb');
  t.is(toHex(computeForkDigest(fromHex('06000000'), mainnet, [412672, 15])), 'cb0d1acc');
  // The spec's pre-genesis bootnode digest: a zero genesis_validators_root.
  t.is(toHex(computeForkDigest(fromHex('00000000'), new Uint8Array(32))), 'f5a5fd42');
  t.throws(() => computeForkDigest(new Uint8Array(3), mainnet), { instanceOf: TypeError });
});

test('the table covers the six networks, each from pre-genesis to Fulu, with no digest shared', (t) => {
  t.deepEqual([...KNOWN_NETWORKS], ['mainnet', 'sepolia', 'holesky', 'hoodi', 'gnosis', 'chiado']);
  const all = knownForkDigests();
  // 6 networks × pre-genesis..fulu, 8 BPOs, sepolia's gloas: a digest two entries shared would be
  // kept once, so the count also shows there is no collision.
  t.is(all.length, 6 * 8 + 8 + 1);
  t.is(new Set(all.map((d) => d.digest)).size, all.length);
  const forks = ['pre-genesis', 'phase0', 'altair', 'bellatrix', 'capella', 'deneb', 'electra', 'fulu'];
  for (const network of KNOWN_NETWORKS) {
    const mine = all.filter((d) => d.network === network).map((d) => d.fork);
    for (const fork of forks) t.true(mine.includes(fork), `${network} ${fork}`);
  }
  // BPO forks where a BLOB_SCHEDULE exists; gnosis and chiado have none.
  t.deepEqual(
    all.filter((d) => d.fork.startsWith('bpo')).map((d) => `${d.network}:${d.fork}:${d.epoch}`),
    [
      'mainnet:bpo1:412672',
      'mainnet:bpo2:419072',
      'sepolia:bpo1:274176',
      'sepolia:bpo2:275712',
      'holesky:bpo1:166400',
      'holesky:bpo2:167936',
      'hoodi:bpo1:52480',
      'hoodi:bpo2:54016',
    ],
  );
  for (const d of all) t.true(/^[0-9a-f]{8}$/.test(d.digest), d.digest);
});

test('lookups take bytes or hex, and give undefined for anything unknown or malformed', (t) => {
  const deneb: NetworkFork = { network: 'mainnet', fork: 'deneb', epoch: 269568 };
  t.deepEqual(networkOfForkDigest('6a95a1a9'), deneb);
  t.deepEqual(networkOfForkDigest('0x6A95A1A9'), deneb);
  t.deepEqual(networkOfForkDigest(fromHex('6a95a1a9')), deneb);
  t.is(networkOfForkDigest('6a95a1a9'), networkOfForkDigest(fromHex('6a95a1a9')), 'one shared, frozen entry');
  t.true(Object.isFrozen(networkOfForkDigest('6a95a1a9')));
  for (const bad of ['00000000', 'deadbeef', 'ffffffff', '', '0x', '6a95a1a', '6a95a1a900', 'zzzzzzzz', ' 6a95a1a9']) {
    t.is(networkOfForkDigest(bad), undefined, JSON.stringify(bad));
  }
  t.is(networkOfForkDigest(new Uint8Array(4)), undefined);
  t.is(networkOfForkDigest(fromHex('6a95a1a900')), undefined);
  t.is(networkOfForkDigest(new Uint8Array(0)), undefined);
  t.is(networkOfForkDigest(null as unknown as string), undefined);
  t.is(networkOfForkDigest(1234 as unknown as string), undefined);
});

/**
 * Measured on ../shared/corpus/real-enrs.json: 66 valid records carry `eth2`; 56 are recognised
 * (17 distinct digests: mainnet f5a5fd42 pre-genesis, b5303f2a, bba4da96; sepolia a8fee8ee,
 * 36fa5013, d31f6191; holesky 219d34fe, 69b7d974, 69ae0e99; hoodi 5df5c106, d2f1997f; gnosis
 * 824be431, 21a6f836, 3ebfd484; chiado 0dcd4496 pre-genesis, 31367043, 9d33b675). The 10 others
 * are stale bootnode records of chains that were abandoned and relaunched, so they are not in the
 * table on purpose:
 * - hoodi dedfc576 (3) and d0f0bc13 (3): phase0 and deneb of Hoodi's soft launch of 2025-03-14
 *   (genesis_validators_root 0x35976dd3…, eth-clients/hoodi before commit a5b2709; next fork
 *   0x60000910 at epoch 1, that launch's ELECTRA_FORK_EPOCH). Recomputed with that root, they match.
 * - holesky a97e8366 (4): the failed Holesky launch of 2023-09-15 (GENESIS_FORK_VERSION 0x00017000,
 *   next fork 0x30017000 at epoch 10 or 256, that launch's Capella); its genesis state is not
 *   available here to recompute.
 */
const UNKNOWN_IN_CORPUS: Readonly<Record<string, string>> = {
  dedfc576: 'hoodi',
  d0f0bc13: 'hoodi',
  a97e8366: 'holesky',
};

test('every corpus record whose eth2 digest is known maps to the network the corpus names', (t) => {
  const withEth2 = corpus.records.filter((r: Json) => r.valid && r.decoded.eth2 !== undefined);
  t.is(withEth2.length, 66);
  const recognised = new Set<string>();
  const unknown = new Map<string, string>();
  let count = 0;
  for (const r of withEth2) {
    const enr = Enr.decode(r.enr, crypto);
    const digest = enr.forkDigest as Uint8Array;
    t.is(toHex(digest), r.decoded.eth2.forkDigest, r.id);
    const found = networkOfForkDigest(digest);
    t.deepEqual(networkOfForkDigest(r.decoded.eth2.forkDigest), found, r.id);
    if (found === undefined) {
      unknown.set(toHex(digest), r.network);
      continue;
    }
    count++;
    recognised.add(toHex(digest));
    t.is(found.network, r.network, `${r.id}: ${toHex(digest)} is ${found.network} ${found.fork}`);
  }
  t.is(count, 56);
  t.is(recognised.size, 17);
  t.deepEqual(Object.fromEntries(unknown), UNKNOWN_IN_CORPUS);
  // Each of the six networks is recognised in the corpus at least once.
  const networks = new Set([...recognised].map((d) => networkOfForkDigest(d)?.network));
  t.deepEqual([...networks].sort(), [...KNOWN_NETWORKS].sort());
});

// --- client -----------------------------------------------------------------------------------

const key = crypto.generatePrivateKey();
const ascii = (s: string) => new TextEncoder().encode(s);

/** A correctly signed record whose `client` value is `value`'s RLP (or absent). */
function withClient(value?: Uint8Array | Uint8Array[] | Array<Uint8Array | Uint8Array[]>): Enr {
  const raw = new Map<string, Uint8Array>([['udp', rlpEncode(Uint8Array.of(0x23, 0x28))]]);
  if (value !== undefined) raw.set('client', rlpEncode(value));
  const enr = Enr.fromParts(signRecord(crypto, key, 1n, raw), crypto, true);
  // And as a peer would receive it: decoded from its text, signature checked.
  return Enr.decode(enr.text, crypto);
}

test('client: name/version and name/version/build', (t) => {
  t.is(clientOf(withClient([ascii('Lighthouse'), ascii('v7.0.1')])), 'Lighthouse/v7.0.1');
  const nm = withClient([ascii('Nethermind'), ascii('1.9.53'), ascii('7fcb567')]);
  t.is(clientOf(nm), 'Nethermind/1.9.53/7fcb567');
  t.deepEqual(clientInfoOf(nm), { name: 'Nethermind', version: '1.9.53', build: '7fcb567' });
  t.deepEqual(clientInfoOf(withClient([ascii('Geth'), ascii('1.10.0')])), { name: 'Geth', version: '1.10.0' });
  // An empty build is no build.
  t.is(clientOf(withClient([ascii('Geth'), ascii('1.10.0'), new Uint8Array(0)])), 'Geth/1.10.0');
});

test('client: absent or malformed reads as undefined', (t) => {
  t.is(clientOf(withClient()), undefined);
  t.is(clientInfoOf(withClient()), undefined);
  // Not a list.
  t.is(clientOf(withClient(ascii('Geth/1.10.0'))), undefined);
  // Too few or too many items; a list where a string belongs.
  t.is(clientOf(withClient([])), undefined);
  t.is(clientOf(withClient([ascii('Geth')])), undefined);
  t.is(clientOf(withClient([ascii('a'), ascii('b'), ascii('c'), ascii('d')])), undefined);
  t.is(clientOf(withClient([ascii('Geth'), [ascii('1.10.0')]])), undefined);
  // An empty name or version, or one with nothing printable.
  t.is(clientOf(withClient([new Uint8Array(0), ascii('1.0')])), undefined);
  t.is(clientOf(withClient([ascii('Geth'), new Uint8Array(0)])), undefined);
  t.is(clientOf(withClient([Uint8Array.of(0, 1, 0x1b, 0x7f, 0xff), ascii('1.0')])), undefined);
  // What a record cannot carry (its RLP is checked at decode), from any other source of raw values.
  t.is(clientOf({ getRaw: () => Uint8Array.of(0xc5, 0x84) }), undefined);
  t.is(clientOf({ getRaw: () => Uint8Array.of(0x81, 0x01) }), undefined);
  t.is(
    clientOf({
      getRaw: () => {
        throw new Error('boom');
      },
    }),
    undefined,
  );
});

test('client: hostile text keeps printable ASCII only, each part capped at 64 characters', (t) => {
  // One long part per record: a record is at most 300 bytes.
  t.is(clientOf(withClient([ascii('x'.repeat(150)), ascii('1')])), `${'x'.repeat(64)}/1`);
  t.is(clientOf(withClient([ascii('x'), ascii('1'.repeat(65))])), `x/${'1'.repeat(64)}`);
  t.is(clientOf(withClient([ascii('x'), ascii('1'), ascii('b'.repeat(100))])), `x/1/${'b'.repeat(64)}`);
  t.is(clientOf(withClient([ascii('x'.repeat(64)), ascii('1')])), `${'x'.repeat(64)}/1`);
  t.is(clientOf(withClient([ascii(`${' '.repeat(70)}Geth`), ascii('1')])), 'Geth/1', 'leading spaces cost nothing');
  // Control characters, an ANSI escape, DEL and UTF-8 bytes are dropped; spaces at the ends too.
  const hostile = withClient([ascii('Ge\u0000th\u001b[31m\u007f'), ascii(' v1.0\r\n'), ascii('abc\u00e9\ud83d\ude00')]);
  t.deepEqual(clientInfoOf(hostile), { name: 'Geth[31m', version: 'v1.0', build: 'abc' });
  // Capping counts kept characters, so dropped bytes do not eat into the 64.
  const padded = new Uint8Array(120).fill(0x01);
  padded.set(ascii('n'.repeat(70)), 40);
  t.is(clientInfoOf(withClient([padded, ascii('1')]))?.name, 'n'.repeat(64));
  const text = clientOf(hostile) as string;
  t.true(/^[\x20-\x7e]*$/.test(text));
});

test('client: set through Enr.create (EnrEntries.client), read back; invalid parts refused', (t) => {
  const enr = Enr.decode(
    Enr.create(key, { udp: 9000, client: { name: 'Lodestar', version: 'v1.36.0', build: 'abc123' } }, crypto).text,
    crypto,
  );
  t.is(clientOf(enr), 'Lodestar/v1.36.0/abc123');
  t.is(clientOf(Enr.create(key, { udp: 9000, client: { name: 'Teku', version: '25.11.1' } }, crypto)), 'Teku/25.11.1');
  for (const bad of [
    { name: '', version: '1' },
    { name: 'x', version: 'é' },
    { name: 'x'.repeat(65), version: '1' },
  ])
    t.throws(() => Enr.create(key, { udp: 9000, client: bad }, crypto), { code: 'ERR_ENR_VALUE' });
});
