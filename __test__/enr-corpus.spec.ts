/**
 * The real-world corpus (../shared/corpus/real-enrs.json) on both backends: every valid record
 * decodes to exactly the fields an independent decoder read from it and re-encodes to the same
 * text; every invalid one is refused with the code the corpus names.
 */
import { Discv5Error, Enr } from '../ts/index.js';
import { toHex } from '../ts/util/bytes.js';
import { bothBackends } from './helpers/backends.js';
import { corpus, type Json } from './helpers/vectors.js';

const valid: Json[] = corpus.records.filter((r: Json) => r.valid);
const invalid: Json[] = corpus.records.filter((r: Json) => !r.valid);

/** IPv6 text compared in the form WHATWG URL normalises it to (the corpus's convention). */
const normIp6 = (ip: string) => new URL(`http://[${ip}]/`).hostname.slice(1, -1);

/** The corpus's view of a decoded record. */
function view(enr: Enr): Json {
  const out: Json = { nodeId: enr.nodeIdHex, seq: enr.seq.toString(), publicKey: toHex(enr.publicKey) };
  if (enr.ip !== undefined) out.ip = enr.ip;
  if (enr.ip6 !== undefined) out.ip6 = normIp6(enr.ip6);
  for (const k of ['udp', 'tcp', 'quic', 'udp6', 'tcp6', 'quic6'] as const) if (enr[k] !== undefined) out[k] = enr[k];
  const eth2 = enr.eth2;
  if (eth2) {
    out.eth2 = {
      forkDigest: toHex(eth2.forkDigest),
      nextForkVersion: toHex(eth2.nextForkVersion),
      nextForkEpoch: eth2.nextForkEpoch.toString(),
    };
  }
  if (enr.attnets) out.attnets = toHex(enr.attnets.bytes);
  if (enr.syncnets) out.syncnets = toHex(enr.syncnets.bytes);
  const eth = enr.eth;
  if (eth) out.eth = { forkHash: toHex(eth.forkHash), forkNext: eth.forkNext.toString() };
  out.keys = enr.keys();
  return out;
}

function expected(decoded: Json): Json {
  const out = { ...decoded };
  if (out.ip6 !== undefined) out.ip6 = normIp6(out.ip6);
  return out;
}

bothBackends(`${valid.length} valid records decode to the corpus's fields and re-encode byte for byte`, (t, crypto) => {
  t.true(valid.length >= 89);
  for (const r of valid) {
    const enr = Enr.decode(r.enr, crypto);
    t.deepEqual(view(enr), expected(r.decoded), r.id);
    t.is(enr.text, r.enr, r.id);
    t.is(enr.encoded.length, r.sizeBytes, r.id);
    t.true(enr.verify(), r.id);
    const again = Enr.decode(enr.encoded, crypto);
    t.is(again.text, r.enr, r.id);
  }
});

bothBackends(`${invalid.length} invalid records are refused with the corpus's error codes`, (t, crypto) => {
  t.true(invalid.length >= 24);
  for (const r of invalid) {
    const err = t.throws(() => Enr.decode(r.enr, crypto), { instanceOf: Discv5Error }, r.id);
    t.is(err?.code, r.strictError, `${r.id}: ${r.defect}`);
  }
});
