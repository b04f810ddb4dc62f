/** ENR behaviour on both backends: the EIP-778 vector, creation and updates, typed entries, limits. */

import { enrJson } from '../ts/enr/json.js';
import { Bitvector, Discv5Error, Enr, EnrDecoder, ErrorCode, multiaddrsOf } from '../ts/index.js';
import { type RlpItem, encode as rlpEncode } from '../ts/rlp/rlp.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { bothBackends } from './helpers/backends.js';
import { vectors } from './helpers/vectors.js';

const eip778 = vectors.enr.eip778_example;
const KEY = fromHex(eip778.private_key);
const OTHER_KEY = fromHex(vectors.keys.node_a_key);

bothBackends('the EIP-778 example decodes, and signing the same entries reproduces it exactly', (t, c) => {
  const enr = Enr.decode(eip778.text, c);
  t.is(enr.nodeIdHex, eip778.expected_node_id);
  t.is(enr.seq, 1n);
  t.is(enr.ip, '127.0.0.1');
  t.is(enr.udp, 30303);
  t.is(enr.id, 'v4');
  t.deepEqual(enr.keys(), ['id', 'ip', 'secp256k1', 'udp']);
  t.is(toHex(enr.encoded), eip778.derived.rlp);
  t.is(toHex(enr.content), eip778.derived.content_rlp);
  t.is(toHex(enr.signature), eip778.expected_rlp_items.signature);
  const made = Enr.create(KEY, { ip: '127.0.0.1', udp: 30303 }, c);
  t.is(made.text, eip778.text);
});

bothBackends('update makes a new record with seq + 1, signed again; the old one is unchanged', (t, c) => {
  const a = Enr.create(KEY, { ip: '10.0.0.1', udp: 9000, tcp: 9001 }, c, 7n);
  const b = a.update(KEY, { ip: '10.0.0.2', tcp: null, quic: 9002 });
  t.is(a.seq, 7n);
  t.is(b.seq, 8n);
  t.is(a.ip, '10.0.0.1');
  t.is(a.tcp, 9001);
  t.is(b.ip, '10.0.0.2');
  t.is(b.tcp, undefined);
  t.is(b.quic, 9002);
  t.is(b.udp, 9000);
  t.true(Enr.decode(b.text, c).verify());
  t.deepEqual(b.nodeId, a.nodeId);
  const err = t.throws(() => a.update(OTHER_KEY, { udp: 1 }), { instanceOf: Discv5Error });
  t.is(err?.code, ErrorCode.INVALID_ARGUMENT);
});

bothBackends('a decoded record owns its bytes: changing the input afterwards changes nothing', (t, c) => {
  const bytes = Uint8Array.from(Buffer.from(eip778.text.slice(4), 'base64url'));
  const enr = Enr.decode(bytes, c);
  bytes.fill(0);
  t.is(enr.text, eip778.text);
  t.true(enr.verify());
});

bothBackends('eth2, attnets and syncnets round-trip through hand-computed bytes', (t, c) => {
  const enr = Enr.create(
    KEY,
    {
      ip: '1.2.3.4',
      udp: 9000,
      eth2: { forkDigest: fromHex('b5303f2a'), nextForkVersion: fromHex('01000000'), nextForkEpoch: 74240n },
      attnets: [0, 9, 63],
      syncnets: [1, 3],
      cgc: 128,
      nfd: fromHex('01020304'),
      eth: { forkHash: fromHex('23aa1351'), forkNext: 0n },
    },
    c,
  );
  // next_fork_epoch 74240 = 0x12200, little-endian over 8 bytes.
  t.is(toHex(enr.get('eth2') as Uint8Array), 'b5303f2a010000000022010000000000');
  // Bit i is bit i % 8 of byte i / 8: 0 -> 01, 9 -> byte 1 bit 1 = 02, 63 -> byte 7 bit 7 = 80.
  t.is(toHex(enr.get('attnets') as Uint8Array), '0102000000000080');
  t.is(toHex(enr.get('syncnets') as Uint8Array), '0a');
  t.is(toHex(enr.getRaw('cgc') as Uint8Array), '8180');
  t.is(toHex(enr.getRaw('eth') as Uint8Array), 'c7c68423aa135180');
  const back = Enr.decode(enr.text, c);
  t.deepEqual(back.eth2, {
    forkDigest: fromHex('b5303f2a'),
    nextForkVersion: fromHex('01000000'),
    nextForkEpoch: 74240n,
  });
  t.deepEqual(back.attnets?.indices(), [0, 9, 63]);
  t.deepEqual(back.syncnets?.indices(), [1, 3]);
  t.is(back.cgc, 128);
  t.deepEqual(back.nfd, fromHex('01020304'));
  t.deepEqual(back.eth, { forkHash: fromHex('23aa1351'), forkNext: 0n });
  t.is(Enr.create(KEY, { cgc: 0 }, c).get('cgc')?.length, 0, 'cgc 0 is the empty string');
});

/**
 * A correctly signed record of KEY with these entries besides `id` and `secp256k1` (values as RLP
 * items, so a list can stand where a byte string belongs), keys sorted as EIP-778 wants.
 */
function recordWith(c: Parameters<typeof Enr.decode>[1], entries: [string, RlpItem][]): Uint8Array {
  const ascii = (s: string) => new TextEncoder().encode(s);
  const all: [string, RlpItem][] = [['id', ascii('v4')], ['secp256k1', c.publicKeyFromPrivate(KEY)], ...entries];
  all.sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])));
  return signedRecord(c, [Uint8Array.of(1), ...all.flatMap(([k, v]): RlpItem[] => [ascii(k), v])]);
}

const FOUR = fromHex('01020304');
/** For every typed key, malformed values a peer can sign: wrong lengths, lists, bad `eth` lists. */
const MALFORMED: [key: string, what: string, value: RlpItem][] = [
  ['eth2', '3 bytes', fromHex('010203')],
  ['eth2', '17 bytes', new Uint8Array(17)],
  ['eth2', 'a list', [new Uint8Array(16)]],
  ['attnets', '7 bytes', new Uint8Array(7)],
  ['attnets', '9 bytes', new Uint8Array(9)],
  ['attnets', 'a list', [new Uint8Array(8)]],
  ['syncnets', 'bits beyond 4', fromHex('10')],
  ['syncnets', '2 bytes', new Uint8Array(2)],
  ['syncnets', 'a list', [new Uint8Array(1)]],
  ['cgc', 'not minimal', fromHex('0001')],
  ['cgc', '9 bytes', new Uint8Array(9).fill(1)],
  ['cgc', 'a list', [Uint8Array.of(4)]],
  ['nfd', '3 bytes', fromHex('010203')],
  ['nfd', '5 bytes', new Uint8Array(5)],
  ['nfd', 'a list', [FOUR]],
  ['eth', 'a byte string', FOUR],
  ['eth', 'an empty list', []],
  ['eth', 'a list of byte strings', [FOUR, new Uint8Array(0)]],
  ['eth', 'a fork id of one item', [[FOUR]]],
  ['eth', 'a forkHash of 3 bytes', [[fromHex('010203'), new Uint8Array(0)]]],
  ['eth', 'a forkNext that is a list', [[FOUR, [Uint8Array.of(1)]]]],
  ['eth', 'a forkNext not minimal', [[FOUR, fromHex('0001')]]],
  ['eth', 'a forkNext of 9 bytes', [[FOUR, new Uint8Array(9).fill(1)]]],
];

const getters: Record<string, (e: Enr) => unknown> = {
  eth2: (e) => e.eth2,
  attnets: (e) => e.attnets,
  syncnets: (e) => e.syncnets,
  cgc: (e) => e.cgc,
  nfd: (e) => e.nfd,
  eth: (e) => e.eth,
};

bothBackends(
  'a signed record with a malformed typed value decodes; its getter reads undefined, never throws',
  (t, c) => {
    const decoder = new EnrDecoder(c);
    for (const [key, what, value] of MALFORMED) {
      const name = `${key}: ${what}`;
      const bytes = recordWith(c, [[key, value]]);
      const decoded = Enr.decode(bytes, c);
      t.true(decoded.verify(), name);
      t.true(decoded.has(key), name);
      for (const [k, read] of Object.entries(getters)) t.is(read(decoded), undefined, `${name}: ${k}`);
      t.is(decoded.forkDigest, undefined, name);
      t.deepEqual(decoded.invalidKeys(), [key], name);
      // A NODES answer goes through the batch decoder: the record is accepted there too.
      t.true(decoder.decodeBatch([bytes])[0] instanceof Enr, name);
    }
  },
);

bothBackends(
  'strict decoding and assertValid refuse a malformed typed value with ENR_VALUE, naming the key',
  (t, c) => {
    for (const [key, what, value] of MALFORMED) {
      const name = `${key}: ${what}`;
      const bytes = recordWith(c, [[key, value]]);
      const strict = t.throws(() => Enr.decode(bytes, c, { strict: true }), { instanceOf: Discv5Error }, name);
      t.is(strict?.code, ErrorCode.ENR_VALUE, name);
      t.true(strict?.message.includes(`"${key}"`), `${name}: ${strict?.message}`);
      const enr = Enr.decode(bytes, c);
      const inHand = t.throws(() => enr.assertValid(), { instanceOf: Discv5Error }, name);
      t.is(inHand?.code, ErrorCode.ENR_VALUE, name);
      t.true(inHand?.message.includes(`"${key}"`), name);
    }
  },
);

bothBackends(
  'one malformed entry leaves the others readable; invalidKeys lists the bad ones in record order',
  (t, c) => {
    const eth2 = { forkDigest: fromHex('b5303f2a'), nextForkVersion: fromHex('01000000'), nextForkEpoch: 74240n };
    const bytes = recordWith(c, [
      ['attnets', new Uint8Array(8).fill(0xff)],
      ['cgc', fromHex('0001')],
      ['eth2', fromHex('010203')],
      ['nfd', FOUR],
      ['ip', fromHex('01020304')],
      ['udp', fromHex('2328')],
    ]);
    const enr = Enr.decode(bytes, c);
    t.deepEqual(enr.invalidKeys(), ['cgc', 'eth2']);
    t.is(enr.attnets?.indices().length, 64);
    t.deepEqual(enr.nfd, FOUR);
    t.is(enr.cgc, undefined);
    t.is(enr.eth2, undefined);
    t.deepEqual(enr.endpoint4(), { ip: '1.2.3.4', port: 9000 });
    t.is(t.throws(() => enr.assertValid())?.message.includes('"cgc"'), true, 'the first bad key');
    // The README's predicate over such a record: false, not a crash.
    t.false(enr.eth2 !== undefined);
    // Its JSON says which keys are malformed and keeps their raw bytes.
    const json = enrJson(enr);
    t.deepEqual(json.invalidKeys, ['cgc', 'eth2']);
    t.deepEqual(json.eth2, { raw: '83010203' });
    t.is(json.nfd, '01020304');
    // A well-formed record: nothing invalid, strict decoding accepts it.
    const good = Enr.create(
      KEY,
      { eth2, attnets: [1], syncnets: [2], cgc: 8, nfd: FOUR, eth: { forkHash: FOUR, forkNext: 7n } },
      c,
    );
    t.deepEqual(good.invalidKeys(), []);
    t.notThrows(() => good.assertValid());
    const back = Enr.decode(good.text, c, { strict: true });
    t.deepEqual(back.eth2, eth2);
    t.is(back.cgc, 8);
    t.false('invalidKeys' in enrJson(back));
  },
);

bothBackends('endpoints: a port without the 6 suffix applies to both families', (t, c) => {
  const both = Enr.create(KEY, { ip: '1.2.3.4', ip6: '2001:db8::1', udp: 9000, tcp: 13000 }, c);
  t.deepEqual(both.endpoint4(), { ip: '1.2.3.4', port: 9000 });
  t.deepEqual(both.endpoint6(), { ip: '2001:db8::1', port: 9000 });
  t.deepEqual(both.endpoint6('tcp'), { ip: '2001:db8::1', port: 13000 });
  const own6 = both.update(KEY, { udp6: 9090 });
  t.deepEqual(own6.endpoint6(), { ip: '2001:db8::1', port: 9090 });
  t.deepEqual(own6.endpoint4(), { ip: '1.2.3.4', port: 9000 });
  t.is(Enr.create(KEY, { udp: 1 }, c).endpoint4(), undefined);
  t.deepEqual(
    multiaddrsOf(both.update(KEY, { quic: 9001 })).map((m) => m.multiaddr),
    [
      '/ip4/1.2.3.4/udp/9000',
      '/ip4/1.2.3.4/tcp/13000',
      '/ip4/1.2.3.4/udp/9001/quic-v1',
      '/ip6/2001:db8::1/udp/9000',
      '/ip6/2001:db8::1/tcp/13000',
      '/ip6/2001:db8::1/udp/9001/quic-v1',
    ],
  );
});

bothBackends('values that cannot go in a record are refused at creation', (t, c) => {
  const cases: [string, () => unknown, ErrorCode][] = [
    ['short ip', () => Enr.create(KEY, { ip: '1.2.3' }, c), ErrorCode.ENR_VALUE],
    ['ipv6 as ip', () => Enr.create(KEY, { ip: '::1' }, c), ErrorCode.ENR_VALUE],
    ['port over 65535', () => Enr.create(KEY, { udp: 65536 }, c), ErrorCode.ENR_VALUE],
    ['fractional port', () => Enr.create(KEY, { tcp: 1.5 }, c), ErrorCode.ENR_VALUE],
    ['subnet 64', () => Enr.create(KEY, { attnets: [64] }, c), ErrorCode.ENR_VALUE],
    ['id through other', () => Enr.create(KEY, { other: { id: new Uint8Array(1) } }, c), ErrorCode.ENR_VALUE],
    ['negative seq', () => Enr.create(KEY, {}, c, -1n), ErrorCode.ENR_VALUE],
    [
      'eth2 forkDigest of 3 bytes',
      () => Enr.create(KEY, { eth2: { forkDigest: FOUR.subarray(1), nextForkVersion: FOUR, nextForkEpoch: 0n } }, c),
      ErrorCode.ENR_VALUE,
    ],
    ['syncnets 4', () => Enr.create(KEY, { syncnets: [4] }, c), ErrorCode.ENR_VALUE],
    ['cgc -1', () => Enr.create(KEY, { cgc: -1 }, c), ErrorCode.ENR_VALUE],
    ['nfd of 5 bytes', () => Enr.create(KEY, { nfd: new Uint8Array(5) }, c), ErrorCode.ENR_VALUE],
    ['eth forkNext -1', () => Enr.create(KEY, { eth: { forkHash: FOUR, forkNext: -1n } }, c), ErrorCode.ENR_VALUE],
    [
      'eth2 in an update',
      () =>
        Enr.create(KEY, {}, c).update(KEY, { eth2: { forkDigest: FOUR, nextForkVersion: FOUR, nextForkEpoch: -1n } }),
      ErrorCode.ENR_VALUE,
    ],
    ['over 300 bytes', () => Enr.create(KEY, { other: { zz: new Uint8Array(200) } }, c), ErrorCode.ENR_TOO_LARGE],
    ['bad private key', () => Enr.create(new Uint8Array(32), {}, c), ErrorCode.INVALID_PRIVATE_KEY],
  ];
  for (const [name, make, code] of cases) {
    const err = t.throws(make, { instanceOf: Discv5Error }, name);
    t.is(err?.code, code, name);
  }
  // The largest legal record is fine: 300 bytes exactly.
  const max = Enr.create(KEY, { ip: '127.0.0.1', udp: 30303, other: { zz: new Uint8Array(160).fill(0x61) } }, c);
  t.is(max.encoded.length, 300);
});

bothBackends('unknown keys keep their raw bytes, list values included', (t, c) => {
  const enr = Enr.decode(eip778.text, c);
  t.is(enr.get('nope'), undefined);
  t.false(enr.has('nope'));
  const withList = Enr.create(KEY, { eth: { forkHash: fromHex('01020304'), forkNext: 5n } }, c);
  t.is(toHex(withList.get('eth') as Uint8Array), toHex(withList.getRaw('eth') as Uint8Array));
  t.is(toHex(enr.getRaw('udp') as Uint8Array), '82765f');
  t.is(toHex(enr.get('udp') as Uint8Array), '765f');
});

bothBackends(
  'EnrDecoder: a batch is checked in one go, bad records come back as errors, repeats hit the cache',
  (t, c) => {
    const good = [Enr.create(KEY, { udp: 1 }, c), Enr.create(OTHER_KEY, { udp: 2 }, c)];
    const forged = Uint8Array.from(good[0]?.encoded as Uint8Array);
    forged[forged.length - 1] = 3; // udp 1 -> 3 without signing again
    const decoder = new EnrDecoder(c, { cacheSize: 2 });
    const first = decoder.decodeBatch([good[0]?.encoded as Uint8Array, forged, 'enr:!!', good[1]?.text as string]);
    t.true(first[0] instanceof Enr);
    t.is((first[1] as Discv5Error).code, ErrorCode.ENR_VERIFY);
    t.is((first[2] as Discv5Error).code, ErrorCode.ENR_BASE64);
    t.is((first[3] as Enr).udp, 2);
    t.is(decoder.cacheHits, 0);
    const second = decoder.decodeBatch([good[1]?.encoded as Uint8Array, forged]);
    t.is(second[0], first[3], 'the same verified record, from the cache');
    t.is((second[1] as Discv5Error).code, ErrorCode.ENR_VERIFY, 'a failed record is never cached');
    t.is(decoder.cacheHits, 1);
    decoder.decode(Enr.create(KEY, { udp: 3 }, c).text);
    t.is(decoder.cacheSize, 2, 'bounded');
  },
);

bothBackends('Bitvector rejects bits beyond its size and wrong lengths', (t) => {
  t.throws(() => new Bitvector(Uint8Array.of(0x10), 4), { instanceOf: Discv5Error });
  t.throws(() => new Bitvector(new Uint8Array(7), 64), { instanceOf: Discv5Error });
  t.deepEqual(Bitvector.fromIndices([3], 4).bytes, Uint8Array.of(8));
});

/** A record with exactly these items after the signature, signed correctly, so only the defect differs. */
function signedRecord(c: Parameters<typeof Enr.decode>[1], items: RlpItem[]): Uint8Array {
  const content = rlpEncode(items);
  return rlpEncode([c.enrSign(KEY, content), ...items]);
}

bothBackends('correctly signed records that break EIP-778 rules are refused with their own codes', (t, c) => {
  const ascii = (s: string) => new TextEncoder().encode(s);
  const pub = c.publicKeyFromPrivate(KEY);
  const one = Uint8Array.of(1);
  const cases: [string, RlpItem[], ErrorCode][] = [
    ['key of 32 bytes', [one, ascii('id'), ascii('v4'), ascii('secp256k1'), pub.subarray(1)], ErrorCode.ENR_PUBLIC_KEY],
    [
      'uncompressed key',
      [one, ascii('id'), ascii('v4'), ascii('secp256k1'), c.decompressPublicKey(pub) as Uint8Array],
      ErrorCode.ENR_PUBLIC_KEY,
    ],
    ['no key', [one, ascii('id'), ascii('v4')], ErrorCode.ENR_PUBLIC_KEY],
    ['scheme v5', [one, ascii('id'), ascii('v5'), ascii('secp256k1'), pub], ErrorCode.ENR_ID],
    ['id as a list', [one, ascii('id'), [ascii('v4')], ascii('secp256k1'), pub], ErrorCode.ENR_ID],
    [
      'ip6 of 15 bytes',
      [one, ascii('id'), ascii('v4'), ascii('ip6'), new Uint8Array(15), ascii('secp256k1'), pub],
      ErrorCode.ENR_IP,
    ],
    [
      'udp6 of 3 bytes',
      [one, ascii('id'), ascii('v4'), ascii('secp256k1'), pub, ascii('udp6'), Uint8Array.of(1, 0, 0)],
      ErrorCode.ENR_PORT,
    ],
    [
      'quic as a list',
      [one, ascii('id'), ascii('v4'), ascii('quic'), [one], ascii('secp256k1'), pub],
      ErrorCode.ENR_PORT,
    ],
    [
      'seq of 9 bytes',
      [new Uint8Array(9).fill(1), ascii('id'), ascii('v4'), ascii('secp256k1'), pub],
      ErrorCode.ENR_SEQ,
    ],
    [
      'a key without a value',
      [one, ascii('id'), ascii('v4'), ascii('secp256k1'), pub, ascii('udp')],
      ErrorCode.ENR_RLP,
    ],
    ['a list as a key', [one, [ascii('id')], ascii('v4'), ascii('secp256k1'), pub], ErrorCode.ENR_RLP],
  ];
  for (const [name, items, code] of cases) {
    const err = t.throws(() => Enr.decode(signedRecord(c, items), c), { instanceOf: Discv5Error }, name);
    t.is(err?.code, code, name);
  }
  // The same construction with nothing wrong is accepted: the defects above are what is refused.
  const fine = Enr.decode(signedRecord(c, [one, ascii('id'), ascii('v4'), ascii('secp256k1'), pub]), c);
  t.deepEqual(fine.publicKey, pub);
  const sigList = rlpEncode([[new Uint8Array(64)], one, ascii('id'), ascii('v4'), ascii('secp256k1'), pub]);
  t.is(t.throws(() => Enr.decode(sigList, c), { instanceOf: Discv5Error })?.code, ErrorCode.ENR_RLP);
});
