/**
 * `npm run bench`: every backend function, native against js (and node:crypto where it applies),
 * plus a no-op call as the price of crossing into the addon. Writes bench/RESULTS.md.
 *
 * Everything runs on one thread, so each figure is what one core does.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../__test__/helpers/random.js';
import type { Crypto } from '../ts/index.js';
import { createCrypto } from '../ts/index.js';
import { concatBytes } from '../ts/util/bytes.js';
import { type BenchCase, type CaseResult, formatOps, markdownTable, replaceSection, runCase } from './harness.js';

const native = createCrypto({ backend: 'native' });
const js = createCrypto({ backend: 'js' });
const backends: Crypto[] = [native, js];
const rng = new Rng(42);
const quick = process.argv.includes('--quick');

// Fixed inputs, shaped like the real thing.
const staticA = rng.privateKey();
const staticB = rng.privateKey();
const ephemeral = rng.privateKey();
const pubA = native.publicKeyFromPrivate(staticA);
const pubB = native.publicKeyFromPrivate(staticB);
const idA = native.nodeIdFromPublicKey(pubA) as Uint8Array;
const idB = native.nodeIdFromPublicKey(pubB) as Uint8Array;
const challenge = rng.bytes(63);
const init = native.handshakeInitiate(staticA, pubB, challenge, idA, idB, ephemeral);
if (init === null) throw new Error('bench setup: handshake');
const record = rng.bytes(120); // a typical record's content is 100-140 bytes
const recordSig = native.enrSign(staticA, record);
const batch = Array.from({ length: 16 }, () => {
  const key = rng.privateKey();
  const content = rng.bytes(110 + rng.int(40));
  return { publicKey: native.publicKeyFromPrivate(key), content, signature: native.enrSign(key, content) };
});
const maskingKey = idB.subarray(0, 16);
const iv = rng.bytes(16);
const header = concatBytes(
  new TextEncoder().encode('discv5'),
  new Uint8Array([0, 1, 0]),
  rng.bytes(12),
  new Uint8Array([0, 32]),
  idA,
);
const message100 = rng.bytes(100);
const sessionKey = rng.bytes(16);
const packet = native.sealPacket(maskingKey, iv, header, sessionKey, message100);
const unmasked = native.unmaskHeader(maskingKey, packet) as Uint8Array;
const gcmNonce = header.subarray(9, 21);
const gcmAd = concatBytes(iv, header);
const gcmCt = native.aesGcmEncrypt(sessionKey, gcmNonce, message100, gcmAd);
const ids256 = rng.bytes(32 * 256);
const ids1024 = rng.bytes(32 * 1024);
const target = rng.bytes(32);

function nodeGcmSeal(): Uint8Array {
  const c = createCipheriv('aes-128-gcm', sessionKey, gcmNonce, { authTagLength: 16 });
  c.setAAD(gcmAd);
  return Buffer.concat([c.update(message100), c.final(), c.getAuthTag()]);
}

function nodeGcmOpen(): Uint8Array {
  const d = createDecipheriv('aes-128-gcm', sessionKey, gcmNonce, { authTagLength: 16 });
  d.setAuthTag(gcmCt.subarray(100));
  d.setAAD(gcmAd);
  return Buffer.concat([d.update(gcmCt.subarray(0, 100)), d.final()]);
}

/** One case per function, with a contender per backend (through the validating facade). */
function perBackend(name: string, call: (c: Crypto) => unknown, extra: BenchCase['contenders'] = []): BenchCase {
  return { name, contenders: [...backends.map((c) => ({ name: c.backend, fn: () => call(c) })), ...extra] };
}

const cases: BenchCase[] = [
  {
    name: 'no-op call (price of a crossing)',
    contenders: [
      { name: 'native', fn: () => native.impl.noop() },
      { name: 'js', fn: () => js.impl.noop() },
    ],
  },
  perBackend('keccak256, 120 bytes', (c) => c.keccak256(record)),
  perBackend('publicKeyFromPrivate', (c) => c.publicKeyFromPrivate(staticA)),
  perBackend('decompressPublicKey', (c) => c.decompressPublicKey(pubA)),
  perBackend('nodeIdFromPublicKey', (c) => c.nodeIdFromPublicKey(pubA)),
  perBackend('ECDH + KDF (deriveKeys)', (c) => c.deriveKeys(ephemeral, pubB, idA, idB, challenge)),
  perBackend('idSign', (c) => c.idSign(staticA, challenge, init.ephemeralPublicKey, idB)),
  perBackend('idVerify', (c) => c.idVerify(pubA, init.idSignature, challenge, init.ephemeralPublicKey, idB)),
  perBackend('handshake, initiator side (fixed ephemeral key)', (c) =>
    c.handshakeInitiate(staticA, pubB, challenge, idA, idB, ephemeral),
  ),
  perBackend('handshake, recipient side', (c) =>
    c.handshakeRespond(staticB, pubA, init.ephemeralPublicKey, init.idSignature, challenge, idA, idB),
  ),
  perBackend('ENR sign', (c) => c.enrSign(staticA, record)),
  perBackend('ENR verify', (c) => c.enrVerify(pubA, record, recordSig)),
  perBackend('ENR verify, batch of 16 (per batch)', (c) => c.enrVerifyBatch(batch)),
  perBackend('unmask header, 95-byte packet', (c) => c.unmaskHeader(maskingKey, packet)),
  perBackend('seal packet, 100-byte message', (c) => c.sealPacket(maskingKey, iv, header, sessionKey, message100)),
  perBackend('open packet, 100-byte message', (c) => c.openPacket(sessionKey, unmasked, packet)),
  perBackend('AES-GCM encrypt, 100 bytes', (c) => c.aesGcmEncrypt(sessionKey, gcmNonce, message100, gcmAd), [
    { name: 'node:crypto', fn: nodeGcmSeal },
  ]),
  perBackend('AES-GCM decrypt, 100 bytes', (c) => c.aesGcmDecrypt(sessionKey, gcmNonce, gcmCt, gcmAd), [
    { name: 'node:crypto', fn: nodeGcmOpen },
  ]),
  perBackend('log-distances, 256 ids', (c) => c.logDistances(target, ids256)),
  perBackend('16 closest of 1,024 ids', (c) => c.closest(target, ids1024, 16)),
];

interface Target {
  caseName: string;
  minOps: number;
  label: string;
}

const targets: Target[] = [
  { caseName: 'ECDH + KDF (deriveKeys)', minOps: 10_000, label: 'ECDH+KDF >= 10,000/s' },
  { caseName: 'ENR verify', minOps: 12_000, label: 'ENR verify >= 12,000/s' },
  { caseName: 'seal packet, 100-byte message', minOps: 300_000, label: 'seal, 100-byte message >= 300,000/s' },
  { caseName: 'open packet, 100-byte message', minOps: 300_000, label: 'open, 100-byte message >= 300,000/s' },
];

const table = (results: CaseResult[]) => markdownTable(results, ['native', 'js', 'node:crypto'], [['native', 'js']]);

const options = quick ? { rounds: 3, batchMs: 10 } : { rounds: 9, batchMs: 40 };
const results: CaseResult[] = [];
for (const c of cases) {
  const r = runCase(c, options);
  results.push(r);
  const parts = [...r.opsPerSec].map(([k, v]) => `${k} ${formatOps(v)}/s`).join(', ');
  console.log(`${c.name}: ${parts}`);
}

const verdicts = targets.map((target) => {
  const ops = results.find((r) => r.name === target.caseName)?.opsPerSec.get('native') ?? 0;
  return `- ${ops >= target.minOps ? 'met' : 'NOT met'}: ${target.label} (measured ${formatOps(ops)}/s)`;
});

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const section = `Run on ${new Date().toISOString().slice(0, 10)}: ${cpu}, Node ${process.version}, ${options.rounds} rounds of ~${options.batchMs} ms.
Both backends run through the validating \`Crypto\` facade, as users call them.

${table(results)}

Targets for the native backend (one core):

${verdicts.join('\n')}`;

const here = dirname(fileURLToPath(import.meta.url));
if (!quick) {
  replaceSection(resolve(here, 'RESULTS.md'), 'bench:crypto', section);
  replaceSection(resolve(here, '../README.md'), 'bench:crypto', `${table(results)}\n\n${verdicts.join('\n')}`);
}
console.log(`\n${table(results)}\n\n${verdicts.join('\n')}`);
