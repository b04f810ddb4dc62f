/**
 * ts/enr/eth-networks.ts (EIP-2124 fork hash → execution-layer network and fork) against
 * go-ethereum's fork id test vectors (core/forkid/forkid_test.go, TestCreation), the fork ids
 * EIP-2124 itself lists, and the `eth` entries of the real-world corpus.
 */
import { crc32 } from 'node:zlib';
import test from 'ava';
import { encodeEth } from '../ts/enr/consensus.js';
import { signRecord } from '../ts/enr/create.js';
import {
  ETH_NETWORKS,
  type EthNetworkFork,
  type EthNetworkName,
  ethNetworkOf,
  forkIdAt,
  forkIdsOf,
  knownForkHashes,
} from '../ts/enr/eth-networks.js';
import { createCrypto, Discv5Error, Enr, ErrorCode } from '../ts/index.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { corpus, type Json } from './helpers/vectors.js';

const crypto = createCrypto();

/** TestCreation's cases: [head block, head time, FORK_HASH, FORK_NEXT], by network. */
const GETH: Readonly<Record<EthNetworkName, ReadonlyArray<readonly [number, number, string, number]>>> = {
  mainnet: [
    [0, 0, 'fc64ec04', 1150000], // Unsynced
    [1149999, 0, 'fc64ec04', 1150000], // Last Frontier block
    [1150000, 0, '97c2c34c', 1920000], // First Homestead block
    [1919999, 0, '97c2c34c', 1920000], // Last Homestead block
    [1920000, 0, '91d1f948', 2463000], // First DAO block
    [2462999, 0, '91d1f948', 2463000], // Last DAO block
    [2463000, 0, '7a64da13', 2675000], // First Tangerine block
    [2674999, 0, '7a64da13', 2675000], // Last Tangerine block
    [2675000, 0, '3edd5b10', 4370000], // First Spurious block
    [4369999, 0, '3edd5b10', 4370000], // Last Spurious block
    [4370000, 0, 'a00bc324', 7280000], // First Byzantium block
    [7279999, 0, 'a00bc324', 7280000], // Last Byzantium block
    [7280000, 0, '668db0af', 9069000], // First and last Constantinople, first Petersburg block
    [9068999, 0, '668db0af', 9069000], // Last Petersburg block
    [9069000, 0, '879d6e30', 9200000], // First Istanbul and first Muir Glacier block
    [9199999, 0, '879d6e30', 9200000], // Last Istanbul and first Muir Glacier block
    [9200000, 0, 'e029e991', 12244000], // First Muir Glacier block
    [12243999, 0, 'e029e991', 12244000], // Last Muir Glacier block
    [12244000, 0, '0eb440f6', 12965000], // First Berlin block
    [12964999, 0, '0eb440f6', 12965000], // Last Berlin block
    [12965000, 0, 'b715077d', 13773000], // First London block
    [13772999, 0, 'b715077d', 13773000], // Last London block
    [13773000, 0, '20c327fc', 15050000], // First Arrow Glacier block
    [15049999, 0, '20c327fc', 15050000], // Last Arrow Glacier block
    [15050000, 0, 'f0afd0e3', 1681338455], // First Gray Glacier block
    [20000000, 1681338454, 'f0afd0e3', 1681338455], // Last Gray Glacier block
    [20000000, 1681338455, 'dce96c2d', 1710338135], // First Shanghai block
    [30000000, 1710338134, 'dce96c2d', 1710338135], // Last Shanghai block
    [30000000, 1710338135, '9f3d2254', 1746612311], // First Cancun block
    [30000000, 1746022486, '9f3d2254', 1746612311], // Last Cancun block
    [30000000, 1746612311, 'c376cf8b', 1764798551], // First Prague block
    [30000000, 1764798550, 'c376cf8b', 1764798551], // Last Prague block
    [30000000, 1764798551, '5167e2a6', 1765290071], // First Osaka block
    [30000000, 1765290070, '5167e2a6', 1765290071], // Last Osaka block
    [30000000, 1765290071, 'cba2a1c0', 1767747671], // First BPO1 block
    [30000000, 1767747670, 'cba2a1c0', 1767747671], // Last BPO1 block
    [30000000, 1767747671, '07c9462e', 0], // First BPO2 block
    [50000000, 2000000000, '07c9462e', 0], // Future BPO2 block
  ],
  sepolia: [
    [0, 0, 'fe3366e7', 1735371], // Unsynced, … first London block
    [1735370, 0, 'fe3366e7', 1735371], // Last London block
    [1735371, 0, 'b96cbd13', 1677557088], // First MergeNetsplit block
    [1735372, 1677557087, 'b96cbd13', 1677557088], // Last MergeNetsplit block
    [1735372, 1677557088, 'f7f9bc08', 1706655072], // First Shanghai block
    [1735372, 1706655071, 'f7f9bc08', 1706655072], // Last Shanghai block
    [1735372, 1706655072, '88cf81d9', 1741159776], // First Cancun block
    [1735372, 1741159775, '88cf81d9', 1741159776], // Last Cancun block
    [1735372, 1741159776, 'ed88b5fd', 1760427360], // First Prague block
    [1735372, 1760427359, 'ed88b5fd', 1760427360], // Last Prague block
    [1735372, 1760427360, 'e2ae4999', 1761017184], // First Osaka block
    [1735372, 1761017183, 'e2ae4999', 1761017184], // Last Osaka block
    [1735372, 1761017184, '56078a1e', 1761607008], // First BPO1 block
    [1735372, 1761607007, '56078a1e', 1761607008], // Last BPO1 block
    [1735372, 1761607008, '268956b6', 0], // First BPO2 block
    [1735372, 2000000000, '268956b6', 0], // Future BPO2 block
  ],
  holesky: [
    [0, 0, 'c61a6098', 1696000704], // Unsynced, … London, Paris block
    [123, 0, 'c61a6098', 1696000704], // First MergeNetsplit block
    [123, 1696000704, 'fd4f016b', 1707305664], // First Shanghai block
    [123, 1707305663, 'fd4f016b', 1707305664], // Last Shanghai block
    [123, 1707305664, '9b192ad0', 1740434112], // First Cancun block
    [123, 1740434111, '9b192ad0', 1740434112], // Last Cancun block
    [123, 1740434112, 'dfbd9bed', 1759308480], // First Prague block
    [123, 1759308479, 'dfbd9bed', 1759308480], // Last Prague block
    [123, 1759308480, '783def52', 1759800000], // First Osaka block
    [123, 1759799999, '783def52', 1759800000], // Last Osaka block
    [123, 1759800000, 'a280a45c', 1760389824], // First BPO1 block
    [123, 1760389823, 'a280a45c', 1760389824], // Last BPO1 block
    [123, 1760389824, '9bc6cb31', 0], // First BPO2 block
    [123, 2000000000, '9bc6cb31', 0], // Future BPO2 block
  ],
  hoodi: [
    [0, 0, 'bef71d30', 1742999832], // Unsynced, … Shanghai, Cancun block
    [123, 1742999831, 'bef71d30', 1742999832], // Last Cancun block
    [123, 1742999832, '0929e24e', 1761677592], // First Prague block
    [123, 1761677591, '0929e24e', 1761677592], // Last Prague block
    [123, 1761677592, 'e7e0e7ff', 1762365720], // First Osaka block
    [123, 1762365719, 'e7e0e7ff', 1762365720], // Last Osaka block
    [123, 1762365720, '3893353e', 1762955544], // First BPO1 block
    [123, 1762955543, '3893353e', 1762955544], // Last BPO1 block
    [123, 1762955544, '23aa1351', 0], // First BPO2 block
    [123, 2000000000, '23aa1351', 0], // Future BPO2 block
  ],
};

test("forkIdAt reproduces go-ethereum's TestCreation vectors for the four networks", (t) => {
  for (const network of ETH_NETWORKS) {
    for (const [head, time, hash, next] of GETH[network]) {
      const id = forkIdAt(network, head, time);
      t.deepEqual([toHex(id.forkHash), id.forkNext], [hash, BigInt(next)], `${network} at ${head}/${time}`);
    }
    // bigint heads give the same answers.
    const [head, time, hash] = GETH[network].at(-1) as readonly [number, number, string, number];
    t.is(toHex(forkIdAt(network, BigInt(head), BigInt(time)).forkHash), hash);
  }
});

test("forkIdsOf lists each network's ids in order, the same ones as go-ethereum's vectors, each once", (t) => {
  for (const network of ETH_NETWORKS) {
    const ids = forkIdsOf(network);
    const distinct = [...new Map(GETH[network].map(([, , hash, next]) => [hash, next])).entries()];
    t.deepEqual(
      ids.map((id) => [toHex(id.forkHash), Number(id.forkNext)]),
      distinct,
      network,
    );
    // Each id's FORK_NEXT is the next one's activation; the last announces 0.
    for (let i = 0; i + 1 < ids.length; i++) t.is(ids[i]?.forkNext, BigInt(ids[i + 1]?.activation ?? -1));
    t.is(ids.at(-1)?.forkNext, 0n);
  }
  // The genesis hash is CRC32 of the genesis hash alone (EIP-2124's first mainnet id).
  const mainnetGenesis = fromHex('d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3');
  t.is(crc32(mainnetGenesis).toString(16), 'fc64ec04');
});

test('fork names and activations: shared points count once, genesis forks name the genesis ruleset', (t) => {
  const named = (network: EthNetworkName) =>
    forkIdsOf(network).map((f) => `${f.fork}@${f.by === 'time' ? 't' : '#'}${f.activation}`);
  t.deepEqual(named('mainnet'), [
    'frontier@#0',
    'homestead@#1150000',
    'dao@#1920000',
    'tangerine-whistle@#2463000',
    'spurious-dragon@#2675000',
    'byzantium@#4370000',
    'petersburg@#7280000',
    'istanbul@#9069000',
    'muir-glacier@#9200000',
    'berlin@#12244000',
    'london@#12965000',
    'arrow-glacier@#13773000',
    'gray-glacier@#15050000',
    'shanghai@t1681338455',
    'cancun@t1710338135',
    'prague@t1746612311',
    'osaka@t1764798551',
    'bpo1@t1765290071',
    'bpo2@t1767747671',
  ]);
  t.deepEqual(named('sepolia').slice(0, 3), ['london@#0', 'merge-netsplit@#1735371', 'shanghai@t1677557088']);
  t.deepEqual(named('holesky').slice(0, 2), ['london@#0', 'shanghai@t1696000704']);
  // Hoodi's Shanghai and Cancun are at time 0, before its genesis: they are the genesis ruleset.
  t.deepEqual(named('hoodi'), [
    'cancun@t0',
    'prague@t1742999832',
    'osaka@t1761677592',
    'bpo1@t1762365720',
    'bpo2@t1762955544',
  ]);
});

test('ethNetworkOf names every known hash, takes bytes or hex, and never throws', (t) => {
  const all = knownForkHashes();
  t.is(all.length, 19 + 8 + 7 + 5);
  t.is(new Set(all.map((h) => h.forkHash)).size, all.length, 'no hash is shared between networks');
  for (const { forkHash, ...fork } of all) {
    t.deepEqual(ethNetworkOf(forkHash), fork);
    t.deepEqual(ethNetworkOf(fromHex(forkHash)), fork);
  }
  const osaka: EthNetworkFork = {
    network: 'mainnet',
    fork: 'osaka',
    by: 'time',
    activation: 1764798551,
    forkNext: 1765290071n,
  };
  t.deepEqual(ethNetworkOf('5167e2a6'), osaka);
  t.deepEqual(ethNetworkOf('0x5167E2A6'), osaka);
  t.is(ethNetworkOf('5167e2a6'), ethNetworkOf(fromHex('5167e2a6')), 'one shared, frozen entry');
  t.true(Object.isFrozen(ethNetworkOf('5167e2a6')));
  t.like(ethNetworkOf('23aa1351'), { network: 'hoodi', fork: 'bpo2', forkNext: 0n });
  for (const bad of ['00000000', 'deadbeef', '', '0x', '5167e2a', '5167e2a600', ' 5167e2a6']) {
    t.is(ethNetworkOf(bad), undefined, JSON.stringify(bad));
  }
  t.is(ethNetworkOf(new Uint8Array(3)), undefined);
  t.is(ethNetworkOf(fromHex('5167e2a600')), undefined);
  t.is(ethNetworkOf(null as unknown as string), undefined);
  t.is(ethNetworkOf(7 as unknown as string), undefined);
});

test('misuse throws Discv5Error', (t) => {
  const code = (fn: () => unknown) => (t.throws(fn, { instanceOf: Discv5Error }) as Discv5Error).code;
  t.is(
    code(() => forkIdsOf('gnosis' as EthNetworkName)),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(
    code(() => forkIdAt('ropsten' as EthNetworkName, 0, 0)),
    ErrorCode.INVALID_ARGUMENT,
  );
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 64, -1n, 2n ** 64n]) {
    t.is(
      code(() => forkIdAt('mainnet', bad, 0)),
      ErrorCode.INVALID_ARGUMENT,
      String(bad),
    );
    t.is(
      code(() => forkIdAt('mainnet', 0, bad)),
      ErrorCode.INVALID_ARGUMENT,
      String(bad),
    );
  }
  t.deepEqual(forkIdAt('mainnet', 2n ** 64n - 1n, 2n ** 64n - 1n).forkNext, 0n);
});

test('a signed record announcing a fork id is recognised through Enr.eth', (t) => {
  const key = crypto.generatePrivateKey();
  const id = forkIdAt('sepolia', 9_000_000, 1_750_000_000);
  const raw = new Map([['eth', encodeEth(id)]]);
  const enr = Enr.decode(Enr.fromParts(signRecord(crypto, key, 1n, raw), crypto, true).text, crypto);
  const eth = enr.eth;
  t.truthy(eth);
  t.like(ethNetworkOf(eth?.forkHash ?? new Uint8Array(0)), { network: 'sepolia', fork: 'prague' });
  t.is(eth?.forkNext, 1760427360n);
});

test('every corpus record with an eth entry maps to the network the corpus names', (t) => {
  const withEth = corpus.records.filter((r: Json) => r.valid && r.decoded.eth !== undefined);
  t.true(withEth.length >= 12);
  for (const r of withEth) {
    const eth = Enr.decode(r.enr, crypto).eth;
    t.is(toHex(eth?.forkHash ?? new Uint8Array(0)), r.decoded.eth.forkHash, r.id);
    t.is(ethNetworkOf(r.decoded.eth.forkHash)?.network, r.network, r.id);
  }
});
