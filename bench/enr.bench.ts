/**
 * Node records: decode + verify and create + sign per second, for our native and js backends and
 * for @chainsafe/enr 5.0.0, in one run. Part of `npm run bench`; writes its section of
 * bench/RESULTS.md and README.md.
 *
 * Decoding contenders each take the next of the corpus's 88 real records in turn and produce the
 * node id (@chainsafe/enr computes it while decoding, so ours reads it too).
 */
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENR, SignableENR } from '@chainsafe/enr';
import { Rng } from '../__test__/helpers/random.js';
import { corpus, type Json } from '../__test__/helpers/vectors.js';
import type { Crypto } from '../ts/index.js';
import { createCrypto, Enr, EnrDecoder } from '../ts/index.js';
import { type BenchCase, type CaseResult, formatOps, markdownTable, replaceSection, runCase } from './harness.js';

const quick = process.argv.includes('--quick');
const native = createCrypto({ backend: 'native' });
const js = createCrypto({ backend: 'js' });
const texts: string[] = corpus.records.filter((r: Json) => r.valid && !r.synthetic).map((r: Json) => r.enr);
const batch16 = texts.slice(0, 16);
const key = new Rng(7).privateKey();

/** A function that walks the record list, one record per call. */
function cycling<T>(list: T[], f: (x: T) => unknown): () => unknown {
  let i = 0;
  return () => {
    const x = list[i] as T;
    i = (i + 1) % list.length;
    return f(x);
  };
}

const ours = (c: Crypto) => (text: string) => {
  const enr = Enr.decode(text, c);
  return `${enr.nodeIdHex}:${enr.seq}`;
};
const chainsafeDecode = (text: string) => {
  const enr = ENR.decodeTxt(text);
  return `${enr.nodeId}:${enr.seq}`;
};

function createOurs(c: Crypto): string {
  return Enr.create(key, { ip: '203.0.113.7', udp: 9000, tcp: 9001 }, c).text;
}

function createChainsafe(): string {
  const enr = SignableENR.createV4(key);
  enr.ip = '203.0.113.7';
  enr.udp = 9000;
  enr.tcp = 9001;
  enr.seq = 1n; // each setter bumps seq; ours starts at 1
  return enr.encodeTxt();
}

const cases: BenchCase[] = [
  {
    name: 'decode + verify (text, node id)',
    contenders: [
      { name: 'native', fn: cycling(texts, ours(native)) },
      { name: 'js', fn: cycling(texts, ours(js)) },
      { name: '@chainsafe/enr', fn: cycling(texts, chainsafeDecode) },
    ],
  },
  {
    name: 'decode + verify, NODES-sized batch of 16 (per batch)',
    contenders: [
      ...[native, js].map((c) => ({
        name: c.backend,
        // A fresh decoder each time, so nothing comes from its cache.
        fn: () => new EnrDecoder(c).decodeBatch(batch16).map((e) => (e instanceof Enr ? e.nodeIdHex : 'error')),
      })),
      { name: '@chainsafe/enr', fn: () => batch16.map((t) => ENR.decodeTxt(t).nodeId) },
    ],
  },
  {
    name: 'create + sign (ip, udp, tcp) to text',
    contenders: [
      { name: 'native', fn: () => createOurs(native) },
      { name: 'js', fn: () => createOurs(js) },
      { name: '@chainsafe/enr', fn: createChainsafe },
    ],
  },
];

const seen = new EnrDecoder(native);
seen.decodeBatch(texts);
const cached: BenchCase = {
  name: 'decode a record seen before (EnrDecoder cache, native)',
  contenders: [{ name: 'native', fn: cycling(texts, (t) => seen.decode(t).nodeIdHex) }],
};

const options = quick ? { rounds: 3, batchMs: 10 } : { rounds: 7, batchMs: 40 };
const results: CaseResult[] = [];
for (const c of [...cases, cached]) {
  const r = runCase(c, options);
  results.push(r);
  console.log(`${c.name}: ${[...r.opsPerSec].map(([k, v]) => `${k} ${formatOps(v)}/s`).join(', ')}`);
}

const ratio = (name: string, a: string) => {
  const r = results.find((x) => x.name === name);
  return (r?.opsPerSec.get(a) ?? 0) / (r?.opsPerSec.get('@chainsafe/enr') ?? 1);
};
const decodeName = (cases[0] as BenchCase).name;
const verdicts = [
  `- ${ratio(decodeName, 'native') >= 20 ? 'met' : 'NOT met'}: native decode+verify >= 20x @chainsafe/enr (measured ${ratio(decodeName, 'native').toFixed(1)}x)`,
  `- ${ratio(decodeName, 'js') >= 2 ? 'met' : 'NOT met'}: js decode+verify >= 2x @chainsafe/enr (measured ${ratio(decodeName, 'js').toFixed(1)}x)`,
];
const table = markdownTable(
  results,
  ['native', 'js', '@chainsafe/enr'],
  [
    ['native', '@chainsafe/enr'],
    ['js', '@chainsafe/enr'],
  ],
);
const section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${options.rounds} rounds of ~${options.batchMs} ms; ${texts.length} real records from the corpus.

${table}

${verdicts.join('\n')}`;
const here = dirname(fileURLToPath(import.meta.url));
if (!quick) {
  replaceSection(resolve(here, 'RESULTS.md'), 'bench:enr', section);
  replaceSection(resolve(here, '../README.md'), 'bench:enr', `${table}\n\n${verdicts.join('\n')}`);
}
console.log(`\n${table}\n\n${verdicts.join('\n')}`);
