/**
 * Discovery v4 wire (ts/discv4, Crypto.discv4Pack/discv4Unpack) on both backends: EIP-8's test
 * packets, round trips of every message, identical bytes from both backends, refusals with
 * reasons, misuse, NEIGHBORS sizing, and a fuzz in which nothing may throw and both backends agree.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { NEIGHBORS_MAX_NODES } from '../ts/discv4/constants.js';
import { decodeMessage, encodeMessage } from '../ts/discv4/messages.js';
import { encodeNeighbors, maxNeighborsPacketSize, splitNeighbors } from '../ts/discv4/neighbors.js';
import { decodePacket, encodePacket, expirationFrom, nowSeconds, recordOfResponse } from '../ts/discv4/packet.js';
import { type DecodedPacket, type DecodeFailure, type Discv4Message, PacketType } from '../ts/discv4/types.js';
import { type Crypto, Discv5Error, Enr, ErrorCode } from '../ts/index.js';
import { type RlpItem, encode as rlp } from '../ts/rlp/rlp.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { bothBackends, cryptoFor } from './helpers/backends.js';
import { normalize } from './helpers/normalize.js';
import { Rng } from './helpers/random.js';

/** EIP-8's discovery packets were signed with this key (also EIP-778's example record's). */
const KEY = fromHex('b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291');
const KEY_XY =
  'ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f';
const NODE_ID = 'a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7';
/** Every EIP-8 packet expires at 2006-01-02T22:04:05Z: long past, so they decode only at an earlier `now`. */
const EIP8_EXPIRATION = 1136239445;
const NOW = 1_700_000_000;
const native = cryptoFor('native');
const js = cryptoFor('js');

const EIP8 = {
  ping: 'e9614ccfd9fc3e74360018522d30e1419a143407ffcce748de3e22116b7e8dc92ff74788c0b6663aaa3d67d641936511c8f8d6ad8698b820a7cf9e1be7155e9a241f556658c55428ec0563514365799a4be2be5a685a80971ddcfa80cb422cdd0101ec04cb847f000001820cfa8215a8d790000000000000000000000000000000018208ae820d058443b9a3550102',
  ping555:
    '577be4349c4dd26768081f58de4c6f375a7a22f3f7adda654d1428637412c3d7fe917cadc56d4e5e7ffae1dbe3efffb9849feb71b262de37977e7c7a44e677295680e9e38ab26bee2fcbae207fba3ff3d74069a50b902a82c9903ed37cc993c50001f83e82022bd79020010db83c4d001500000000abcdef12820cfa8215a8d79020010db885a308d313198a2e037073488208ae82823a8443b9a355c5010203040531b9019afde696e582a78fa8d95ea13ce3297d4afb8ba6433e4154caa5ac6431af1b80ba76023fa4090c408f6b4bc3701562c031041d4702971d102c9ab7fa5eed4cd6bab8f7af956f7d565ee1917084a95398b6a21eac920fe3dd1345ec0a7ef39367ee69ddf092cbfe5b93e5e568ebc491983c09c76d922dc3',
  pong: '09b2428d83348d27cdf7064ad9024f526cebc19e4958f0fdad87c15eb598dd61d08423e0bf66b2069869e1724125f820d851c136684082774f870e614d95a2855d000f05d1648b2d5945470bc187c2d2216fbe870f43ed0909009882e176a46b0102f846d79020010db885a308d313198a2e037073488208ae82823aa0fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c9548443b9a355c6010203c2040506a0c969a58f6f9095004c0177a6b47f451530cab38966a25cca5cb58f055542124e',
  findnode:
    'c7c44041b9f7c7e41934417ebac9a8e1a4c6298f74553f2fcfdcae6ed6fe53163eb3d2b52e39fe91831b8a927bf4fc222c3902202027e5e9eb812195f95d20061ef5cd31d502e47ecb61183f74a504fe04c51e73df81f25c4d506b26db4517490103f84eb840ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd31387574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f8443b9a35582999983999999280dc62cc8255c73471e0a61da0c89acdc0e035e260add7fc0c04ad9ebf3919644c91cb247affc82b69bd2ca235c71eab8e49737c937a2c396',
  neighbors:
    'c679fc8fe0b8b12f06577f2e802d34f6fa257e6137a995f6f4cbfc9ee50ed3710faf6e66f932c4c8d81d64343f429651328758b47d3dbc02c4042f0fff6946a50f4a49037a72bb550f3a7872363a83e1b9ee6469856c24eb4ef80b7535bcf99c0004f9015bf90150f84d846321163782115c82115db8403155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32f84984010203040101b840312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069dbf8599020010db83c4d001500000000abcdef12820d05820d05b84038643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aacf8599020010db885a308d313198a2e037073488203e78203e8b8408dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df738443b9a355010203b525a138aa34383fec3d2719a0',
} as const;

function decoded(t: ExecutionContext, r: DecodedPacket | DecodeFailure): DecodedPacket {
  if ('error' in r) t.fail(`refused: ${r.error}`);
  return r as DecodedPacket;
}

function reason(r: DecodedPacket | DecodeFailure): string {
  return 'error' in r ? r.error : 'decoded';
}

function flip(bytes: Uint8Array, at: number, mask: number): void {
  bytes[at] = (bytes[at] as number) ^ mask;
}

/** The packet with its hash made right again after a change. */
function rehash(c: Crypto, packet: Uint8Array): Uint8Array {
  const p = Uint8Array.from(packet);
  p.set(c.keccak256(p.subarray(32)), 0);
  return p;
}

function samples(c: Crypto, expiration: number): Discv4Message[] {
  const node = (ip: string, port: number, seed: number) => ({
    ip,
    udp: port,
    tcp: port + 1,
    publicKey: new Rng(seed).bytes(64),
  });
  return [
    {
      type: PacketType.PING,
      version: 4,
      from: { ip: '10.0.0.1', udp: 30303, tcp: 30303 },
      to: { ip: '2001:db8::1', udp: 30304, tcp: 0 },
      expiration,
      enrSeq: 7n,
    },
    {
      type: PacketType.PING,
      version: 4,
      from: { ip: null, udp: 0, tcp: 0 },
      to: { ip: '127.0.0.1', udp: 1, tcp: 65535 },
      expiration,
    },
    {
      type: PacketType.PONG,
      to: { ip: '1.2.3.4', udp: 9000, tcp: 9001 },
      pingHash: new Rng(1).bytes(32),
      expiration,
      enrSeq: 2n ** 64n - 1n,
    },
    { type: PacketType.PONG, to: { ip: 'fe80::1', udp: 9000, tcp: 0 }, pingHash: new Rng(2).bytes(32), expiration },
    { type: PacketType.FINDNODE, target: fromHex(KEY_XY), expiration },
    {
      type: PacketType.NEIGHBORS,
      nodes: [node('99.33.22.55', 4444, 3), node('2001:db8::5', 30303, 4), node('1.2.3.4', 1, 5)],
      expiration,
    },
    { type: PacketType.NEIGHBORS, nodes: [], expiration },
    { type: PacketType.ENR_REQUEST, expiration },
    {
      type: PacketType.ENR_RESPONSE,
      requestHash: new Rng(6).bytes(32),
      record: Enr.create(KEY, { ip: '10.0.0.1', udp: 30303 }, c).encoded,
    },
  ];
}

const ep = (ip: string, udp: number, tcp: number) => ({ ip, udp, tcp });
/** One valid packet of each sample message, signed by KEY with the native backend. */
const valid = samples(native, NOW + 10).map((m) => encodePacket(native, KEY, m).packet);

bothBackends("EIP-8's discovery packets decode, with the signer's key and every field", (t, c) => {
  const before = EIP8_EXPIRATION - 1;
  const check = (hex: string, expected: Discv4Message) => {
    const packet = fromHex(hex);
    const r = decoded(t, decodePacket(c, packet, before));
    t.deepEqual(r.message, expected);
    t.is(toHex(r.publicKey), KEY_XY);
    t.is(toHex(r.nodeId), NODE_ID);
    t.is(toHex(r.nodeId), toHex(c.keccak256(r.publicKey)));
    t.is(toHex(r.hash), hex.slice(0, 64));
    // Their expiration is long past: at today's clock, each is refused as expired.
    t.is(reason(decodePacket(c, packet, nowSeconds())), 'expired');
  };
  const expiration = EIP8_EXPIRATION;
  // Version 4 with two extra elements: the first sits where EIP-868's enr-seq now goes.
  check(EIP8.ping, {
    type: 1,
    version: 4,
    from: ep('127.0.0.1', 3322, 5544),
    to: ep('::1', 2222, 3333),
    expiration,
    enrSeq: 1n,
  });
  // Version 555, a list where enr-seq goes (read as absent), data after the list.
  check(EIP8.ping555, {
    type: 1,
    version: 555,
    from: ep('2001:db8:3c4d:15::abcd:ef12', 3322, 5544),
    to: ep('2001:db8:85a3:8d3:1319:8a2e:370:7348', 2222, 33338),
    expiration,
  });
  check(EIP8.pong, {
    type: 2,
    to: ep('2001:db8:85a3:8d3:1319:8a2e:370:7348', 2222, 33338),
    pingHash: fromHex('fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c954'),
    expiration,
  });
  check(EIP8.findnode, { type: 3, target: fromHex(KEY_XY), expiration });
  const n = (ip: string, udp: number, tcp: number, key: string) => ({ ip, udp, tcp, publicKey: fromHex(key) });
  check(EIP8.neighbors, {
    type: 4,
    nodes: [
      n(
        '99.33.22.55',
        4444,
        4445,
        '3155e1427f85f10a5c9a7755877748041af1bcd8d474ec065eb33df57a97babf54bfd2103575fa829115d224c523596b401065a97f74010610fce76382c0bf32',
      ),
      n(
        '1.2.3.4',
        1,
        1,
        '312c55512422cf9b8a4097e9a6ad79402e87a15ae909a4bfefa22398f03d20951933beea1e4dfa6f968212385e829f04c2d314fc2d4e255e0d3bc08792b069db',
      ),
      n(
        '2001:db8:3c4d:15::abcd:ef12',
        3333,
        3333,
        '38643200b172dcfef857492156971f0e6aa2c538d8b74010f8e140811d53b98c765dd2d96126051913f44582e8c199ad7c6d6819e9a56483f637feaac9448aac',
      ),
      n(
        '2001:db8:85a3:8d3:1319:8a2e:370:7348',
        999,
        1000,
        '8dcab8618c3253b558d459da53bd8fa68935a719aff8b811197101a4b2b47dd2d47295286fc00cc081bb542d760717d1bdd6bec2c37cd72eca367d6dd3b9df73',
      ),
    ],
    expiration,
  });
});

bothBackends('every message survives encode and decode; node id = keccak256 of the recovered key', (t, c) => {
  const publicKey = (c.decompressPublicKey(c.publicKeyFromPrivate(KEY)) as Uint8Array).subarray(1);
  for (const message of samples(c, expirationFrom(NOW))) {
    const { packet, hash } = encodePacket(c, KEY, message);
    t.true(packet.length <= 1280);
    t.is(packet[97], message.type);
    t.deepEqual(encodeMessage(message), packet.subarray(98));
    t.deepEqual(decodeMessage(message.type, packet.subarray(98)), message);
    const r = decoded(t, decodePacket(c, packet, NOW));
    t.deepEqual(r.message, message);
    t.deepEqual(r.hash, hash);
    t.is(toHex(r.publicKey), toHex(publicKey));
    t.is(toHex(r.nodeId), NODE_ID);
    t.is(toHex(r.nodeId), toHex(c.nodeIdFromPublicKey(c.publicKeyFromPrivate(KEY)) as Uint8Array));
  }
});

bothBackends('ENRRESPONSE: the record is returned only when signed by the packet signer', (t, c) => {
  const own = Enr.create(KEY, { ip: '10.0.0.1', udp: 30303 }, c);
  const other = Enr.create(new Rng(7).privateKey(), { ip: '10.0.0.2', udp: 30303 }, c);
  const respond = (record: Uint8Array) =>
    decoded(t, decodePacket(c, encodePacket(c, KEY, { type: 6, requestHash: new Uint8Array(32), record }).packet, NOW));
  t.deepEqual(recordOfResponse(c, respond(own.encoded))?.encoded, own.encoded);
  t.is(recordOfResponse(c, respond(other.encoded)), null);
  const forged = Uint8Array.from(own.encoded);
  flip(forged, forged.length - 1, 1);
  t.is(recordOfResponse(c, respond(forged)), null);
  t.is(
    recordOfResponse(
      c,
      decoded(t, decodePacket(c, encodePacket(c, KEY, samples(c, NOW)[7] as Discv4Message).packet, NOW)),
    ),
    null,
  );
});

test('both backends give identical bytes for the same key and message (RFC 6979), and read each other', (t) => {
  const rng = new Rng(0xd154);
  for (let round = 0; round < 20; round++) {
    const key = rng.privateKey();
    for (const message of samples(native, NOW + rng.int(100))) {
      const a = encodePacket(native, key, message).packet;
      const b = encodePacket(js, key, message).packet;
      t.is(toHex(a), toHex(b));
      t.is(normalize(decodePacket(js, a, NOW)), normalize(decodePacket(native, b, NOW)));
    }
  }
});

test('discv4Unpack: native and js agree on 1,000 tampered packets and reach every outcome', (t) => {
  const rng = new Rng(0x4e4e);
  const outcomes = new Set<string>();
  let mismatches = 0;
  for (let i = 0; i < 1000; i++) {
    let p = native.discv4Pack(rng.privateKey(), 1 + rng.int(6), rng.bytes(rng.int(300)));
    const roll = rng.int(6);
    const half = rng.int(2);
    if (roll === 1) flip(p, 32 + rng.int(65), 1 << rng.int(8)); // signature or recovery id
    if (roll === 2) p[96] = rng.int(256);
    if (roll === 3) p.fill(0xff, 32 + 32 * half, 64 + 32 * half); // r or s >= n
    if (roll === 4) flip(p, rng.int(p.length), 1); // anywhere, hash left stale
    if (roll >= 1 && roll <= 3) p = rehash(native, p);
    const a = normalize(native.discv4Unpack(p));
    if (a !== normalize(js.discv4Unpack(p))) mismatches++;
    outcomes.add(a === 'null' ? 'null' : 'value');
  }
  // Recovery ids 2 and 3 (x = r + n) need r < p - n: small r values, some on the curve, some not.
  let lifted = 0;
  for (let r = 1; r <= 10; r++) {
    for (let recovery = 0; recovery < 4; recovery++) {
      const p = Uint8Array.from(valid[0] as Uint8Array);
      p.fill(0, 32, 64);
      p[63] = r;
      p[96] = recovery;
      const fixed = rehash(native, p);
      const a = normalize(native.discv4Unpack(fixed));
      if (a !== normalize(js.discv4Unpack(fixed))) mismatches++;
      if (recovery >= 2 && a !== 'null') lifted++;
    }
  }
  t.is(mismatches, 0);
  t.true(lifted > 0, 'some recovery id 2 or 3 recovered a key');
  t.deepEqual([...outcomes].sort(), ['null', 'value']);
});

bothBackends('a high-s signature recovers the same signer (as go-ethereum accepts it)', (t, c) => {
  const p = Uint8Array.from(encodePacket(c, KEY, { type: 5, expiration: NOW + 10 }).packet);
  const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
  const s = BigInt(`0x${toHex(p.subarray(64, 96))}`);
  p.set(fromHex((n - s).toString(16).padStart(64, '0')), 64);
  p[96] = (p[96] as number) ^ 1;
  const r = decoded(t, decodePacket(c, rehash(c, p), NOW));
  t.is(toHex(r.nodeId), NODE_ID);
});

bothBackends('refusals come back as reasons', (t, c) => {
  const at = (p: Uint8Array, now = NOW) => reason(decodePacket(c, p, now));
  const exp = expirationFrom(NOW);
  const valid = encodePacket(c, KEY, { type: 5, expiration: exp }).packet;
  const signed = (type: number, item: RlpItem | Uint8Array) =>
    c.discv4Pack(KEY, type, item instanceof Uint8Array ? item : rlp(item));
  const e = (v: number) => Uint8Array.from(Buffer.from(v.toString(16).padStart(8, '0'), 'hex'));

  t.is(at(new Uint8Array(0)), 'too-small');
  t.is(at(valid.subarray(0, 97)), 'too-small');
  t.is(at(new Uint8Array(1281)), 'too-large');
  t.is(at(c.discv4Pack(KEY, 4, new Uint8Array(1182))), 'bad-rlp'); // 1280 bytes: framing fine
  const flipped = (i: number) => {
    const p = Uint8Array.from(valid);
    p[i] = (p[i] as number) ^ 1;
    return p;
  };
  for (const i of [0, 31, 40, 96, 97, valid.length - 1]) t.is(at(flipped(i)), 'bad-hash');
  const badRecovery = Uint8Array.from(valid);
  badRecovery[96] = 4;
  t.is(at(rehash(c, badRecovery)), 'bad-signature');
  const zeroR = Uint8Array.from(valid);
  zeroR.fill(0, 32, 64);
  t.is(at(rehash(c, zeroR)), 'bad-signature');
  // A changed type (hash made right) recovers some other key, never the signer's.
  for (const type of [1, 2, 3, 4, 6, 7]) {
    const p = Uint8Array.from(valid);
    p[97] = type;
    const r = decodePacket(c, rehash(c, p), NOW);
    if (!('error' in r)) t.not(toHex(r.nodeId), NODE_ID);
  }
  t.is(at(signed(0, [e(exp)])), 'unknown-type');
  t.is(at(signed(7, [e(exp)])), 'unknown-type');
  t.is(at(signed(5, new Uint8Array(0))), 'bad-rlp');
  t.is(at(signed(5, Uint8Array.of(0x01))), 'bad-rlp'); // not a list
  t.is(at(signed(5, Uint8Array.of(0xc5, 0x84))), 'bad-rlp'); // truncated
  t.is(at(signed(5, Uint8Array.of(0xc2, 0x81, 0x05))), 'bad-rlp'); // non-canonical single byte
  t.is(at(signed(5, [])), 'bad-field'); // no expiration
  t.is(at(signed(5, [Uint8Array.of(0, ...e(exp))])), 'bad-field'); // leading zero
  t.is(at(signed(5, [new Uint8Array(9).fill(1)])), 'bad-field'); // over 8 bytes
  t.is(at(signed(5, [[e(exp)]])), 'bad-field');
  t.is(at(signed(3, [new Uint8Array(63), e(exp)])), 'bad-field'); // target of 63 bytes
  t.is(
    at(signed(2, [[Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1), Uint8Array.of(1)], new Uint8Array(31), e(exp)])),
    'bad-field',
  );
  const entry = (ip: Uint8Array, port: Uint8Array, key: Uint8Array): RlpItem => [ip, port, port, key];
  const ok4 = Uint8Array.of(1, 2, 3, 4);
  t.is(at(signed(4, [[entry(ok4, Uint8Array.of(1), new Uint8Array(64))], e(exp)])), 'decoded');
  t.is(at(signed(4, [[entry(new Uint8Array(5), Uint8Array.of(1), new Uint8Array(64))], e(exp)])), 'bad-field');
  t.is(at(signed(4, [[entry(new Uint8Array(0), Uint8Array.of(1), new Uint8Array(64))], e(exp)])), 'bad-field');
  t.is(at(signed(4, [[entry(ok4, Uint8Array.of(1, 0, 0), new Uint8Array(64))], e(exp)])), 'bad-field');
  t.is(at(signed(4, [[entry(ok4, Uint8Array.of(1), new Uint8Array(65))], e(exp)])), 'bad-field');
  t.is(at(signed(6, [new Uint8Array(32), new Uint8Array(10)])), 'bad-field'); // record not a list
  t.is(at(signed(6, [new Uint8Array(32), [new Uint8Array(300)]])), 'bad-field'); // record over 300 bytes

  // Expiration: before now is expired (as geth: a whole second before a fractional now counts).
  const enrRequest = (expiration: number) => encodePacket(c, KEY, { type: 5, expiration }).packet;
  t.is(at(enrRequest(NOW - 1)), 'expired');
  t.is(at(enrRequest(NOW), NOW + 0.5), 'expired');
  t.is(at(enrRequest(NOW)), 'decoded');
  t.is(at(enrRequest(NOW + 120)), 'decoded');
  t.is(at(enrRequest(NOW + 121)), 'future-expiration');
  t.is(reason(decodePacket(c, enrRequest(NOW + 121), NOW, { maxAheadSeconds: 200 })), 'decoded');
  const farthest = signed(5, [new Uint8Array(8).fill(0xff)]);
  t.is(at(farthest), 'future-expiration');
  t.is(reason(decodePacket(c, farthest, NOW, { maxAheadSeconds: Number.POSITIVE_INFINITY })), 'decoded');
  // ENRRESPONSE carries no expiration: accepted at any time.
  const response = samples(c, 0)[8] as Discv4Message;
  t.is(at(encodePacket(c, KEY, response).packet, 4e9), 'decoded');
});

bothBackends('EIP-8 leniency: extra elements, data after the list, odd informational fields', (t, c) => {
  const exp = Uint8Array.of(0x65, 0x53, 0xf1, 0x00 + 0x10); // 1700000016
  const port = Uint8Array.of(0x76, 0x5f);
  const ping = (from: RlpItem, seq: RlpItem[], tail = new Uint8Array(0)) =>
    decodePacket(
      c,
      c.discv4Pack(
        KEY,
        1,
        Uint8Array.from([
          ...rlp([Uint8Array.of(9), from, [Uint8Array.of(1, 1, 1, 1), port, port, Uint8Array.of(7)], exp, ...seq]),
          ...tail,
        ]),
      ),
      NOW,
    );
  const m = (r: DecodedPacket | DecodeFailure) => decoded(t, r).message as Extract<Discv4Message, { type: 1 }>;
  const base = m(
    ping(
      [Uint8Array.of(10, 0, 0, 1), port, port],
      [Uint8Array.of(3), [Uint8Array.of(1)], Uint8Array.of(2)],
      Uint8Array.of(1, 2, 3),
    ),
  );
  t.is(base.version, 9);
  t.deepEqual(base.from, ep('10.0.0.1', 30303, 30303));
  t.deepEqual(base.to, ep('1.1.1.1', 30303, 30303));
  t.is(base.expiration, 1700000016);
  t.is(base.enrSeq, 3n);
  // geth sends an empty IP while it does not know its own; a 5-byte one is read as unknown too.
  t.is(m(ping([new Uint8Array(0), port, new Uint8Array(0)], [])).from.ip, null);
  t.is(m(ping([new Uint8Array(5), port, port], [])).from.ip, null);
  t.deepEqual(
    m(ping([Uint8Array.from([...new Uint8Array(10), 0xff, 0xff, 10, 0, 0, 9]), port, port], [])).from.ip,
    '10.0.0.9',
  );
  // enr-seq that is no uint64 reads as absent; a missing one too.
  t.false('enrSeq' in m(ping([Uint8Array.of(1, 2, 3, 4), port, port], [[Uint8Array.of(1)]])));
  t.false('enrSeq' in m(ping([Uint8Array.of(1, 2, 3, 4), port, port], [new Uint8Array(9).fill(1)])));
  t.false('enrSeq' in m(ping([Uint8Array.of(1, 2, 3, 4), port, port], [])));
  // Ports stay strict even in an informational endpoint, as geth's.
  t.is(reason(ping([Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1, 0, 0), port], [])), 'bad-field');
  t.is(reason(ping(Uint8Array.of(1), [])), 'bad-field');
});

bothBackends('misuse throws Discv5Error with the same code on both backends', (t, c) => {
  const code = (fn: () => unknown) => (t.throws(fn, { instanceOf: Discv5Error }) as Discv5Error).code;
  const any = (v: unknown) => v as never;
  t.is(
    code(() => c.discv4Pack(KEY.subarray(1), 1, new Uint8Array(0))),
    ErrorCode.INVALID_LENGTH,
  );
  t.is(
    code(() => c.discv4Pack(new Uint8Array(32), 1, new Uint8Array(0))),
    ErrorCode.INVALID_PRIVATE_KEY,
  );
  for (const type of [256, -1, 1.5, Number.NaN, '1'])
    t.is(
      code(() => c.discv4Pack(KEY, any(type), new Uint8Array(0))),
      ErrorCode.INVALID_ARGUMENT,
    );
  t.is(
    code(() => c.discv4Pack(KEY, 1, any([1, 2]))),
    ErrorCode.INVALID_TYPE,
  );
  t.is(c.discv4Pack(KEY, 1, new Uint8Array(1182)).length, 1280);
  t.is(
    code(() => c.discv4Pack(KEY, 1, new Uint8Array(1183))),
    ErrorCode.INVALID_LENGTH,
  );
  t.is(
    code(() => c.discv4Unpack(any('packet'))),
    ErrorCode.INVALID_TYPE,
  );
  t.is(c.discv4Unpack(new Uint8Array(200)), null);
  const enc = (m: unknown) => code(() => encodePacket(c, KEY, m as Discv4Message));
  const exp = NOW;
  t.is(enc({ type: 3, target: new Uint8Array(63), expiration: exp }), ErrorCode.INVALID_LENGTH);
  t.is(enc({ type: 2, to: ep('1.2.3.4', 1, 1), pingHash: 'ab', expiration: exp }), ErrorCode.INVALID_TYPE);
  t.is(
    enc({ type: 1, version: 4, from: ep('1.2.3.4', 70000, 1), to: ep('1.2.3.4', 1, 1), expiration: exp }),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(
    enc({ type: 1, version: 4, from: ep('nope', 1, 1), to: ep('1.2.3.4', 1, 1), expiration: exp }),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(
    enc({ type: 1, version: -4, from: ep('1.2.3.4', 1, 1), to: ep('1.2.3.4', 1, 1), expiration: exp }),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(enc({ type: 5, expiration: 1.5 }), ErrorCode.INVALID_ARGUMENT);
  t.is(enc({ type: 5, expiration: -1 }), ErrorCode.INVALID_ARGUMENT);
  t.is(
    enc({ type: 2, to: ep('1.2.3.4', 1, 1), pingHash: new Uint8Array(32), expiration: exp, enrSeq: 2n ** 64n }),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(
    enc({ type: 4, nodes: [{ ip: null, udp: 1, tcp: 1, publicKey: new Uint8Array(64) }], expiration: exp }),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(enc({ type: 6, requestHash: new Uint8Array(32), record: Uint8Array.of(0x80) }), ErrorCode.ENR_RLP);
  t.is(enc({ type: 6, requestHash: new Uint8Array(32), record: rlp([new Uint8Array(300)]) }), ErrorCode.ENR_TOO_LARGE);
  t.is(enc({ type: 9, expiration: exp }), ErrorCode.INVALID_ARGUMENT);
  t.is(
    code(() => decodePacket(c, any('x'), NOW)),
    ErrorCode.INVALID_TYPE,
  );
  t.is(
    code(() => decodePacket(c, new Uint8Array(0), Number.NaN)),
    ErrorCode.INVALID_ARGUMENT,
  );
  t.is(
    code(() => decodePacket(c, new Uint8Array(0), NOW, { maxAheadSeconds: -1 })),
    ErrorCode.INVALID_ARGUMENT,
  );
});

bothBackends('NEIGHBORS: 12 worst-case nodes fit 1280 bytes, 13 do not; answers split by 12', (t, c) => {
  t.is(NEIGHBORS_MAX_NODES, 12);
  t.true(maxNeighborsPacketSize(12) <= 1280);
  t.true(maxNeighborsPacketSize(13) > 1280);
  const worst = (i: number) => ({
    ip: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00',
    udp: 65535,
    tcp: 65000 + i,
    publicKey: new Rng(i).bytes(64),
  });
  const nodes = Array.from({ length: 16 }, (_, i) => worst(i));
  // The worst case exactly, with an 8-byte expiration (beyond what a number encodes).
  const entries: RlpItem[] = nodes
    .slice(0, 12)
    .map((n) => [
      fromHex('ffffffffffffffffffffffffffffff00'),
      Uint8Array.of(0xff, 0xff),
      Uint8Array.of(0xfd, 0xe8),
      n.publicKey,
    ]);
  const packet = c.discv4Pack(KEY, 4, rlp([entries, new Uint8Array(8).fill(0xff)]));
  t.is(packet.length, maxNeighborsPacketSize(12));
  const r = decoded(t, decodePacket(c, packet, NOW, { maxAheadSeconds: Number.POSITIVE_INFINITY }));
  t.is((r.message as Extract<Discv4Message, { type: 4 }>).nodes.length, 12);
  const tooMany = { type: 4, nodes: nodes.slice(0, 13), expiration: 2 ** 53 - 1 } as const;
  t.is(
    (t.throws(() => encodePacket(c, KEY, tooMany), { instanceOf: Discv5Error }) as Discv5Error).code,
    ErrorCode.INVALID_LENGTH,
  );
  t.deepEqual(
    splitNeighbors(nodes).map((g) => g.length),
    [12, 4],
  );
  t.deepEqual(splitNeighbors([1, 2, 3], 2), [[1, 2], [3]]);
  const answer = encodeNeighbors(c, KEY, nodes, expirationFrom(NOW));
  t.deepEqual(
    answer.map(
      (p) => (decoded(t, decodePacket(c, p.packet, NOW)).message as Extract<Discv4Message, { type: 4 }>).nodes,
    ),
    [nodes.slice(0, 12), nodes.slice(12)],
  );
  const empty = encodeNeighbors(c, KEY, [], expirationFrom(NOW));
  t.is(empty.length, 1);
  t.deepEqual(
    (
      decoded(t, decodePacket(c, (empty[0] as { packet: Uint8Array }).packet, NOW)).message as Extract<
        Discv4Message,
        { type: 4 }
      >
    ).nodes,
    [],
  );
});

// Fuzz: whatever arrives, decodePacket returns a result (never throws), both backends agree, and a
// packet that decodes after re-signing names the signer.

const op = fc.record({ kind: fc.integer({ min: 0, max: 4 }), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
function mutate(bytes: Uint8Array, ops: { kind: number; at: number; value: number }[]): Uint8Array {
  const b = Array.from(bytes);
  for (const { kind, at, value } of ops) {
    const i = at % (b.length + 1);
    if (kind === 0) b[i] = value;
    else if (kind === 1) b.splice(i, 0, value);
    else if (kind === 2) b.splice(i, 1);
    else if (kind === 3) b.length = i;
    else if (b.length > 0) b[i % b.length] = (b[i % b.length] as number) ^ (1 << (value & 7));
  }
  return Uint8Array.from(b);
}
const anyItem: fc.Arbitrary<RlpItem> = fc.letrec<{ item: RlpItem }>((tie) => ({
  item: fc.oneof({ depthSize: 'small' }, fc.uint8Array({ maxLength: 70 }), fc.array(tie('item'), { maxLength: 5 })),
})).item;

const datagrams = fc.oneof(
  fc.uint8Array({ maxLength: 1400 }),
  fc.uint8Array({ minLength: 98, maxLength: 1300 }).map((p) => rehash(native, p)),
  fc
    .tuple(fc.nat(valid.length - 1), fc.array(op, { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([i, ops, fix]) => {
      const p = mutate(valid[i] as Uint8Array, ops);
      return fix && p.length > 32 ? rehash(native, p) : p;
    }),
  // Re-signed mutations of valid packet-data and random RLP: past hash and signature, into the codecs.
  fc
    .tuple(fc.nat(valid.length - 1), fc.array(op, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 8 }))
    .map(([i, ops, type]) =>
      native.discv4Pack(KEY, type, mutate((valid[i] as Uint8Array).subarray(98), ops).subarray(0, 1182)),
    ),
  fc
    .tuple(anyItem, fc.integer({ min: 1, max: 6 }))
    .map(([item, type]) => native.discv4Pack(KEY, type, rlp(item).subarray(0, 1182))),
);

test('fuzz: random, mutated and re-signed datagrams never throw, and both backends agree', (t) => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(datagrams, (p) => {
      const results = [native, js].map((c) => {
        const r = decodePacket(c, p, NOW);
        if (!('error' in r)) {
          if (toHex(r.nodeId) !== toHex(c.keccak256(r.publicKey))) throw new Error('node id is not keccak256(key)');
          recordOfResponse(c, r);
        }
        return r;
      });
      const [a, b] = results.map(normalize);
      if (a !== b) throw new Error(`backends disagree: ${a} / ${b}`);
      const key = reason(results[0] as DecodedPacket | DecodeFailure);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }),
    { numRuns: 1500, seed: 0xd15c4 },
  );
  t.log([...seen].map(([k, v]) => `${k}=${v}`).join(' '));
  for (const r of ['too-small', 'bad-hash', 'bad-signature', 'bad-rlp', 'bad-field', 'unknown-type', 'decoded']) {
    t.true((seen.get(r) ?? 0) > 0, `reached ${r}`);
  }
});
