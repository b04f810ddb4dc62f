/**
 * EIP-1459 (node discovery via DNS): entry parsing and hashing on both backends, the EIP's own
 * example, trees built here and served by a loopback DNS server (helpers/dns-server.ts), and a
 * resolver that stays bounded and never throws below a verified root.
 */
import dgram from 'node:dgram';
import test, { type ExecutionContext } from 'ava';
import { decodeBase32, encodeBase32 } from '../ts/dns/base32.js';
import { buildTree, signRoot } from '../ts/dns/build.js';
import { MAX_BRANCH_WIDTH, MAX_ENTRY_LENGTH } from '../ts/dns/constants.js';
import { resolveTree } from '../ts/dns/resolve.js';
import { entryName, hashMatches, parseEntry, parseLink, parseRoot, verifyRoot } from '../ts/dns/tree.js';
import type { ResolveTreeOptions } from '../ts/dns/types.js';
import { createCrypto, Discv5Error, Enr, EnrDecoder, ErrorCode } from '../ts/index.js';
import { fromHex, toHex } from '../ts/util/bytes.js';
import { bothBackends } from './helpers/backends.js';
import { DnsServer, type DnsServerOptions } from './helpers/dns-server.js';

const crypto = createCrypto();

// The EIP's example zone (also go-ethereum's TestClientSyncTree). Its root is signed by the key of
// go-ethereum's tests, whose public key is the one the EIP prints next to its example URL; the URL's
// own key (AM5FCQ...) is that of the linked list and did not sign this root.
const EIP = {
  privateKey: 'dc599867fc513f8f5e2c2c9c489cde5e71362d1d9ec6e693e0de063236ed1240',
  signer: 'AKPYQIUQIL7PSIACI32J7FGZW56E5FKHEFCCOFHILBIMW3M6LWXS2',
  urlKey: 'AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2',
  printedKey:
    '049f88229042fef9200246f49f94d9b77c4e954721442714e85850cb6d9e5daf2d880ea0e53cb3ac1a75f9923c2726a4f941f7d326781baa6380754a360de5c2b6',
  root: 'enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA',
  entries: {
    C7HRFPF3BLGF3YR4DY5KX3SMBE: 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org',
    JWXYDBPXYWG6FX3GMDIBFA6CJ4:
      'enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24',
    '2XS2367YHAXJFGLZHVAWLQD4ZY':
      'enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA',
    H4FHT4B454P6UXFD7JCYQ5PWDY:
      'enr:-HW4QAggRauloj2SDLtIHN1XBkvhFZ1vtf1raYQp9TBW2RD5EEawDzbtSmlXUfnaHcvwOizhVYLtr7e6vw7NAf6mTuoCgmlkgnY0iXNlY3AyNTZrMaECjrXI8TLNXU0f8cthpAMxEshUyQlK-AM0PW2wfrnacNI',
    MHTDO6TMUBRIA2XWG5LUDACK24:
      'enr:-HW4QLAYqmrwllBEnzWWs7I5Ev2IAs7x_dZlbYdRdMUx5EyKHDXp7AV5CkuPGUPdvbv1_Ms1CPfhcGCvSElSosZmyoqAgmlkgnY0iXNlY3AyNTZrMaECriawHKWdDRk2xeZkrOXBQ0dfMFLHY4eENZwdufn1S1o',
  } as Record<string, string>,
};
const EIP_RECORDS = Object.values(EIP.entries).filter((text) => text.startsWith('enr:'));
const EIP_LINK = EIP.entries.C7HRFPF3BLGF3YR4DY5KX3SMBE as string;

function keyOf(label: string): Uint8Array {
  return crypto.keccak256(Buffer.from(`dns-spec-key-${label}`));
}

function urlOf(key: Uint8Array, domain: string): string {
  return `enrtree://${encodeBase32(crypto.publicKeyFromPrivate(key))}@${domain}`;
}

/** n records; every third carries 120 bytes more, so its text is longer than one 255-byte string. */
function makeRecords(n: number, label = 'r'): Enr[] {
  return Array.from({ length: n }, (_, i) =>
    Enr.create(
      keyOf(`${label}${i}`),
      {
        ip: `10.1.${i >> 8}.${i & 0xff}`,
        udp: 30303,
        tcp: 30303,
        ...(i % 3 === 0 ? { other: { pad: new Uint8Array(120).fill(i) } } : {}),
      },
      crypto,
    ),
  );
}

function sortedIds(records: readonly Enr[]): string[] {
  return records.map((r) => r.nodeIdHex).sort();
}

async function serve(
  t: ExecutionContext,
  trees: Iterable<[string, string | readonly string[]]> = [],
  options: DnsServerOptions = {},
): Promise<DnsServer> {
  const server = new DnsServer(trees, options);
  await server.start();
  t.teardown(() => server.stop());
  return server;
}

/** Places entries under their hash names at `domain`; returns the names. */
function place(server: DnsServer, domain: string, texts: readonly string[]): string[] {
  return texts.map((text) => {
    const name = entryName(text, crypto);
    server.set(`${name}.${domain}`, text);
    return name;
  });
}

/** A root over hand-placed subtrees (an empty link subtree unless given). */
function setRoot(server: DnsServer, key: Uint8Array, domain: string, enrRoot: string, linkRoot?: string): string {
  const l = linkRoot ?? (place(server, domain, ['enrtree-branch:'])[0] as string);
  server.set(domain, signRoot(key, enrRoot, l, 1, crypto));
  return urlOf(key, domain);
}

function resolve(server: DnsServer, url: string, options: ResolveTreeOptions = {}) {
  return resolveTree(url, { server: server.address, timeoutMs: 2_000, crypto, ...options });
}

async function rejectsWith(t: ExecutionContext, promise: Promise<unknown>, code: string): Promise<Discv5Error> {
  const err = await t.throwsAsync(promise, { instanceOf: Discv5Error });
  t.is(err?.code, code as Discv5Error['code'], err?.message);
  return err as Discv5Error;
}

// --- entries, hashes and signatures (both backends) --------------------------------------------

bothBackends('base32: RFC 4648 vectors without padding; only the canonical form decodes', (t) => {
  const cases: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  for (const [plain, encoded] of cases) {
    t.is(encodeBase32(Buffer.from(plain)), encoded);
    t.is(Buffer.from(decodeBase32(encoded) as Uint8Array).toString(), plain);
  }
  for (const bad of ['MZ', 'MY======', 'my', 'M', 'MZX', 'MZXW6Y', 'MZ1W6', 'MZXW6YQ='])
    t.is(decodeBase32(bad), null, bad);
});

bothBackends(
  "the EIP's example: signed by the key it prints (not its URL's), every entry named by its hash",
  (t, c) => {
    const root = parseRoot(EIP.root);
    if (!root.ok) return t.fail(root.error);
    t.is(root.value.seq, 1);
    t.is(root.value.signature.length, 65);
    const signer = decodeBase32(EIP.signer) as Uint8Array;
    t.is(toHex(c.decompressPublicKey(signer) as Uint8Array), EIP.printedKey);
    t.true(verifyRoot(root.value, signer, c));
    t.false(verifyRoot(root.value, decodeBase32(EIP.urlKey) as Uint8Array, c));
    for (const [name, text] of Object.entries(EIP.entries)) {
      t.true(hashMatches(name, text, c), name);
      t.is(entryName(text, c), name);
      t.true(parseEntry(text, c).ok, name);
    }
    const decoded = new EnrDecoder(c).decodeBatch(EIP_RECORDS);
    t.true(decoded.every((r) => r instanceof Enr && r.verify()));
  },
);

bothBackends('buildTree reproduces the EIP example byte for byte, signature and recovery id included', (t, c) => {
  const built = buildTree(fromHex(EIP.privateKey), EIP_RECORDS, [EIP_LINK], 1, 'nodes.example.org', c);
  t.is(built.url, `enrtree://${EIP.signer}@nodes.example.org`);
  t.is(built.root, EIP.root);
  const expected = new Map([
    ['nodes.example.org', EIP.root],
    ...Object.entries(EIP.entries).map(([n, text]): [string, string] => [`${n}.nodes.example.org`, text]),
  ]);
  t.deepEqual([...built.txt].sort(), [...expected].sort());
});

bothBackends('malformed entries, roots and links are refused as values, never thrown', (t, c) => {
  const bad = [
    '',
    'foo',
    'enrtree',
    'enrtree-x=',
    'enrtree-branch:1,2',
    'enrtree-branch:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', // over 32 bytes
    'enrtree-branch:AAAAAAAAAAAAAAAAAAAA,', // an empty child
    'enrtree-branch:aaaaaaaaaaaaaaaaaaaa', // lower case
    `enrtree-branch:${Array.from({ length: MAX_BRANCH_WIDTH + 1 }, () => 'AAAAAAAAAAAAAAAAAAAAAAAAAA').join(',')}`,
    `enr:${'A'.repeat(MAX_ENTRY_LENGTH)}`,
    'enr:abc def',
    'enr:caf\u00e9',
    'enrtree://nodes.example.org',
    'enrtree://AP62DT7WOTEQZGQZOU474PP3KMEGVTTE7A7NPRXKX3DUD57@nodes.example.org', // short key
    'enrtree://AP62DT7WONEQZGQZOU474PP3KMEGVTTE7A7NPRXKX3DUD57TQHGIA@nodes.example.org', // not on the curve
    `enrtree://${EIP.signer}@`,
    `enrtree://${EIP.signer}@bad..domain`,
    `enrtree://${EIP.signer}@${'a'.repeat(64)}.org`,
    `enrtree://${EIP.signer}@sp ace.org`,
  ];
  for (const text of bad) {
    const parsed = parseEntry(text, c);
    t.false(parsed.ok, text.slice(0, 60));
  }
  t.deepEqual(parseEntry('enrtree-branch:', c), { ok: true, value: { type: 'branch', children: [] } });
  const link = parseLink(`enrtree://${EIP.signer}@Nodes.Example.org.`, c);
  t.true(link.ok && link.value.domain === 'Nodes.Example.org' && link.value.key === `${EIP.signer}@nodes.example.org`);

  const sig = EIP.root.slice(EIP.root.indexOf(' sig='));
  const roots = [
    'enrtree-root:v1 e=TO4Q75OQ2N7DX4EOOR7X66A6OM seq=3 sig=N-YY6UB9xD0hFx1Gmnt7v0RfSxch5tKyry2SRDoLx7B4GfPXagwLxQqyf7gAMvApFn_ORwZQekMWa_pXrcGCtw',
    'enrtree-root:v1 e=TO4Q75OQ2N7DX4EOOR7X66A6OM l=TO4Q75OQ2N7DX4EOOR7X66A6OM seq=3 sig=N-YY6UB9xD0hFx1Gmnt7v0RfSxch5tKyry2SRDoLx7B4GfPXagwLxQqyf7gAMvApFn_ORwZQekMWa_pXrcGCtw', // 64 bytes
    `enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=01${sig}`,
    `enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=-1${sig}`,
    `enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=18446744073709551616${sig}`,
    `enrtree-root:v1  e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1${sig}`,
    `enrtree-root:v2 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1${sig}`,
    `enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRF seq=1${sig}`,
    `${EIP.root}=`,
    `${EIP.root} x=1`,
  ];
  for (const text of roots) t.false(parseRoot(text).ok, text);
  t.true(parseRoot(EIP.root.replace('seq=1', 'seq=18446744073709551615')).ok);
});

// --- resolving over DNS (the backend DISCV5_BACKEND selects) ------------------------------------

test("the EIP's example zone, served: three records, the link to morenodes found but not resolvable", async (t) => {
  const server = await serve(t, [
    ['nodes.example.org', EIP.root],
    ...Object.entries(EIP.entries).map(([name, text]): [string, string] => [`${name}.nodes.example.org`, text]),
  ]);
  const tree = await resolve(server, `enrtree://${EIP.signer}@nodes.example.org`);
  t.is(tree.seq, 1);
  t.deepEqual(tree.records.map((r) => r.text).sort(), [...EIP_RECORDS].sort());
  t.deepEqual(tree.links, [EIP_LINK]);
  t.is(tree.errors.length, 1);
  t.regex(tree.errors[0] as string, /morenodes\.example\.org: no TXT record/);
  // The EIP's URL key did not sign this root.
  await rejectsWith(t, resolve(server, `enrtree://${EIP.urlKey}@nodes.example.org`), ErrorCode.DNS_TREE);
});

test('a tree of 40 records over three levels of branches: every record, each name asked once', async (t) => {
  const key = keyOf('A');
  const records = makeRecords(40);
  t.true(records.some((r) => r.text.length > 255));
  const built = buildTree(key, records, [], 7, 'nodes.test', crypto);
  t.true([...built.txt.values()].every((text) => text.length < 450));
  const server = await serve(t, built.txt);
  const tree = await resolve(server, built.url);
  t.deepEqual(tree.errors, []);
  t.is(tree.seq, 7);
  t.deepEqual(tree.links, []);
  t.deepEqual(sortedIds(tree.records), sortedIds(records));
  t.true(tree.records.every((r) => r.verify()));
  // root + link root (empty branch) + top branch + 3 full branches + 40 leaves
  t.is(built.txt.size, 46);
  t.is(server.queries, built.txt.size);
  for (const name of built.txt.keys()) t.is(server.queryCount(name), 1, name);
});

test('lookups run breadth first, at most 16 at once', async (t) => {
  const records = makeRecords(40);
  const built = buildTree(keyOf('A'), records, [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt, { delayMs: 40 });
  const tree = await resolve(server, built.url);
  t.is(tree.records.length, 40);
  t.true(server.maxPending <= 16 && server.maxPending >= 8, `${server.maxPending} in flight`);
});

test('a link to a second tree is followed; its records join the first tree', async (t) => {
  const keyA = keyOf('A');
  const keyB = keyOf('B');
  const recordsA = makeRecords(5, 'a');
  const recordsB = makeRecords(20, 'b');
  const b = buildTree(keyB, recordsB, [], 3, 'b.nodes.test', crypto);
  const a = buildTree(keyA, recordsA, [b.url], 9, 'a.nodes.test', crypto);
  const server = await serve(t, [...a.txt, ...b.txt]);
  const tree = await resolve(server, a.url);
  t.deepEqual(tree.errors, []);
  t.is(tree.seq, 9);
  t.deepEqual(tree.links, [b.url]);
  t.deepEqual(sortedIds(tree.records), sortedIds([...recordsA, ...recordsB]));
  const none = await resolve(server, a.url, { maxLinks: 0 });
  t.deepEqual(sortedIds(none.records), sortedIds(recordsA));
  t.deepEqual(none.links, [b.url]);
  t.is(none.errors.length, 1);
  t.regex(none.errors[0] as string, /maxLinks \(0\)/);
});

test('a link loop (A links B, B links A) ends, each tree walked once', async (t) => {
  const keyA = keyOf('A');
  const keyB = keyOf('B');
  const urlA = urlOf(keyA, 'a.loop.test');
  const urlB = urlOf(keyB, 'b.loop.test');
  const recordsA = makeRecords(4, 'la');
  const recordsB = makeRecords(4, 'lb');
  const a = buildTree(keyA, recordsA, [urlB], 1, 'a.loop.test', crypto);
  const b = buildTree(keyB, recordsB, [urlA], 1, 'b.loop.test', crypto);
  t.is(a.url, urlA);
  const server = await serve(t, [...a.txt, ...b.txt]);
  const tree = await resolve(server, urlA);
  t.deepEqual(tree.errors, []);
  t.deepEqual(tree.links, [urlB, urlA]);
  t.deepEqual(sortedIds(tree.records), sortedIds([...recordsA, ...recordsB]));
  t.is(server.queryCount('a.loop.test'), 1);
  t.is(server.queryCount('b.loop.test'), 1);
  for (const name of server.queriedNames.keys()) t.is(server.queryCount(name), 1, name);
});

test('a bad root signature throws ERR_DNS_TREE', async (t) => {
  const built = buildTree(keyOf('A'), makeRecords(3), [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt);
  // The same signature over another seq, a flipped byte of s, a signature with a high s.
  server.set('nodes.test', built.root.replace('seq=1', 'seq=2'));
  await rejectsWith(t, resolve(server, built.url), ErrorCode.DNS_TREE);
  const sig = Buffer.from(built.root.slice(built.root.indexOf('sig=') + 4), 'base64url');
  sig[40] = (sig[40] as number) ^ 1;
  server.set('nodes.test', `${built.root.slice(0, built.root.indexOf('sig=') + 4)}${sig.toString('base64url')}`);
  await rejectsWith(t, resolve(server, built.url), ErrorCode.DNS_TREE);
  sig[40] = (sig[40] as number) ^ 1;
  const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
  const s = BigInt(`0x${sig.subarray(32, 64).toString('hex')}`);
  sig.set(Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'), 32);
  server.set('nodes.test', `${built.root.slice(0, built.root.indexOf('sig=') + 4)}${sig.toString('base64url')}`);
  await rejectsWith(t, resolve(server, built.url), ErrorCode.DNS_TREE);
});

test('a root signed by another key throws ERR_DNS_TREE', async (t) => {
  const built = buildTree(keyOf('other'), makeRecords(3), [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt);
  const err = await rejectsWith(t, resolve(server, urlOf(keyOf('A'), 'nodes.test')), ErrorCode.DNS_TREE);
  t.regex(err.message, /signature does not verify/);
  t.is(server.queries, 1);
});

test('no root, a malformed root, a bad URL or a bad option: thrown, with their codes', async (t) => {
  const server = await serve(t, [['junk.test', ['v=spf1 -all', 'enrtree-root:v1 e=X']]]);
  const url = urlOf(keyOf('A'), 'nodes.test');
  await rejectsWith(t, resolve(server, url), ErrorCode.DNS_TREE);
  await rejectsWith(t, resolve(server, urlOf(keyOf('A'), 'junk.test')), ErrorCode.DNS_TREE);
  for (const bad of ['', 'enrtree://nodes.test', 'https://example.org', `enrtree://${EIP.urlKey}@bad..test`]) {
    await rejectsWith(t, resolve(server, bad), ErrorCode.INVALID_ARGUMENT);
  }
  await rejectsWith(t, resolve(server, url, { server: 'not an address' }), ErrorCode.INVALID_ARGUMENT);
  for (const options of [{ timeoutMs: 0 }, { maxEntries: -1 }, { maxDepth: 0 }, { maxLinks: 1.5 }]) {
    await rejectsWith(t, resolve(server, url, options), ErrorCode.INVALID_ARGUMENT);
  }
  t.is(server.queries, 2);
});

test('other TXT records beside the root and the entries are ignored', async (t) => {
  const built = buildTree(keyOf('A'), makeRecords(3), [], 1, 'nodes.test', crypto);
  const server = await serve(t);
  for (const [name, text] of built.txt) server.set(name, ['v=spf1 -all', text, 'google-site-verification=x']);
  const tree = await resolve(server, built.url);
  t.deepEqual(tree.errors, []);
  t.is(tree.records.length, 3);
});

test('an entry that does not hash to its name is skipped and counted; the rest resolve', async (t) => {
  const records = makeRecords(20);
  const built = buildTree(keyOf('A'), records, [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt);
  const victim = records[4] as Enr;
  const impostor = makeRecords(1, 'impostor')[0] as Enr;
  const leafName = `${entryName(victim.text, crypto)}.nodes.test`;
  server.set(leafName, impostor.text);
  const tree = await resolve(server, built.url);
  t.deepEqual(tree.errors, [`${leafName}: entry does not hash to its name`]);
  t.deepEqual(sortedIds(tree.records), sortedIds(records.filter((r) => r !== victim)));
});

test('a bad record, a record among links and a link among records are skipped and counted', async (t) => {
  const key = keyOf('A');
  const [good, other] = makeRecords(2) as [Enr, Enr];
  const text = good.text;
  const tampered = `${text.slice(0, 20)}${text[20] === 'A' ? 'B' : 'A'}${text.slice(21)}`; // in the signature
  const link = urlOf(keyOf('B'), 'b.test');
  const server = await serve(t);
  const leaves = place(server, 'nodes.test', [text, tampered, 'enr:-----', link]);
  const [enrRoot] = place(server, 'nodes.test', [`enrtree-branch:${leaves.join(',')}`]);
  const linkLeaves = place(server, 'nodes.test', [other.text]);
  const [linkRoot] = place(server, 'nodes.test', [`enrtree-branch:${linkLeaves.join(',')}`]);
  const tree = await resolve(server, setRoot(server, key, 'nodes.test', enrRoot as string, linkRoot));
  t.deepEqual(
    tree.records.map((r) => r.text),
    [text],
  );
  t.deepEqual(tree.links, []);
  t.is(tree.errors.length, 4, tree.errors.join('\n'));
  t.true(tree.errors.some((e) => e.includes('record in the link subtree')));
  t.true(tree.errors.some((e) => e.includes('link in the record subtree')));
  t.true(tree.errors.some((e) => e.includes(`${leaves[1]}.nodes.test: invalid record (ERR_ENR_VERIFY`)));
  t.true(tree.errors.some((e) => e.includes(`${leaves[2]}.nodes.test: invalid record (ERR_ENR_`)));
});

test('a branch naming itself, and branches sharing children: the walk ends, each name asked once', async (t) => {
  const key = keyOf('A');
  const records = makeRecords(6);
  const server = await serve(t);
  const leaves = place(
    server,
    'nodes.test',
    records.map((r) => r.text),
  );
  const [shared] = place(server, 'nodes.test', [`enrtree-branch:${leaves.slice(0, 3).join(',')}`]);
  const [left] = place(server, 'nodes.test', [`enrtree-branch:${shared},${leaves[3]},${leaves[3]}`]);
  const [right] = place(server, 'nodes.test', [`enrtree-branch:${shared},${leaves[4]},${left}`]);
  // A branch served under a name that it lists itself: a cycle, which no true hash allows.
  const selfName = 'AAAAAAAAAAAAAAAAAAAAAAAAAA';
  server.set(`${selfName}.nodes.test`, `enrtree-branch:${selfName},${leaves[5]}`);
  const [top] = place(server, 'nodes.test', [`enrtree-branch:${left},${right},${selfName},${left}`]);
  const tree = await resolve(server, setRoot(server, key, 'nodes.test', top as string));
  t.deepEqual(tree.errors, [`${selfName}.nodes.test: entry does not hash to its name`]);
  t.deepEqual(sortedIds(tree.records), sortedIds(records.slice(0, 5)));
  for (const name of server.queriedNames.keys()) t.is(server.queryCount(name), 1, name);
  t.is(server.queryCount(`${leaves[5]}.nodes.test`), 0);
});

test('maxEntries cuts a large tree: no more lookups than the limit, the cut counted', async (t) => {
  const records = makeRecords(40);
  const built = buildTree(keyOf('A'), records, [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt);
  const tree = await resolve(server, built.url, { maxEntries: 10 });
  t.is(server.queries, 11); // the root and ten entries
  t.true(tree.records.length > 0 && tree.records.length <= 10);
  t.is(tree.errors.length, 1);
  t.regex(tree.errors[0] as string, /^maxEntries \(10\) reached: \d+ more entries not fetched$/);
  const nothing = await resolve(server, built.url, { maxEntries: 0 });
  t.deepEqual(nothing.records, []);
});

test('maxDepth bounds branch nesting', async (t) => {
  const key = keyOf('A');
  const [record] = makeRecords(1) as [Enr];
  const server = await serve(t);
  let name = place(server, 'nodes.test', [record.text])[0] as string;
  for (let i = 0; i < 20; i++) name = place(server, 'nodes.test', [`enrtree-branch:${name}`])[0] as string;
  const url = setRoot(server, key, 'nodes.test', name);
  const shallow = await resolve(server, url);
  t.deepEqual(shallow.records, []);
  t.is(shallow.errors.length, 1);
  t.regex(shallow.errors[0] as string, /deeper than maxDepth \(16\)/);
  const deep = await resolve(server, url, { maxDepth: 21 });
  t.deepEqual(deep.errors, []);
  t.is(deep.records.length, 1);
});

test('an oversize entry and a branch wider than the limit are skipped and counted', async (t) => {
  const key = keyOf('A');
  const records = makeRecords(2);
  const server = await serve(t);
  const leaves = place(
    server,
    'nodes.test',
    records.map((r) => r.text),
  );
  const wide = place(
    server,
    'nodes.test',
    Array.from({ length: MAX_BRANCH_WIDTH + 1 }, (_, i) => `enrtree-branch:${entryName(`x${i}`, crypto)}`),
  );
  const [tooWide] = place(server, 'nodes.test', [`enrtree-branch:${wide.join(',')}`]);
  const [tooLong] = place(server, 'nodes.test', [`enr:${'A'.repeat(MAX_ENTRY_LENGTH)}`]);
  const [top] = place(server, 'nodes.test', [`enrtree-branch:${leaves.join(',')},${tooWide},${tooLong}`]);
  const tree = await resolve(server, setRoot(server, key, 'nodes.test', top as string));
  t.deepEqual(sortedIds(tree.records), sortedIds(records));
  t.is(tree.errors.length, 2, tree.errors.join('\n'));
  t.true(tree.errors.some((e) => e.includes(`more than ${MAX_BRANCH_WIDTH} children`)));
  t.true(tree.errors.some((e) => e.includes(`over ${MAX_ENTRY_LENGTH} characters`)));
});

test('a leaf that never answers times out alone; the rest resolve', async (t) => {
  const records = makeRecords(8);
  const built = buildTree(keyOf('A'), records, [], 1, 'nodes.test', crypto);
  const silent = `${entryName((records[2] as Enr).text, crypto)}.nodes.test`.toLowerCase();
  const server = await serve(t, built.txt, { drop: (name) => name === silent });
  const started = Date.now();
  const tree = await resolve(server, built.url, { timeoutMs: 300 });
  t.true(Date.now() - started < 3_000);
  t.is(tree.records.length, 7);
  t.is(tree.errors.length, 1);
  t.regex(tree.errors[0] as string, /timed out|no answer within 300 ms/);
});

test('an unreachable or silent server throws within bounded time', async (t) => {
  const url = urlOf(keyOf('A'), 'nodes.test');
  const silent = await serve(t, [], { drop: () => true });
  let started = Date.now();
  await rejectsWith(t, resolve(silent, url, { timeoutMs: 300 }), ErrorCode.REQUEST_TIMEOUT);
  t.true(Date.now() - started < 2_000, `${Date.now() - started} ms`);

  // A port where nothing listens: refused, or silence, but never a hang.
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolveBind) => socket.bind(0, '127.0.0.1', resolveBind));
  const port = socket.address().port;
  await new Promise<void>((resolveClose) => socket.close(() => resolveClose()));
  started = Date.now();
  const err = await t.throwsAsync(resolveTree(url, { server: `127.0.0.1:${port}`, timeoutMs: 300, crypto }), {
    instanceOf: Discv5Error,
  });
  t.true(err?.code === ErrorCode.DNS_TREE || err?.code === ErrorCode.REQUEST_TIMEOUT, err?.code);
  t.true(Date.now() - started < 2_000, `${Date.now() - started} ms`);
});

test('the abort signal ends the call: before it starts, and in the middle of a walk', async (t) => {
  const built = buildTree(keyOf('A'), makeRecords(40), [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt, { delayMs: 100 });
  await rejectsWith(t, resolve(server, built.url, { signal: AbortSignal.abort() }), ErrorCode.ABORTED);
  t.is(server.queries, 0);

  const controller = new AbortController();
  const pending = resolve(server, built.url, { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 250)); // the root and a level or two are in, the leaves not
  const asked = server.queries;
  t.true(asked > 0 && asked < built.txt.size, `${asked} queries`);
  const started = Date.now();
  controller.abort();
  await rejectsWith(t, pending, ErrorCode.ABORTED);
  t.true(Date.now() - started < 500, `${Date.now() - started} ms`);
  await new Promise((r) => setTimeout(r, 250));
  t.true(server.queries <= asked + 16, 'no lookups start after the abort');
});

test('the DNS helper answers garbage with FORMERR or silence, and keeps serving', async (t) => {
  const built = buildTree(keyOf('A'), makeRecords(2), [], 1, 'nodes.test', crypto);
  const server = await serve(t, built.txt);
  const socket = dgram.createSocket('udp4');
  t.teardown(() => socket.close());
  const replies: Buffer[] = [];
  socket.on('message', (msg) => replies.push(msg));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const garbage = [
    Buffer.alloc(0),
    Buffer.from([1, 2, 3]),
    Buffer.from('000100000001000000000000c00c00100001', 'hex'), // a compression pointer in a question
    Buffer.from('000200000001000000000000ff', 'hex'), // a label past the end
    Buffer.from('0003000000020000000000000000100001', 'hex'), // two questions
    Buffer.from('000480000001000000000000000010001', 'hex'), // a response
  ];
  for (const msg of garbage) socket.send(msg, server.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 100));
  t.true(replies.length >= 3);
  t.true(replies.every((r) => r.length >= 12 && ((r.readUInt16BE(2) & 0xf) === 1 || r.readUInt16BE(2) & 0x8000)));
  const tree = await resolve(server, built.url);
  t.is(tree.records.length, 2);
});
