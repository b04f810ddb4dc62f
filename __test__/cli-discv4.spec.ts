/**
 * The `discv5` CLI and Discovery v4, end to end over UDP loopback (node dist/cli.js; `npm run build`
 * first): `serve --discv4` answering discv4 and discv5 on one port, `ping enode://` and
 * `findnode enode://` against it, its --metrics as discv4_* series, and the flags' usage errors.
 * Commands run as child processes without blocking this one (a library node here must keep
 * answering the served node's PINGs); every wait is for an event or a line, and bounded.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { discv4Options } from '../ts/cli/commands/serve.js';
import { encodePacket, expirationFrom, nowSeconds } from '../ts/discv4/packet.js';
import { PacketType } from '../ts/discv4/types.js';
import { Discv5, Enr, EXECUTION_BOOTNODES, V4Node } from '../ts/index.js';
import { toHex } from '../ts/util/bytes.js';
import { envCrypto } from './helpers/nodes.js';
import { parsePrometheus, type Sample } from './helpers/prometheus.js';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
/** Any single wait: generous, for a loaded machine; a healthy run takes milliseconds. */
const WAIT_MS = 30_000;

test.before(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
});

/** A command run to its end, asynchronously; killed after 60 s. */
function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, out: stdout.trim(), err: stderr.trim() });
    });
  });
}

/** Lines as they come, and promises of the first line (seen or still to come) that matches. */
class Lines {
  readonly all: string[] = [];
  #waiters: { match: (l: string) => boolean; found: (l: string) => void }[] = [];
  #ended: Error | undefined;
  #onEnd: ((e: Error) => void)[] = [];

  push(line: string): void {
    this.all.push(line);
    const matched = this.#waiters.filter((w) => w.match(line));
    this.#waiters = this.#waiters.filter((w) => !matched.includes(w));
    for (const w of matched) w.found(line);
  }

  end(reason: Error): void {
    this.#ended = reason;
    for (const f of this.#onEnd) f(reason);
  }

  next(match: (l: string) => boolean, what: string, timeoutMs = WAIT_MS): Promise<string> {
    const seen = this.all.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#ended !== undefined) return Promise.reject(new Error(`${what}: ${this.#ended.message}`));
    return new Promise((found, fail) => {
      const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.#waiters.push({
        match,
        found: (l) => {
          clearTimeout(timer);
          found(l);
        },
      });
      this.#onEnd.push((e) => {
        clearTimeout(timer);
        fail(new Error(`${what}: ${e.message}`));
      });
    });
  }
}

interface Served {
  child: ChildProcess;
  stdout: Lines;
  stderr: Lines;
  record: string;
  enode: string;
  stop(): Promise<number | null>;
}

/** `discv5 serve --listen 127.0.0.1:0 --discv4 ...args`: its record and enode once printed; killed at teardown. */
async function serve(t: ExecutionContext, ...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0', '--discv4', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const stdout = new Lines();
  const stderr = new Lines();
  // Both pipes read to the end: a full pipe would block the child.
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => stderr.push(l));
  const closed = new Promise<number | null>((r) =>
    child.once('close', (code) => {
      const why = new Error(`serve exited ${code}: ${stderr.all.join(' | ')}`);
      stdout.end(why);
      stderr.end(why);
      r(code);
    }),
  );
  const record = await stdout.next((l) => l.startsWith('enr:'), 'the record');
  const json = args.includes('--json');
  const enode = json
    ? (JSON.parse(await stdout.next((l) => l.includes('"event":"enode"'), 'the enode event')) as { enode: string })
        .enode
    : await stdout.next((l) => l.startsWith('enode://'), 'the enode line');
  return {
    child,
    stdout,
    stderr,
    record,
    enode,
    stop: () => {
      child.kill('SIGTERM');
      return closed;
    },
  };
}

/** A library node serving both protocols on UDP loopback, stopped at teardown. */
async function libraryNode(t: ExecutionContext): Promise<{ node: Discv5; v4: NonNullable<Discv5['discv4']> }> {
  const node = await Discv5.create({
    privateKey: envCrypto.generatePrivateKey(),
    crypto: envCrypto,
    bind: { ip4: { ip: '127.0.0.1', port: 0 } },
    config: { requestTimeoutMs: 5_000, refreshIntervalMs: 0 },
    discv4: {},
  });
  await node.start();
  t.teardown(() => node.stop());
  return { node, v4: node.discv4 as NonNullable<Discv5['discv4']> };
}

const idOf = (enode: string) => V4Node.fromEnode(envCrypto, enode).nodeIdHex;
const short = (id: string) => id.slice(0, 16);

test.serial(
  'serve --discv4: its enode:// after the record; discv4 and discv5 answered on one port; --discv4-bootnodes bonds',
  async (t) => {
    const lib = await libraryNode(t);
    const s = await serve(t, '--discv4-bootnodes', lib.v4.enode, '--status-every', '0.5');
    t.is(s.stdout.all.indexOf(s.enode), 1, 'the second line');
    const record = Enr.decode(s.record, envCrypto);
    const enode = V4Node.fromEnode(envCrypto, s.enode);
    t.is(enode.nodeIdHex, record.nodeIdHex, 'one key for both');
    t.is(enode.address, '127.0.0.1');
    t.is(enode.udp, record.udp as number, 'one port for both');
    // Its v4 bootnode: pinged at start (the library node has not contacted it), so live in its v4
    // table, and the status line says so.
    await s.stderr.next(
      (l) => l.includes(`v4 table + ${short(lib.node.localEnr.nodeIdHex)}`),
      'the bootnode in its table',
    );
    await s.stderr.next(
      (l) => /status: .*, v4 table [1-9]\d* \([1-9]\d* live\)$/.test(l),
      'a status line with the v4 table',
    );

    const pong = await lib.v4.ping(s.enode);
    t.is(pong.enrSeq, record.seq, 'discv4 PONG carries the record seq');
    t.like(pong.to, { ip: '127.0.0.1', udp: lib.node.addresses[0]?.port });
    const v5 = await lib.node.ping(s.record);
    t.is(v5.enrSeq, record.seq, 'discv5 PONG on the same port');
    t.is(v5.port, lib.node.addresses[0]?.port as number);

    t.is(await s.stop(), 0);
  },
);

test.serial('ping and findnode with enode:// URLs against serve --discv4; a stopped node times out', async (t) => {
  const s = await serve(t);
  const served = Enr.decode(s.record, envCrypto);
  const lib = await libraryNode(t);
  // The library node pings it: it pings back, and the library node enters its table, live.
  await lib.v4.ping(s.enode);
  await s.stderr.next((l) => l.includes(`v4 table + ${short(lib.node.localEnr.nodeIdHex)}`), 'the library node');

  const plain = await run('ping', s.enode);
  t.is(plain.code, 0, plain.err);
  t.regex(
    plain.out,
    new RegExp(
      `^pong from ${served.nodeIdHex}: record seq ${served.seq}, sees us at 127\\.0\\.0\\.1:\\d+, [\\d.]+ ms$`,
    ),
  );

  const json = await run('ping', s.enode, '--enr', '--json');
  t.is(json.code, 0, json.err);
  const answer = JSON.parse(json.out);
  t.like(answer, { nodeId: served.nodeIdHex, enrSeq: served.seq.toString(), ip: '127.0.0.1', enr: s.record });
  t.is(typeof answer.rttMs, 'number');
  const withRecord = await run('ping', s.enode, '--enr');
  t.is(withRecord.out.split('\n')[1], s.record, 'ENRREQUEST: its record on the second line');

  // Closest to the library node's key: the library node first (the asker itself is never listed).
  const key = toHex(V4Node.fromEnode(envCrypto, lib.v4.enode).publicKey);
  const found = await run('findnode', s.enode, '--target', key);
  t.is(found.code, 0, found.err);
  const lines = found.out.split('\n');
  t.true(
    lines.every((l) => l.startsWith('enode://')),
    found.out,
  );
  const first = V4Node.fromEnode(envCrypto, lines[0] as string);
  t.is(first.nodeIdHex, lib.node.localEnr.nodeIdHex);
  t.like(first, { address: '127.0.0.1', udp: lib.node.addresses[0]?.port });
  t.regex(found.err, /\d+ nodes?$/);

  const around = await run('findnode', s.enode, '--json');
  t.is(around.code, 0, around.err);
  const nodes = around.out.split('\n').map((l) => JSON.parse(l) as { nodeId: string; enode: string; udp: number });
  t.true(
    nodes.some((n) => n.nodeId === lib.node.localEnr.nodeIdHex && idOf(n.enode) === n.nodeId),
    'by default, around its own key: it knows the library node',
  );

  // The enr: forms still work on the same port.
  const v5 = await run('ping', s.record, '--enr', '--json');
  t.is(v5.code, 0, v5.err);
  t.like(JSON.parse(v5.out), { nodeId: served.nodeIdHex, enr: s.record });

  t.is(await s.stop(), 0);
  const dead = await run('ping', s.enode);
  t.is(dead.code, 1);
  t.regex(dead.err, /^discv5: .*\(ERR_REQUEST_TIMEOUT\)$/);
});

/** A datagram with a good hash but a signature no key recovers from. */
function badSignature(): Uint8Array {
  const rest = Buffer.concat([new Uint8Array(65).fill(7), Uint8Array.of(PacketType.PING), Uint8Array.of(0xc0)]);
  return Buffer.concat([envCrypto.keccak256(rest), rest]);
}

function send(packets: Uint8Array[], port: number): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((done, fail) => {
    let left = packets.length;
    socket.once('error', fail);
    for (const p of packets)
      socket.send(p, port, '127.0.0.1', (err) => {
        if (err) fail(err);
        else if (--left === 0) socket.close(() => done());
      });
  });
}

test.serial(
  'serve --discv4 --metrics: discv4 traffic as discv4_* series, not the catch-all; --json events',
  async (t) => {
    const s = await serve(t, '--metrics', '127.0.0.1:0', '--json', '--status-every', '0.5');
    const url = (
      JSON.parse(await s.stdout.next((l) => l.includes('"event":"metrics"'), 'the metrics event')) as { url: string }
    ).url;
    const record = Enr.decode(s.record, envCrypto);
    const lib = await libraryNode(t);
    await lib.v4.findNode(s.enode); // bonds first: PING, PONG, its PING back, our PONG; then FINDNODE
    t.deepEqual((await lib.v4.requestEnr(s.enode)).text, s.record);
    const key = envCrypto.generatePrivateKey();
    const expired = encodePacket(envCrypto, key, {
      type: PacketType.PING,
      version: 4,
      from: { ip: '127.0.0.1', udp: 30303, tcp: 0 },
      to: { ip: '127.0.0.1', udp: record.udp as number, tcp: 0 },
      expiration: expirationFrom(nowSeconds()) - 3_600,
    }).packet;
    await send([badSignature(), expired], record.udp as number);

    const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
      samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value ?? 0;
    let samples: Sample[] = [];
    const deadline = Date.now() + WAIT_MS;
    const drops = () =>
      value(samples, 'discv4_dropped_total', { reason: 'bad-signature' }) >= 1 &&
      value(samples, 'discv4_dropped_total', { reason: 'expired' }) >= 1;
    // Polled: the datagrams are on their way to another process, and nothing announces them.
    while (!drops() && Date.now() < deadline) {
      samples = parsePrometheus(await (await fetch(url)).text()).samples;
      if (!drops()) await new Promise((r) => setTimeout(r, 50));
    }
    t.true(drops(), 'both drops counted');
    for (const type of ['ping', 'pong', 'findnode', 'enrrequest'])
      t.true(value(samples, 'discv4_packets_received_total', { type }) >= 1, `received ${type}`);
    for (const type of ['ping', 'pong', 'neighbors', 'enrresponse'])
      t.true(value(samples, 'discv4_packets_sent_total', { type }) >= 1, `sent ${type}`);
    t.true(value(samples, 'discv4_sent_bytes_total') > 0);
    t.true(value(samples, 'discv4_table_entries', { state: 'all' }) >= 1);
    t.true(value(samples, 'discv4_table_entries', { state: 'live' }) >= 1);
    t.true(value(samples, 'discv4_bonds') >= 1);
    t.is(
      value(samples, 'discv5_dropped_total', { reason: 'malformed-header' }),
      0,
      'discv4 is not counted as bad discv5',
    );
    t.false(
      samples.some((x) => x.name === 'discv5_events_total' && /^discv4|^other$/.test(x.labels.event ?? '')),
      'no discv4 counter falls through to the catch-all',
    );
    for (const x of samples)
      for (const [k, v] of Object.entries(x.labels)) {
        t.false(/[0-9a-f]{16}/i.test(v), `${x.name} ${k}=${v} looks like an id`);
        t.false(/^\d+\.\d+\.\d+\.\d+$/.test(v), `${x.name} ${k}=${v} is an address`);
      }

    const status = JSON.parse(
      await s.stdout.next(
        (l) => /"event":"status".*"v4TableEntries":[1-9]/.test(l),
        'a status event with the v4 table',
      ),
    );
    t.true(status.v4LivePeers >= 1);
    t.true(
      s.stdout.all.some((l) => l.includes('"event":"v4-table-insert"') && l.includes(lib.node.localEnr.nodeIdHex)),
    );
    t.is(await s.stop(), 0);
  },
);

test('bad discv4 arguments exit 2 with one line', async (t) => {
  const key = 'ab'.repeat(64);
  const enode = EXECUTION_BOOTNODES.mainnet[0] as string;
  const cases = [
    ['serve', '--listen', '127.0.0.1:0', '--discv4-bootnodes', enode],
    ['serve', '--listen', '127.0.0.1:0', '--discv4', '--discv4-bootnodes', 'enode://nope@127.0.0.1:1'],
    ['serve', '--listen', '127.0.0.1:0', '--network', 'nowhere'],
    ['ping', `enode://${key}@127.0.0.1:1`], // not a point on the curve
    ['findnode', enode, '--distances', '256'],
    ['findnode', enode, '--target', 'abcd'],
    ['findnode', 'enr:-whatever', '--target', key],
  ];
  const results = await Promise.all(cases.map((args) => run(...args)));
  results.forEach((r, i) => {
    const args = (cases[i] as string[]).join(' ');
    t.is(r.code, 2, `${args}: ${r.err}`);
    t.is(r.err.split('\n').length, 1, args);
    t.true(r.err.startsWith('discv5: '), r.err);
  });
  const help = await run('serve', '--help');
  t.regex(help.out, /--discv4 \[--discv4-bootnodes ENODE,\.\.\.\]/);
});

test('--network with --discv4 seeds discv4 from the execution bootnodes of that network', (t) => {
  t.is(discv4Options({}, 'mainnet'), undefined, 'no discv4 without --discv4');
  t.deepEqual(discv4Options({ discv4: true }, undefined), { bootnodes: [] });
  const listed =
    'enode://d860a01f9722d78051619d1e2351aba3f43f943f6f00718d1b9baa4101932a1f5011f16bb2b1bb35db20d6fe28fa0bf09636d26a87d31de9ec6203eeedb1f666@127.0.0.1:30303';
  t.deepEqual(discv4Options({ discv4: true, 'discv4-bootnodes': listed }, 'sepolia')?.bootnodes, [
    listed,
    ...EXECUTION_BOOTNODES.sepolia,
  ]);
});
