/**
 * ts/discv4/enode.ts (enode:// URLs) on go-ethereum's parser test cases (p2p/enode/urlv4_test.go),
 * round trips, normalisation, refusals with their error code, and a property test; and
 * ts/discv4/bootnodes.ts, whose every URL must parse to a key on the curve.
 */
import test from 'ava';
import fc from 'fast-check';
import { EXECUTION_BOOTNODES } from '../ts/discv4/bootnodes.js';
import { type EnodeParts, formatEnode, parseEnode } from '../ts/discv4/enode.js';
import { ETH_NETWORKS } from '../ts/enr/eth-networks.js';
import { createCrypto, Discv5Error, ErrorCode } from '../ts/index.js';
import { concatBytes, fromHex, toHex } from '../ts/util/bytes.js';
import { formatIPv4, formatIPv6 } from '../ts/util/ip.js';

/** The key of go-ethereum's URL test cases. */
const KEY =
  '1dd9d65c4552b5eb43d5ad55a2ee3f56c6cbc1c64a5c8d659f51fcd51bace24351232b8d7821617d2b29b54b81cdefb9b3e9c37d7fd5f63270bcc9e1a6f6a439';

function codeOf(t: import('ava').ExecutionContext, fn: () => unknown): string {
  return (t.throws(fn, { instanceOf: Discv5Error }) as Discv5Error).code;
}

test("go-ethereum's well-formed URLs parse to its expected endpoints and format back unchanged", (t) => {
  const cases: ReadonlyArray<readonly [string, string, number, number]> = [
    ['127.0.0.1:52150', '127.0.0.1', 52150, 52150],
    ['[::]:52150', '::', 52150, 52150],
    ['[2001:db8:3c4d:15::abcd:ef12]:52150', '2001:db8:3c4d:15::abcd:ef12', 52150, 52150],
    ['127.0.0.1:52150?discport=22334', '127.0.0.1', 52150, 22334],
  ];
  for (const [tail, ip, tcp, udp] of cases) {
    const url = `enode://${KEY}@${tail}`;
    const parts = parseEnode(url);
    t.is(toHex(parts.publicKey), KEY, url);
    t.is(parts.publicKey.length, 64);
    t.deepEqual({ ip: parts.ip, tcp: parts.tcp, udp: parts.udp }, { ip, tcp, udp }, url);
    t.is(formatEnode(parts), url);
  }
});

test("go-ethereum's malformed URLs are refused with ERR_INVALID_ARGUMENT", (t) => {
  for (const bad of [
    `enode://${KEY}@127.0.0.1:foo`,
    `enode://${KEY}@127.0.0.1:3?discport=foo`,
    '',
    KEY,
    '01010101',
    'enode://01010101@123.124.125.126:3',
    'enode://01010101',
    'http://foobar',
    '://foo',
  ]) {
    t.is(
      codeOf(t, () => parseEnode(bad)),
      ErrorCode.INVALID_ARGUMENT,
      bad,
    );
  }
});

test('forms go-ethereum accepts and this parser refuses on purpose: hostnames and no address', (t) => {
  // geth keeps the hostname and resolves it later; this path has no resolver.
  for (const host of ['valid.', 'localhost', 'bootnode.example.org']) {
    const err = t.throws(() => parseEnode(`enode://${KEY}@${host}:3`), { instanceOf: Discv5Error }) as Discv5Error;
    t.is(err.code, ErrorCode.INVALID_ARGUMENT);
    t.regex(err.message, /hostname/);
  }
  // geth's "incomplete" node: a key and no endpoint.
  const err = t.throws(() => parseEnode(`enode://${KEY}`), { instanceOf: Discv5Error }) as Discv5Error;
  t.regex(err.message, /no @<ip>:<port>/);
});

test('normalisation: case, IPv6 text, IPv4-mapped addresses, port 0, discport equal to the TCP port', (t) => {
  const upper = parseEnode(`ENODE://${KEY.toUpperCase()}@10.0.0.1:30303`);
  t.is(toHex(upper.publicKey), KEY);
  t.is(formatEnode(upper), `enode://${KEY}@10.0.0.1:30303`);

  const v6 = parseEnode(`enode://${KEY}@[2001:0DB8:0000:0000:0000:0000:0000:0001]:30303`);
  t.is(v6.ip, '2001:db8::1');
  t.is(formatEnode(v6), `enode://${KEY}@[2001:db8::1]:30303`);

  for (const mapped of ['[::ffff:192.0.2.7]', '[::ffff:c000:207]', '[0:0:0:0:0:ffff:c000:0207]']) {
    const p = parseEnode(`enode://${KEY}@${mapped}:30303`);
    t.is(p.ip, '192.0.2.7', mapped);
    t.is(formatEnode(p), `enode://${KEY}@192.0.2.7:30303`);
  }

  // Port 0 (geth's "no TCP listener") is allowed, and so is discport 0.
  t.like(parseEnode(`enode://${KEY}@1.2.3.4:0?discport=30303`), { tcp: 0, udp: 30303 });
  t.like(parseEnode(`enode://${KEY}@1.2.3.4:30303?discport=0`), { tcp: 30303, udp: 0 });
  t.like(parseEnode(`enode://${KEY}@1.2.3.4:65535`), { tcp: 65535, udp: 65535 });
  // A redundant discport is dropped when written; other query parameters are ignored, as geth does.
  t.is(formatEnode(parseEnode(`enode://${KEY}@1.2.3.4:30303?discport=30303`)), `enode://${KEY}@1.2.3.4:30303`);
  t.like(parseEnode(`enode://${KEY}@1.2.3.4:30303?foo=bar&discport=30301&x`), { tcp: 30303, udp: 30301 });
  // Leading zeros in a port are accepted (geth's strconv.ParseUint takes them) and dropped.
  t.is(formatEnode(parseEnode(`enode://${KEY}@1.2.3.4:030303`)), `enode://${KEY}@1.2.3.4:30303`);
});

test('malformed URLs are refused with ERR_INVALID_ARGUMENT and a reason', (t) => {
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    [`enr:-IS4QGrdq0ugARp5T2BZ41TrZOqLc_oKvZoPuZP5`, /does not start with enode/],
    [`enode:${KEY}@1.2.3.4:30303`, /does not start with enode/],
    [` enode://${KEY}@1.2.3.4:30303`, /does not start with enode/],
    [`enode://${KEY.slice(2)}@1.2.3.4:30303`, /128 hex digits, got 126/],
    [`enode://${KEY}00@1.2.3.4:30303`, /128 hex digits, got 130/],
    [`enode://04${KEY}@1.2.3.4:30303`, /without the 04 prefix/],
    [`enode://0x${KEY.slice(2)}@1.2.3.4:30303`, /128 hex digits/],
    [`enode://${KEY.slice(0, -1)}g@1.2.3.4:30303`, /128 hex digits/],
    [`enode://${KEY}:secret@1.2.3.4:30303`, /password/],
    [`enode://${KEY}@1.2.3.4@5.6.7.8:30303`, /more than one @/],
    [`enode://${KEY}@1.2.3.4`, /no :<port>/],
    [`enode://${KEY}@1.2.3.4:`, /TCP port/],
    [`enode://${KEY}@1.2.3.4:65536`, /TCP port/],
    [`enode://${KEY}@1.2.3.4:-1`, /TCP port/],
    [`enode://${KEY}@1.2.3.4:3e4`, /TCP port/],
    [`enode://${KEY}@1.2.3.4: 30303`, /TCP port/],
    [`enode://${KEY}@:30303`, /no address/],
    [`enode://${KEY}@256.1.1.1:30303`, /not an IPv4 address/],
    [`enode://${KEY}@01.2.3.4:30303`, /not an IPv4 address/],
    [`enode://${KEY}@1.2.3:30303`, /not an IPv4 address/],
    [`enode://${KEY}@::1:30303`, /in brackets/],
    [`enode://${KEY}@[::1:30303`, /not closed/],
    [`enode://${KEY}@[::1]30303`, /no :<port>/],
    [`enode://${KEY}@[1.2.3.4]:30303`, /not an IPv6 address/],
    [`enode://${KEY}@[fe80::1%eth0]:30303`, /not an IPv6 address/],
    [`enode://${KEY}@[1:2:3:4:5:6:7:8:9]:30303`, /not an IPv6 address/],
    [`enode://${KEY}@1.2.3.4:30303/`, /path/],
    [`enode://${KEY}@1.2.3.4:30303#x`, /fragment/],
    [`enode://${KEY}@1.2.3.4:30303?discport=`, /discport/],
    [`enode://${KEY}@1.2.3.4:30303?discport`, /discport/],
    [`enode://${KEY}@1.2.3.4:30303?discport=70000`, /discport/],
    [`enode://${KEY}@1.2.3.4:30303?discport=1&discport=1`, /discport given twice/],
  ];
  for (const [bad, why] of cases) {
    const err = t.throws(() => parseEnode(bad), { instanceOf: Discv5Error }, bad) as Discv5Error;
    t.is(err.code, ErrorCode.INVALID_ARGUMENT, bad);
    t.regex(err.message, why, bad);
  }
  t.is(
    codeOf(t, () => parseEnode(42 as unknown as string)),
    ErrorCode.INVALID_TYPE,
  );
  t.is(
    codeOf(t, () => parseEnode(undefined as unknown as string)),
    ErrorCode.INVALID_TYPE,
  );
});

test('formatEnode refuses parts that make no URL', (t) => {
  const good: EnodeParts = { publicKey: fromHex(KEY), ip: '1.2.3.4', tcp: 30303, udp: 30303 };
  t.is(formatEnode({ ...good, ip: '::1' }), `enode://${KEY}@[::1]:30303`);
  t.is(formatEnode({ ...good, ip: '[::ffff:1.2.3.4]' }), `enode://${KEY}@1.2.3.4:30303`);
  t.is(formatEnode({ ...good, udp: 30301 }), `enode://${KEY}@1.2.3.4:30303?discport=30301`);
  t.is(
    codeOf(t, () => formatEnode({ ...good, publicKey: new Uint8Array(63) })),
    ErrorCode.INVALID_LENGTH,
  );
  t.is(
    codeOf(t, () => formatEnode({ ...good, publicKey: concatBytes(Uint8Array.of(4), fromHex(KEY)) })),
    ErrorCode.INVALID_LENGTH,
  );
  t.is(
    codeOf(t, () => formatEnode({ ...good, publicKey: KEY as unknown as Uint8Array })),
    ErrorCode.INVALID_TYPE,
  );
  t.is(
    codeOf(t, () => formatEnode({ ...good, ip: 1 as unknown as string })),
    ErrorCode.INVALID_TYPE,
  );
  for (const ip of ['example.org', '1.2.3.4.5', '', '[::1', 'fe80::1%eth0']) {
    t.is(
      codeOf(t, () => formatEnode({ ...good, ip })),
      ErrorCode.INVALID_ARGUMENT,
      ip,
    );
  }
  for (const port of [-1, 65536, 1.5, Number.NaN, '30303' as unknown as number]) {
    t.is(
      codeOf(t, () => formatEnode({ ...good, tcp: port })),
      ErrorCode.INVALID_ARGUMENT,
      String(port),
    );
    t.is(
      codeOf(t, () => formatEnode({ ...good, udp: port })),
      ErrorCode.INVALID_ARGUMENT,
      String(port),
    );
  }
});

test('any key, address and ports survive format then parse', (t) => {
  const port = fc.integer({ min: 0, max: 65535 });
  const address = fc.oneof(
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIPv4),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIPv6),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), address, port, port, (publicKey, ip, tcp, udp) => {
      const url = formatEnode({ publicKey, ip, tcp, udp });
      const back = parseEnode(url);
      t.deepEqual(back.publicKey, publicKey);
      t.deepEqual([back.tcp, back.udp], [tcp, udp]);
      t.is(formatEnode(back), url);
      // Only an IPv4-mapped IPv6 address changes its text (it becomes IPv4).
      if (!ip.startsWith('::ffff:')) t.is(back.ip, ip);
    }),
    { numRuns: 500 },
  );
});

test('every execution-layer bootnode parses, to a key on the curve, and is written back unchanged', (t) => {
  const crypto = createCrypto();
  t.deepEqual(Object.keys(EXECUTION_BOOTNODES).sort(), [...ETH_NETWORKS].sort());
  const seen = new Set<string>();
  for (const [network, urls] of Object.entries(EXECUTION_BOOTNODES)) {
    t.true(urls.length > 0, network);
    for (const url of urls) {
      const parts = parseEnode(url);
      t.is(formatEnode(parts), url);
      t.like(parts, { tcp: 30303, udp: 30303 });
      t.not(crypto.compressPublicKey(concatBytes(Uint8Array.of(4), parts.publicKey)), null, url);
      t.false(seen.has(toHex(parts.publicKey)), `${url} listed twice`);
      seen.add(toHex(parts.publicKey));
    }
  }
  t.is(seen.size, 4 + 5 + 2 + 3);
  t.true(Object.isFrozen(EXECUTION_BOOTNODES) && Object.isFrozen(EXECUTION_BOOTNODES.mainnet));
});
